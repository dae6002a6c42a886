// NEON (aarch64) row kernels: softmax, LayerNorm and the GEMM epilogue (bias,
// then activation), 4 floats at a time. NEON has no masked loads: for a row's
// last n % 4 elements the exp, activation and normalize steps run the same
// vector code on a small padded buffer, and the steps whose scalar form is
// the same arithmetic (max, scaling, the double sums) loop in scalar code.
//
// exp and erfc are the engine's own polynomial fits, with the constants of
// kernels/approx.h (which gives their derivation and error):
//   exp(x):  x = k ln2 + r, e^r = 1 + r + r^2 g(r), g of degree 4.
//   erfc(a): t = 1 / (1 + 0.4 a), erfc(a) = e^(-a^2) t P(t), P of degree 8.
#include <arm_neon.h>

#include <cmath>

#include "kernels/approx.h"
#include "kernels/neon/neon.h"
#include "kernels/ops.h"
#include "kernels/row_entries.h"

namespace nystrom::neon {
namespace {

constexpr int kW = 4;  // floats per q register

using namespace approx;  // the exp and erfc constants

// e^x per lane; NaN stays NaN (vmaxq/vminq propagate it).
inline float32x4_t exp_ps(float32x4_t x) {
  const float32x4_t lo = vdupq_n_f32(kExpLo);
  const float32x4_t xc = vminq_f32(vmaxq_f32(x, lo), vdupq_n_f32(kExpHi));
  const float32x4_t k = vrndnq_f32(vmulq_f32(xc, vdupq_n_f32(kLog2e)));
  // xc - k*kLn2Hi is exact with a fused multiply-subtract (see
  // kernels/approx.h); only the kLn2Lo step rounds.
  float32x4_t r = vfmsq_f32(xc, k, vdupq_n_f32(kLn2Hi));
  r = vfmsq_f32(r, k, vdupq_n_f32(kLn2Lo));
  float32x4_t g = vfmaq_f32(vdupq_n_f32(kExpG3), vdupq_n_f32(kExpG4), r);
  g = vfmaq_f32(vdupq_n_f32(kExpG2), g, r);
  g = vfmaq_f32(vdupq_n_f32(kExpG1), g, r);
  g = vfmaq_f32(vdupq_n_f32(kExpG0), g, r);
  const float32x4_t er = vaddq_f32(vfmaq_f32(r, g, vmulq_f32(r, r)), vdupq_n_f32(1.0f));
  const int32x4_t ki = vcvtq_s32_f32(k);
  const float32x4_t two_k = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(ki, vdupq_n_s32(127)), 23));
  const float32x4_t y = vmulq_f32(er, two_k);
  // Zero where x < kExpLo (false on NaN, so NaN lanes stay NaN).
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(y), vcltq_f32(x, lo)));
}

// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), as x / (1 + e^(-2u))
// (the reasoning is in avx2/row_kernels.cpp).
inline float32x4_t gelu_tanh(float32x4_t x) {
  const float32x4_t x2 = vmulq_f32(x, x);
  const float32x4_t poly = vfmaq_f32(vdupq_n_f32(-2.0f * kSqrt2OverPi), x2,
                                     vdupq_n_f32(-2.0f * kSqrt2OverPi * kGeluTanhC));
  const float32x4_t e = exp_ps(vmulq_f32(x, poly));  // e^(-2u)
  return vdivq_f32(x, vaddq_f32(vdupq_n_f32(1.0f), e));
}

