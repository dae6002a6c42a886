// NEON row kernels of quantized and half-precision weights: the activation
// quantizer of qgemm (exactly quantize_row_q8_act) and f16 rows.
#include <arm_neon.h>

#include <cmath>

#include "format/half.h"
#include "kernels/neon/neon.h"

namespace nystrom::neon {

void quantize_act_row(const float* x, int k, int8_t* q, float* d, int32_t* corr) {
  const float32x4_t inf = vdupq_n_f32(INFINITY);
  for (int b = 0; b < k / 32; ++b, x += 32, q += 32) {
    float32x4_t v[8];
    uint32x4_t ok = vdupq_n_u32(~0u);
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int i = 0; i < 8; ++i) {
      v[i] = vld1q_f32(x + 4 * i);
      const float32x4_t a = vabsq_f32(v[i]);
      ok = vandq_u32(ok, vcltq_f32(a, inf));  // false for inf and NaN
      m = vmaxq_f32(m, a);
    }
    const bool finite = vminvq_u32(ok) != 0;
    const float db = finite ? vmaxvq_f32(m) / 127.0f : NAN;
    int32x4_t sum = vdupq_n_s32(0);
    int16x8_t h[4];
    for (int i = 0; i < 4; ++i) {
      int32x4_t lo = vdupq_n_s32(0), hi = lo;
      if (finite && db != 0.0f) {
        // FRINTA rounds halfway cases away from zero: the q8_0 rule.
        const float32x4_t dv = vdupq_n_f32(db);
        lo = vcvtq_s32_f32(vrndaq_f32(vdivq_f32(v[2 * i], dv)));
        hi = vcvtq_s32_f32(vrndaq_f32(vdivq_f32(v[2 * i + 1], dv)));
      }
      sum = vaddq_s32(sum, vaddq_s32(lo, hi));
      h[i] = vcombine_s16(vmovn_s32(lo), vmovn_s32(hi));
    }
    vst1q_s8(q, vcombine_s8(vmovn_s16(h[0]), vmovn_s16(h[1])));
    vst1q_s8(q + 16, vcombine_s8(vmovn_s16(h[2]), vmovn_s16(h[3])));
    d[b] = db;
    corr[b] = -128 * vaddvq_s32(sum);
  }
}

void f16_to_f32_row(const uint16_t* src, float* dst, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
  for (; i < n; ++i) dst[i] = f16_to_float(src[i]);
}

}  // namespace nystrom::neon
