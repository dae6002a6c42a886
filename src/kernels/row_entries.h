// The two row entry points every SIMD level builds the same way from its own
// vector code (included by each level's row_kernels.cpp, so compiled with
// that level's flags):
//  - layer_norm_row: the level's LayerNorm body, chosen once per row for
//    a residual or none: body(std::true_type / std::false_type, x,
//    residual, out, n, gamma, beta, eps);
//  - bias_act_rows: y = act(y + bias) * scale by the level's map(f) over
//    each row, f the level's vector function of the activation (map applies
//    the scale; Act::None without a bias or a scale leaves y as it is).
#pragma once
#include <type_traits>

#include "kernels/ops.h"

namespace nystrom {

template <typename Body>
inline void layer_norm_row_by(Body body, const float* x, const float* residual, float* out, int n,
                              const float* gamma, const float* beta, float eps) {
  if (n <= 0) return;
  if (residual)
    body(std::true_type{}, x, residual, out, n, gamma, beta, eps);
  else
    body(std::false_type{}, x, nullptr, out, n, gamma, beta, eps);
}

template <typename Map, typename Relu, typename GeluTanh, typename GeluErf>
inline void bias_act_row_by(Map map, bool has_bias, bool scaled, ops::Act act, Relu relu, GeluTanh gelu_tanh,
                            GeluErf gelu_erf) {
  switch (act) {
    case ops::Act::None:
      if (has_bias || scaled) map([](auto v) { return v; });
      return;
    case ops::Act::Relu: map(relu); return;
    case ops::Act::GeluTanh: map(gelu_tanh); return;
    case ops::Act::GeluErf: map(gelu_erf); return;
  }
}

}  // namespace nystrom