// 0.5 x (1 + erf(x / sqrt 2)) = x Phi(x), with q = erfc(|z|) / 2:
// Phi = 1 - q for x >= 0 and q for x < 0.
inline float32x4_t gelu_erf(float32x4_t x) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  const float32x4_t z = vmulq_f32(x, vdupq_n_f32(kInvSqrt2));
  const float32x4_t a = vabsq_f32(z);
  const float32x4_t t =
      vdivq_f32(one, vfmaq_f32(one, vminq_f32(a, vdupq_n_f32(kErfcAMax)), vdupq_n_f32(kErfcT)));
  float32x4_t p = vdupq_n_f32(kErfcP[8]);
  for (int i = 7; i >= 0; --i) p = vfmaq_f32(vdupq_n_f32(kErfcP[i]), p, t);
  const float32x4_t e = exp_ps(vmulq_f32(vnegq_f32(a), a));  // e^(-a^2)
  const float32x4_t q = vmulq_f32(vmulq_f32(e, vdupq_n_f32(0.5f)), vmulq_f32(t, p));
  // All-ones where the sign bit is set (x < 0, and -0): those lanes take q.
  const uint32x4_t neg = vreinterpretq_u32_s32(vshrq_n_s32(vreinterpretq_s32_f32(x), 31));
  const float32x4_t phi = vbslq_f32(neg, q, vsubq_f32(one, q));
  return vmulq_f32(x, phi);
}

// maxNum(v, 0) gives 0 for -0 and NaN, like the reference's v > 0 ? v : 0.
inline float32x4_t relu(float32x4_t v) { return vmaxnmq_f32(v, vdupq_n_f32(0.0f)); }

// y[i] = f(y[i] + bias[i]) over the row; the tail goes through a buffer.
template <typename F>
void map_row(float* y, const float* bias, int n, F f) {
  int i = 0;
  for (; i + kW <= n; i += kW) {
    float32x4_t v = vld1q_f32(y + i);
    if (bias) v = vaddq_f32(v, vld1q_f32(bias + i));
    vst1q_f32(y + i, f(v));
  }
  if (i < n) {
    float buf[kW] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int j = 0; i + j < n; ++j) buf[j] = bias ? y[i + j] + bias[i + j] : y[i + j];
    vst1q_f32(buf, f(vld1q_f32(buf)));
    for (int j = 0; i + j < n; ++j) y[i + j] = buf[j];
  }
}

// The sums v = x + residual of 4 lanes as two double vectors (lanes 0-1 and
// 2-3): exact, since two floats add without rounding in double.
template <bool kResidual>
inline void load_v(const float* x, const float* res, int i, float64x2_t& v0, float64x2_t& v1) {
  const float32x4_t xv = vld1q_f32(x + i);
  v0 = vcvt_f64_f32(vget_low_f32(xv));
  v1 = vcvt_high_f64_f32(xv);
  if (kResidual) {
    const float32x4_t rv = vld1q_f32(res + i);
    v0 = vaddq_f64(v0, vcvt_f64_f32(vget_low_f32(rv)));
    v1 = vaddq_f64(v1, vcvt_high_f64_f32(rv));
  }
}

// LayerNorm with the residual add fused in. Like the reference, v = x +
// residual, the mean, the variance and (v - mean) * inv are all taken in
// double (2 lanes per q register); only the product with gamma and beta is
// float.
template <bool kResidual>
void layer_norm_impl(const float* x, const float* res, float* out, int n, const float* gamma,
                     const float* beta, float eps) {
  auto scalar_v = [&](int i) { return (double)x[i] + (kResidual ? (double)res[i] : 0.0); };
  float64x2_t v0, v1;

  float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
  int i = 0;
  for (; i + kW <= n; i += kW) {
    load_v<kResidual>(x, res, i, v0, v1);
    s0 = vaddq_f64(s0, v0);
    s1 = vaddq_f64(s1, v1);
  }
  double sum = vaddvq_f64(vaddq_f64(s0, s1));
  for (; i < n; ++i) sum += scalar_v(i);
  const double mean = sum / n;

  const float64x2_t mean_v = vdupq_n_f64(mean);
  s0 = s1 = vdupq_n_f64(0.0);
  for (i = 0; i + kW <= n; i += kW) {
    load_v<kResidual>(x, res, i, v0, v1);
    const float64x2_t d0 = vsubq_f64(v0, mean_v), d1 = vsubq_f64(v1, mean_v);
    s0 = vfmaq_f64(s0, d0, d0);
    s1 = vfmaq_f64(s1, d1, d1);
  }
  double var = vaddvq_f64(vaddq_f64(s0, s1));
  for (; i < n; ++i) {
    const double d = scalar_v(i) - mean;
    var += d * d;
  }
  var /= n;
  const float inv = (float)(1.0 / std::sqrt(var + eps));

  // out = float((v - mean) * inv) * gamma + beta, the last step one FMA.
  const float64x2_t inv_v = vdupq_n_f64((double)inv);
  auto normalize = [&](float64x2_t w0, float64x2_t w1, float32x4_t g, float32x4_t b) {
    const float32x2_t n0 = vcvt_f32_f64(vmulq_f64(vsubq_f64(w0, mean_v), inv_v));
    const float32x4_t n01 = vcvt_high_f32_f64(n0, vmulq_f64(vsubq_f64(w1, mean_v), inv_v));
    return vfmaq_f32(b, n01, g);
  };
  // Each store goes to indices already read, so out may alias x or residual.
  for (i = 0; i + kW <= n; i += kW) {
    load_v<kResidual>(x, res, i, v0, v1);
    vst1q_f32(out + i, normalize(v0, v1, vld1q_f32(gamma + i), vld1q_f32(beta + i)));
  }
  if (i < n) {  // through zero-padded buffers
    float xb[kW] = {0, 0, 0, 0}, rb[kW] = {0, 0, 0, 0}, g[kW] = {0, 0, 0, 0}, b[kW] = {0, 0, 0, 0};
    for (int j = 0; i + j < n; ++j) {
      xb[j] = x[i + j], g[j] = gamma[i + j], b[j] = beta[i + j];
      if (kResidual) rb[j] = res[i + j];
    }
    load_v<kResidual>(xb, rb, 0, v0, v1);
    vst1q_f32(xb, normalize(v0, v1, vld1q_f32(g), vld1q_f32(b)));
    for (int j = 0; i + j < n; ++j) out[i + j] = xb[j];
  }
}

}  // namespace

