// AVX2+FMA row kernels: softmax, LayerNorm and the GEMM epilogue (bias, then
// activation), 8 floats at a time. Row tails go through masked loads and
// stores, so every element takes the same arithmetic path whatever n is.
//
// exp and erfc are the engine's own polynomial fits; kernels/approx.h holds
// their constants (shared with the avx512 and neon row kernels) and gives
// their derivation and error.
#include <immintrin.h>

#include <cmath>

#include "kernels/approx.h"
#include "kernels/avx2/avx2.h"
#include "kernels/ops.h"
#include "kernels/row_entries.h"

namespace nystrom::avx2 {
namespace {

constexpr int kW = 8;  // floats per ymm register

using namespace approx;  // the exp and erfc constants

// Lanes 0 .. rem-1 set, for maskload/maskstore of a row tail (0 < rem < 8).
inline __m256i tail_mask(int rem) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

// e^x per lane; NaN stays NaN (max/min return their second operand on NaN).
inline __m256 exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(kExpLo);
  const __m256 xc = _mm256_min_ps(_mm256_set1_ps(kExpHi), _mm256_max_ps(lo, x));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // With FMA, xc - k*kLn2Hi is exact (kernels/approx.h); only the kLn2Lo
  // step rounds.
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Hi), xc);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Lo), r);
  __m256 g = _mm256_fmadd_ps(_mm256_set1_ps(kExpG4), r, _mm256_set1_ps(kExpG3));
  g = _mm256_fmadd_ps(g, r, _mm256_set1_ps(kExpG2));
  g = _mm256_fmadd_ps(g, r, _mm256_set1_ps(kExpG1));
  g = _mm256_fmadd_ps(g, r, _mm256_set1_ps(kExpG0));
  const __m256 er = _mm256_add_ps(_mm256_fmadd_ps(g, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i ki = _mm256_cvtps_epi32(k);
  const __m256 two_k = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ki, _mm256_set1_epi32(127)), 23));
  const __m256 y = _mm256_mul_ps(er, two_k);
  return _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), y);
}

// 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), computed as the
// identical x / (1 + e^(-2u)): one exp, no cancellation for negative x, and
// exp's clamp keeps large |x| finite (the result goes to x, or to a tiny
// negative number where the reference gives 0).
inline __m256 gelu_tanh(__m256 x) {
  const __m256 x2 = _mm256_mul_ps(x, x);
  const __m256 poly = _mm256_fmadd_ps(x2, _mm256_set1_ps(-2.0f * kSqrt2OverPi * kGeluTanhC),
                                      _mm256_set1_ps(-2.0f * kSqrt2OverPi));
  const __m256 e = exp_ps(_mm256_mul_ps(x, poly));  // e^(-2u)
  return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// 0.5 x (1 + erf(x / sqrt 2)) = x Phi(x), with Phi from q = erfc(|z|) / 2:
// Phi = 1 - q for x >= 0 and q for x < 0 (no cancellation on the left side).
inline __m256 gelu_erf(__m256 x) {
  const __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(kInvSqrt2));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), z);
  const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f),
                                 _mm256_fmadd_ps(_mm256_min_ps(a, _mm256_set1_ps(kErfcAMax)),
                                                 _mm256_set1_ps(kErfcT), _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(kErfcP[8]);
  for (int i = 7; i >= 0; --i) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfcP[i]));
  const __m256 e = exp_ps(_mm256_mul_ps(_mm256_xor_ps(a, _mm256_set1_ps(-0.0f)), a));  // e^(-a^2)
  const __m256 q = _mm256_mul_ps(_mm256_mul_ps(e, _mm256_set1_ps(0.5f)), _mm256_mul_ps(t, p));
  const __m256 phi = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), q), q, x);  // by x's sign
  return _mm256_mul_ps(x, phi);
}

// max(v, 0) returns 0 for -0 and NaN, like the reference's v > 0 ? v : 0.
inline __m256 relu(__m256 v) { return _mm256_max_ps(v, _mm256_setzero_ps()); }

// y[i] = f(y[i] + bias[i]) over the row; the tail uses masked loads/stores.
template <typename F>
void map_row(float* y, const float* bias, int n, F f) {
  int i = 0;
  for (; i + kW <= n; i += kW) {
    __m256 v = _mm256_loadu_ps(y + i);
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + i));
    _mm256_storeu_ps(y + i, f(v));
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    __m256 v = _mm256_maskload_ps(y + i, m);
    if (bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias + i, m));
    _mm256_maskstore_ps(y + i, m, f(v));
  }
}

// The sums v = x + residual of 8 lanes as two double vectors (lanes 0-3 and
// 4-7): exact, since two floats add without rounding in double.
template <bool kResidual>
inline void load_v(const float* x, const float* res, int i, __m256d& v0, __m256d& v1) {
  const __m256 xv = _mm256_loadu_ps(x + i);
  v0 = _mm256_cvtps_pd(_mm256_castps256_ps128(xv));
  v1 = _mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1));
  if (kResidual) {
    const __m256 rv = _mm256_loadu_ps(res + i);
    v0 = _mm256_add_pd(v0, _mm256_cvtps_pd(_mm256_castps256_ps128(rv)));
    v1 = _mm256_add_pd(v1, _mm256_cvtps_pd(_mm256_extractf128_ps(rv, 1)));
  }
}

