// AVX-512 row kernels: softmax, LayerNorm and the GEMM epilogue (bias, then
// activation), 16 floats at a time. Row tails use masked loads and stores, so
// every element takes the same arithmetic path whatever n is.
//
// exp and erfc are the engine's own polynomial fits, with the constants of
// kernels/approx.h (which gives their derivation and error):
//   exp(x):  x = k ln2 + r, e^r = 1 + r + r^2 g(r), g of degree 4.
//   erfc(a): t = 1 / (1 + 0.4 a), erfc(a) = e^(-a^2) t P(t), P of degree 8.
#include <cmath>

#include "kernels/approx.h"
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"
#include "kernels/ops.h"
#include "kernels/row_entries.h"

namespace nystrom::avx512 {
namespace {

constexpr int kW = 16;  // floats per zmm register

using namespace approx;  // the exp and erfc constants

// e^x per lane; NaN stays NaN (max/min return their second operand on NaN).
inline __m512 exp_ps(__m512 x) {
  const __m512 lo = _mm512_set1_ps(kExpLo);
  const __m512 xc = _mm512_min_ps(_mm512_set1_ps(kExpHi), _mm512_max_ps(lo, x));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // xc - k*kLn2Hi is exact with FMA (see kernels/approx.h); only the
  // kLn2Lo step rounds.
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kLn2Hi), xc);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kLn2Lo), r);
  __m512 g = _mm512_fmadd_ps(_mm512_set1_ps(kExpG4), r, _mm512_set1_ps(kExpG3));
  g = _mm512_fmadd_ps(g, r, _mm512_set1_ps(kExpG2));
  g = _mm512_fmadd_ps(g, r, _mm512_set1_ps(kExpG1));
  g = _mm512_fmadd_ps(g, r, _mm512_set1_ps(kExpG0));
  const __m512 er = _mm512_add_ps(_mm512_fmadd_ps(g, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  const __m512i ki = _mm512_cvtps_epi32(k);
  const __m512 two_k = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(ki, _mm512_set1_epi32(127)), 23));
  // Zero where x < kExpLo; the compare is true on NaN, so NaN lanes stay NaN.
  return _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(x, lo, _CMP_NLT_UQ), er, two_k);
}

// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), as x / (1 + e^(-2u))
// (the reasoning is in avx2/row_kernels.cpp).
inline __m512 gelu_tanh(__m512 x) {
  const __m512 x2 = _mm512_mul_ps(x, x);
  const __m512 poly = _mm512_fmadd_ps(x2, _mm512_set1_ps(-2.0f * kSqrt2OverPi * kGeluTanhC),
                                      _mm512_set1_ps(-2.0f * kSqrt2OverPi));
  const __m512 e = exp_ps(_mm512_mul_ps(x, poly));  // e^(-2u)
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// 1 / d for d in [1, 1 + kErfcT kErfcAMax] = [1, 3.4], with the bits of
// the division but without vdivps (one per 16 values was a third of the
// GELU's time): rcp14's estimate, one Newton step (within an ulp), then
// Markstein's correction r + r (1 - d r), whose residual the FMA gives
// exactly. Over every float of [1, 3.4] this equals 1 / d but for d = 2 -
// 2^-23, where 1 / d lies just above a tie that the correction rounds
// to even, so that one value is set (checked for every float of the range
// when written; tests/kernels/test_row_kernels.cpp holds the GELU to the
// division's bits on a dense grid).
inline __m512 reciprocal_1_to_3_4(__m512 d) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 r0 = _mm512_rcp14_ps(d);
  const __m512 r1 = _mm512_fmadd_ps(r0, _mm512_fnmadd_ps(d, r0, one), r0);
  const __m512 r2 = _mm512_fmadd_ps(r1, _mm512_fnmadd_ps(d, r1, one), r1);
  const __mmask16 tie = _mm512_cmp_ps_mask(d, _mm512_set1_ps(0x1.fffffep0f), _CMP_EQ_OQ);
  return _mm512_mask_mov_ps(r2, tie, _mm512_set1_ps(0x1.000002p-1f));
}

// 0.5 x (1 + erf(x / sqrt 2)) = x Phi(x), with q = erfc(|z|) / 2:
// Phi = 1 - q for x >= 0 and q for x < 0.
inline __m512 gelu_erf(__m512 x) {
  const __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(kInvSqrt2));
  const __m512 a = _mm512_abs_ps(z);
  // min() maps NaN to kErfcAMax (its second operand), so d stays in range;
  // a NaN x still gives NaN through the final product.
  const __m512 t = reciprocal_1_to_3_4(_mm512_fmadd_ps(_mm512_min_ps(a, _mm512_set1_ps(kErfcAMax)),
                                                        _mm512_set1_ps(kErfcT), _mm512_set1_ps(1.0f)));
  __m512 p = _mm512_set1_ps(kErfcP[8]);
  for (int i = 7; i >= 0; --i) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kErfcP[i]));
  const __m512 e = exp_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a));  // e^(-a^2)
  const __m512 q = _mm512_mul_ps(_mm512_mul_ps(e, _mm512_set1_ps(0.5f)), _mm512_mul_ps(t, p));
  // Lanes with the sign bit set (x < 0, and -0) take q, the others 1 - q.
  const __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(x));
  const __m512 phi = _mm512_mask_mov_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), q), neg, q);
  return _mm512_mul_ps(x, phi);
}

// max(v, 0) returns 0 for -0 and NaN, like the reference's v > 0 ? v : 0.
inline __m512 relu(__m512 v) { return _mm512_max_ps(v, _mm512_setzero_ps()); }

