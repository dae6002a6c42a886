// The machine's FMA limit for this instruction set: independent chains of
// vector FMAs with no memory traffic (used by nystrom-bench as the peak).
#include <arm_neon.h>

#include "kernels/neon/neon.h"
#include "kernels/peak_chains.h"

namespace nystrom::neon {

double fma_peak_loop(long iters, float* sink) {
  const float32x4_t x = vdupq_n_f32(0.999999f), y = vdupq_n_f32(1e-7f);
  vst1q_f32(sink, run_peak_chains<16, float32x4_t>(
                      iters, [](int i) { return vdupq_n_f32(0.001f * (float)i); },
                      [&](float32x4_t a) { return vfmaq_f32(y, a, x); },
                      [](float32x4_t a, float32x4_t b) { return vaddq_f32(a, b); }));
  return (double)iters * 16 * 4 * 2;
}

}  // namespace nystrom::neon