// LayerNorm with the residual add fused in. Like the reference, v = x +
// residual, the mean, the variance and (v - mean) * inv are all taken in
// double (4 lanes per ymm); only the product with gamma and beta is float.
// So the result matches the reference to about an ulp whatever n and
// whatever common offset the row has.
template <bool kResidual>
void layer_norm_impl(const float* x, const float* res, float* out, int n, const float* gamma,
                     const float* beta, float eps) {
  auto scalar_v = [&](int i) { return (double)x[i] + (kResidual ? (double)res[i] : 0.0); };
  __m256d v0, v1;

  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int i = 0;
  for (; i + kW <= n; i += kW) {
    load_v<kResidual>(x, res, i, v0, v1);
    s0 = _mm256_add_pd(s0, v0);
    s1 = _mm256_add_pd(s1, v1);
  }
  double sum = hsum(_mm256_add_pd(s0, s1));
  for (; i < n; ++i) sum += scalar_v(i);
  const double mean = sum / n;

  const __m256d mean_v = _mm256_set1_pd(mean);
  s0 = s1 = _mm256_setzero_pd();
  for (i = 0; i + kW <= n; i += kW) {
    load_v<kResidual>(x, res, i, v0, v1);
    const __m256d d0 = _mm256_sub_pd(v0, mean_v), d1 = _mm256_sub_pd(v1, mean_v);
    s0 = _mm256_fmadd_pd(d0, d0, s0);
    s1 = _mm256_fmadd_pd(d1, d1, s1);
  }
  double var = hsum(_mm256_add_pd(s0, s1));
  for (; i < n; ++i) {
    const double d = scalar_v(i) - mean;
    var += d * d;
  }
  var /= n;
  const float inv = (float)(1.0 / std::sqrt(var + eps));

  // out = float((v - mean) * inv) * gamma + beta, the last step one FMA.
  const __m256d inv_v = _mm256_set1_pd((double)inv);
  auto normalize = [&](__m256d w0, __m256d w1, __m256 g, __m256 b) {
    const __m128 n0 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(w0, mean_v), inv_v));
    const __m128 n1 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(w1, mean_v), inv_v));
    return _mm256_fmadd_ps(_mm256_insertf128_ps(_mm256_castps128_ps256(n0), n1, 1), g, b);
  };
  // Each store goes to indices already read, so out may alias x or residual.
  for (i = 0; i + kW <= n; i += kW) {
    load_v<kResidual>(x, res, i, v0, v1);
    _mm256_storeu_ps(out + i, normalize(v0, v1, _mm256_loadu_ps(gamma + i), _mm256_loadu_ps(beta + i)));
  }
  if (i < n) {  // masked-off lanes compute on zeros and are not stored
    const __m256i m = tail_mask(n - i);
    const __m256 xv = _mm256_maskload_ps(x + i, m);
    v0 = _mm256_cvtps_pd(_mm256_castps256_ps128(xv));
    v1 = _mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1));
    if (kResidual) {
      const __m256 rv = _mm256_maskload_ps(res + i, m);
      v0 = _mm256_add_pd(v0, _mm256_cvtps_pd(_mm256_castps256_ps128(rv)));
      v1 = _mm256_add_pd(v1, _mm256_cvtps_pd(_mm256_extractf128_ps(rv, 1)));
    }
    _mm256_maskstore_ps(out + i, m,
                        normalize(v0, v1, _mm256_maskload_ps(gamma + i, m), _mm256_maskload_ps(beta + i, m)));
  }
}

}  // namespace

void softmax_row(float* x, int n) {
  if (n <= 0) return;
  const int tail = n % kW, body = n - tail;
  const __m256i m = tail_mask(tail);

  __m256 mx = _mm256_set1_ps(-INFINITY);
  for (int i = 0; i < body; i += kW) mx = _mm256_max_ps(mx, _mm256_loadu_ps(x + i));
  if (tail) {
    const __m256 v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(x + body, m),
                                      _mm256_castsi256_ps(m));
    mx = _mm256_max_ps(mx, v);
  }
  const __m256 mxv = _mm256_set1_ps(hmax(mx));

  // The sum is kept in double, so the outputs stay within a few ulp of the
  // exact softmax for any n (a float running sum drifts by ~sqrt(n) ulp).
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  auto accumulate = [&](__m256 e) {
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  };
  for (int i = 0; i < body; i += kW) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mxv));
    _mm256_storeu_ps(x + i, e);
    accumulate(e);
  }
  if (tail) {
    const __m256 e = _mm256_and_ps(exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + body, m), mxv)),
                                   _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(x + body, m, e);
    accumulate(e);
  }

  const __m256 inv = _mm256_set1_ps((float)(1.0 / hsum(_mm256_add_pd(s0, s1))));
  for (int i = 0; i < body; i += kW) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  if (tail) _mm256_maskstore_ps(x + body, m, _mm256_mul_ps(_mm256_maskload_ps(x + body, m), inv));
}

void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps) {
  layer_norm_row_by([](auto with_residual, auto... args) { layer_norm_impl<decltype(with_residual)::value>(args...); },
                    x, residual, out, n, gamma, beta, eps);
}

void bias_act_rows(float* y, size_t ldy, int rows, const float* bias, int n, ops::Act act, float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  bias_act_row_by(
      [=](auto f) {
        for (int r = 0; r < rows; ++r) {
          float* row = y + r * ldy;
          if (scale == 1.0f) map_row(row, bias, n, f);
          else map_row(row, bias, n, [=](__m256 v) { return _mm256_mul_ps(f(v), s); });
        }
      },
      bias != nullptr, scale != 1.0f, act, relu, gelu_tanh, gelu_erf);
}

}  // namespace nystrom::avx2
