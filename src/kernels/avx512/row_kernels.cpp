// AVX-512 row kernels: softmax, LayerNorm and the GEMM epilogue (bias, then
// activation), 16 floats at a time. Row tails use masked loads and stores, so
// every element takes the same arithmetic path whatever n is. The vector
// exp and activations are in avx512/activations.h.
#include <cmath>

#include "kernels/avx512/activations.h"
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"
#include "kernels/ops.h"
#include "kernels/row_entries.h"

namespace nystrom::avx512 {
namespace {

constexpr int kW = 16;  // floats per zmm register

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