void softmax_row(float* x, int n) {
  if (n <= 0) return;
  const int tail = n % kW, body = n - tail;

  float32x4_t mxv = vdupq_n_f32(-INFINITY);
  for (int i = 0; i < body; i += kW) mxv = vmaxq_f32(mxv, vld1q_f32(x + i));
  float mx = vmaxvq_f32(mxv);
  for (int i = body; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  mxv = vdupq_n_f32(mx);

  // The sum is kept in double, so the outputs stay within a few ulp of the
  // exact softmax for any n (a float running sum drifts by ~sqrt(n) ulp).
  float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
  for (int i = 0; i < body; i += kW) {
    const float32x4_t e = exp_ps(vsubq_f32(vld1q_f32(x + i), mxv));
    vst1q_f32(x + i, e);
    s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
    s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
  }
  if (tail) {
    // Padding with -inf makes the unused lanes' exp exactly 0.
    float buf[kW] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    for (int j = 0; j < tail; ++j) buf[j] = x[body + j];
    const float32x4_t e = exp_ps(vsubq_f32(vld1q_f32(buf), mxv));
    vst1q_f32(buf, e);
    for (int j = 0; j < tail; ++j) x[body + j] = buf[j];
    s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
    s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
  }

  const float inv = (float)(1.0 / vaddvq_f64(vaddq_f64(s0, s1)));
  const float32x4_t inv_v = vdupq_n_f32(inv);
  for (int i = 0; i < body; i += kW) vst1q_f32(x + i, vmulq_f32(vld1q_f32(x + i), inv_v));
  for (int i = body; i < n; ++i) x[i] *= inv;
}

void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps) {
  layer_norm_row_by([](auto with_residual, auto... args) { layer_norm_impl<decltype(with_residual)::value>(args...); },
                    x, residual, out, n, gamma, beta, eps);
}

void bias_act_rows(float* y, size_t ldy, int rows, const float* bias, int n, ops::Act act, float scale) {
  const float32x4_t s = vdupq_n_f32(scale);
  bias_act_row_by(
      [=](auto f) {
        for (int r = 0; r < rows; ++r) {
          float* row = y + r * ldy;
          if (scale == 1.0f) map_row(row, bias, n, f);
          else map_row(row, bias, n, [=](float32x4_t v) { return vmulq_f32(f(v), s); });
        }
      },
      bias != nullptr, scale != 1.0f, act, relu, gelu_tanh, gelu_erf);
}

}  // namespace nystrom::neon
