// Row-wise and element-wise reference kernels: softmax, LayerNorm, activations.
#include <cmath>

#include "kernels/ref/ref.h"

namespace nystrom::ref {

void softmax_row(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  float inv = 1.0f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps) {
  // Two passes over the summed row (mean, then variance) as PyTorch does;
  // accumulated in double so the reference is more accurate than what it checks.
  double mean = 0.0;
  for (int i = 0; i < n; ++i) mean += (double)x[i] + (residual ? residual[i] : 0.0f);
  mean /= n;
  double var = 0.0;
  for (int i = 0; i < n; ++i) {
    double d = ((double)x[i] + (residual ? residual[i] : 0.0f)) - mean;
    var += d * d;
  }
  var /= n;
  float inv = (float)(1.0 / std::sqrt(var + eps));
  for (int i = 0; i < n; ++i) {
    double v = (double)x[i] + (residual ? residual[i] : 0.0f);
    out[i] = (float)((v - mean) * inv) * gamma[i] + beta[i];
  }
}

float activation(float x, ops::Act act) {
  switch (act) {
    case ops::Act::None: return x;
    case ops::Act::Relu: return x > 0.0f ? x : 0.0f;
    case ops::Act::GeluErf: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case ops::Act::GeluTanh: {
      const float k = 0.7978845608028654f;  // sqrt(2/pi)
      return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
    }
  }
  return x;
}

}  // namespace nystrom::ref

namespace nystrom::ref {

double fma_peak_loop(long iters, float* sink) {
  float acc[8];
  for (int i = 0; i < 8; ++i) acc[i] = 0.001f * (float)i;
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 8; ++i) acc[i] = std::fma(acc[i], 0.999999f, 1e-7f);
  float s = 0.0f;
  for (int i = 0; i < 8; ++i) s += acc[i];
  *sink = s;
  return (double)iters * 8 * 2;
}

}  // namespace nystrom::ref
