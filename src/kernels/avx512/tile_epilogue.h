// The GEMM epilogue (bias, activation, scale) applied to a register tile
// before it is stored, for the avx512 micro-kernels' fused entries: with
// bias_act_rows' operations in its order, so a fused kernel gives the bits
// of the plain kernel followed by bias_act_rows, without writing C and
// reading it back.
#pragma once

#include "kernels/avx512/activations.h"
#include "kernels/avx512/simd.h"
#include "kernels/ops.h"
#include "kernels/row_entries.h"

namespace nystrom::avx512 {

// store_tile_x32 with the epilogue between the sums and the store:
// (acc [+ C]) + bias, then act, then * scale.
inline void store_tile_x32_epilogue(const __m512 (*acc)[2], int mr, int nr, float* c, int ldc, bool accumulate,
                                    const float* bias, ops::Act act, float scale) {
  if (act == ops::Act::None && !bias && scale == 1.0f) return store_tile_x32(acc, mr, nr, c, ldc, accumulate);
  const __m512 b[2] = {bias ? _mm512_maskz_loadu_ps(first_lanes(nr), bias) : _mm512_setzero_ps(),
                       bias ? _mm512_maskz_loadu_ps(first_lanes(nr - 16), bias + 16) : _mm512_setzero_ps()};
  const __m512 s = _mm512_set1_ps(scale);
  bias_act_row_by(
      [&](auto f) {
        store_tile_x32_map(acc, mr, nr, c, ldc, accumulate, [&](__m512 v, int h) {
          if (bias) v = _mm512_add_ps(v, b[h]);
          v = f(v);
          return scale != 1.0f ? _mm512_mul_ps(v, s) : v;
        });
      },
      // Lambdas, not the functions' names: GCC called those through a
      // pointer, a call per vector.
      bias != nullptr, scale != 1.0f, act, [](__m512 v) { return relu(v); },
      [](__m512 v) { return gelu_tanh(v); }, [](__m512 v) { return gelu_erf(v); });
}

}  // namespace nystrom::avx512
