// The loops of GEMM panel packing (contract: KernelTable::pack_panel in
// kernels/kernel_table.h) around a per-ISA 4 x 4 transpose: transpose4(s, k, d,
// R) reads 4 floats from k of each of the rows s[0..3] and writes them as 4
// rows of 4 at d, d + R, d + 2R, d + 3R. Plain data movement: the result is
// the reference's bit for bit.
#pragma once
#include <cstddef>

namespace nystrom {

template <typename Transpose4>
inline void pack_panel_by4(const float* src, size_t ld, int rows, int R, int kc, float* dst, Transpose4 transpose4) {
  const int k4 = kc / 4 * 4;
  int r = 0;
  for (; r + 4 <= rows; r += 4) {  // groups of four rows, k in steps of four
    const float* s[4] = {src + (size_t)r * ld, src + (size_t)(r + 1) * ld, src + (size_t)(r + 2) * ld,
                         src + (size_t)(r + 3) * ld};
    float* d = dst + r;
    for (int k = 0; k < k4; k += 4, d += 4 * (size_t)R) transpose4(s, k, d, R);
    for (int k = k4; k < kc; ++k, d += R) d[0] = s[0][k], d[1] = s[1][k], d[2] = s[2][k], d[3] = s[3][k];
  }
  for (; r < rows; ++r)  // the last 1-3 rows
    for (int k = 0; k < kc; ++k) dst[(size_t)k * R + r] = src[(size_t)r * ld + k];
  for (; r < R; ++r)  // padding rows
    for (int k = 0; k < kc; ++k) dst[(size_t)k * R + r] = 0.0f;
}

}  // namespace nystrom
