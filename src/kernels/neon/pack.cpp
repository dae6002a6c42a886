// GEMM panel packing with 4 x 4 NEON transposes (trn1/trn2 of row pairs,
// then the 64-bit halves recombined): four loads, four stores of four
// floats instead of a scalar move per float.
#include <arm_neon.h>

#include "kernels/neon/neon.h"
#include "kernels/pack_panel.h"

namespace nystrom::neon {

void pack_panel(const float* src, size_t ld, int rows, int R, int kc, float* dst) {
  pack_panel_by4(src, ld, rows, R, kc, dst, [](const float* const* s, int k, float* d, int R) {
    const float32x4x2_t t01 = vtrnq_f32(vld1q_f32(s[0] + k), vld1q_f32(s[1] + k));
    const float32x4x2_t t23 = vtrnq_f32(vld1q_f32(s[2] + k), vld1q_f32(s[3] + k));
    vst1q_f32(d, vcombine_f32(vget_low_f32(t01.val[0]), vget_low_f32(t23.val[0])));
    vst1q_f32(d + R, vcombine_f32(vget_low_f32(t01.val[1]), vget_low_f32(t23.val[1])));
    vst1q_f32(d + 2 * (size_t)R, vcombine_f32(vget_high_f32(t01.val[0]), vget_high_f32(t23.val[0])));
    vst1q_f32(d + 3 * (size_t)R, vcombine_f32(vget_high_f32(t01.val[1]), vget_high_f32(t23.val[1])));
  });
}

}  // namespace nystrom::neon
