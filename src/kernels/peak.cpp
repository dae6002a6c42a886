#include "kernels/peak.h"

#include "kernels/ref/ref.h"
#if defined(__x86_64__)
#include "kernels/avx2/avx2.h"
#include "kernels/avx512/avx512.h"
#endif
#if defined(__aarch64__)
#include "kernels/neon/neon.h"
#endif

namespace nystrom {

double fma_peak_loop(Isa isa, long iters, float* sink) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::Avx2: return avx2::fma_peak_loop(iters, sink);
    case Isa::Avx512: return avx512::fma_peak_loop(iters, sink);
#endif
#if defined(__aarch64__)
    case Isa::Neon: return neon::fma_peak_loop(iters, sink);
#endif
    default: return ref::fma_peak_loop(iters, sink);
  }
}

double int8_peak_loop(Isa isa, long iters, int* sink) {
#if defined(__x86_64__)
  if (isa == Isa::Avx512) return avx512::int8_peak_loop(iters, sink);
#endif
  (void)isa, (void)iters, (void)sink;
  return 0;
}

}  // namespace nystrom
