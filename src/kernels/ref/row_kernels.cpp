// Reference row kernels: softmax, LayerNorm, the activations and the GEMM
// epilogue (bias, then activation).
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

void bias_act_rows(float* y, size_t ldy, int rows, const float* bias, int n, ops::Act act, float scale) {
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i) y[r * ldy + i] = activation(y[r * ldy + i] + (bias ? bias[i] : 0.0f), act) * scale;
}

}  // namespace nystrom::ref
