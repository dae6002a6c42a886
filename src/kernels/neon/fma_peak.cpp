// The machine's FMA limit for this instruction set: independent chains of
// vector FMAs with no memory traffic (used by nystrom-bench as the peak).
#include <arm_neon.h>

#include "kernels/neon/neon.h"

namespace nystrom::neon {

double fma_peak_loop(long iters, float* sink) {
  float32x4_t acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = vdupq_n_f32(0.001f * (float)i);
  const float32x4_t x = vdupq_n_f32(0.999999f), y = vdupq_n_f32(1e-7f);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = vfmaq_f32(y, acc[i], x);
  float32x4_t s = acc[0];
  for (int i = 1; i < 16; ++i) s = vaddq_f32(s, acc[i]);
  vst1q_f32(sink, s);
  return (double)iters * 16 * 4 * 2;
}

}  // namespace nystrom::neon
