// The scalar level's FMA limit: independent chains of scalar FMAs with no
// memory traffic (kernels/peak_chains.h).
#include <cmath>

#include "kernels/peak_chains.h"
#include "kernels/ref/ref.h"

namespace nystrom::ref {

double fma_peak_loop(long iters, float* sink) {
  *sink = run_peak_chains<8, float>(
      iters, [](int i) { return 0.001f * (float)i; }, [](float a) { return std::fma(a, 0.999999f, 1e-7f); },
      [](float a, float b) { return a + b; });
  return (double)iters * 8 * 2;
}

}  // namespace nystrom::ref
