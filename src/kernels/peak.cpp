#include "kernels/peak.h"

namespace nystrom {

double fma_peak_loop(Isa isa, long iters, float* sink) { return kernels_for(isa)->fma_peak_loop(iters, sink); }

double int8_peak_loop(Isa isa, long iters, int* sink) {
  const KernelTable* t = kernels_for(isa);
  return t && t->int8_peak_loop ? t->int8_peak_loop(iters, sink) : 0;
}

}  // namespace nystrom