// y[i] = f(y[i] + bias[i]) over the row; the tail is one masked step.
template <typename F>
void map_row(float* y, const float* bias, int n, F f) {
  int i = 0;
  for (; i + kW <= n; i += kW) {
    __m512 v = _mm512_loadu_ps(y + i);
    if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + i));
    _mm512_storeu_ps(y + i, f(v));
  }
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    __m512 v = _mm512_maskz_loadu_ps(m, y + i);
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + i));
    _mm512_mask_storeu_ps(y + i, m, f(v));
  }
}

// The two double halves of a float vector.
inline __m512d lo_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d hi_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)); }

// The sums v = x + residual of the lanes in m as two double vectors (lanes
// 0-7 and 8-15; masked-off lanes are 0): exact, since two floats add without
// rounding in double.
template <bool kResidual>
inline void load_v(const float* x, const float* res, int i, __mmask16 m, __m512d& v0, __m512d& v1) {
  const __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
  v0 = lo_pd(xv);
  v1 = hi_pd(xv);
  if (kResidual) {
    const __m512 rv = _mm512_maskz_loadu_ps(m, res + i);
    v0 = _mm512_add_pd(v0, lo_pd(rv));
    v1 = _mm512_add_pd(v1, hi_pd(rv));
  }
}

// LayerNorm with the residual add fused in. Like the reference, v = x +
// residual, the mean, the variance and (v - mean) * inv are all taken in
// double (8 lanes per zmm); only the product with gamma and beta is float.
// Every pass ends in one masked step for the row's tail.
template <bool kResidual>
void layer_norm_impl(const float* x, const float* res, float* out, int n, const float* gamma,
                     const float* beta, float eps) {
  __m512d v0, v1;

  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  for (int i = 0; i < n; i += kW) {
    load_v<kResidual>(x, res, i, first_lanes(n - i), v0, v1);
    s0 = _mm512_add_pd(s0, v0);
    s1 = _mm512_add_pd(s1, v1);
  }
  const double mean = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) / n;

  // Masked-off lanes must contribute 0 here, not mean^2.
  const __m512d mean_v = _mm512_set1_pd(mean);
  s0 = s1 = _mm512_setzero_pd();
  for (int i = 0; i < n; i += kW) {
    const __mmask16 m = first_lanes(n - i);
    load_v<kResidual>(x, res, i, m, v0, v1);
    const __m512d d0 = _mm512_maskz_sub_pd((__mmask8)m, v0, mean_v);
    const __m512d d1 = _mm512_maskz_sub_pd((__mmask8)(m >> 8), v1, mean_v);
    s0 = _mm512_fmadd_pd(d0, d0, s0);
    s1 = _mm512_fmadd_pd(d1, d1, s1);
  }
  const double var = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) / n;
  const float inv = (float)(1.0 / std::sqrt(var + eps));

  // out = float((v - mean) * inv) * gamma + beta, the last step one FMA. Each
  // store goes to indices already read, so out may alias x or residual.
  const __m512d inv_v = _mm512_set1_pd((double)inv);
  for (int i = 0; i < n; i += kW) {
    const __mmask16 m = first_lanes(n - i);
    load_v<kResidual>(x, res, i, m, v0, v1);
    const __m256 n0 = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(v0, mean_v), inv_v));
    const __m256 n1 = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(v1, mean_v), inv_v));
    const __m512 y = _mm512_fmadd_ps(_mm512_insertf32x8(_mm512_castps256_ps512(n0), n1, 1),
                                     _mm512_maskz_loadu_ps(m, gamma + i), _mm512_maskz_loadu_ps(m, beta + i));
    _mm512_mask_storeu_ps(out + i, m, y);
  }
}

}  // namespace

void softmax_row(float* x, int n) {
  if (n <= 0) return;
  const int tail = n % kW, body = n - tail;
  const __mmask16 m = first_lanes(tail);

  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int i = 0; i < body; i += kW) mx = _mm512_max_ps(mx, _mm512_loadu_ps(x + i));
  if (tail) mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, x + body));
  const __m512 mxv = _mm512_set1_ps(_mm512_reduce_max_ps(mx));

  // The sum is kept in double, so the outputs stay within a few ulp of the
  // exact softmax for any n (a float running sum drifts by ~sqrt(n) ulp).
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  for (int i = 0; i < body; i += kW) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), mxv));
    _mm512_storeu_ps(x + i, e);
    s0 = _mm512_add_pd(s0, lo_pd(e));
    s1 = _mm512_add_pd(s1, hi_pd(e));
  }
  if (tail) {
    const __m512 e = _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + body), mxv)));
    _mm512_mask_storeu_ps(x + body, m, e);
    s0 = _mm512_add_pd(s0, lo_pd(e));
    s1 = _mm512_add_pd(s1, hi_pd(e));
  }

  const __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1))));
  for (int i = 0; i < body; i += kW) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (tail) _mm512_mask_storeu_ps(x + body, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + body), inv));
}

void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps) {
  layer_norm_row_by([](auto with_residual, auto... args) { layer_norm_impl<decltype(with_residual)::value>(args...); },
                    x, residual, out, n, gamma, beta, eps);
}

void bias_act_rows(float* y, size_t ldy, int rows, const float* bias, int n, ops::Act act, float scale) {
  const __m512 s = _mm512_set1_ps(scale);
  bias_act_row_by(
      [=](auto f) {
        for (int r = 0; r < rows; ++r) {
          float* row = y + r * ldy;
          if (scale == 1.0f) map_row(row, bias, n, f);
          else map_row(row, bias, n, [=](__m512 v) { return _mm512_mul_ps(f(v), s); });
        }
      },
      bias != nullptr, scale != 1.0f, act, relu, gelu_tanh, gelu_erf);
}

}  // namespace nystrom::avx512
