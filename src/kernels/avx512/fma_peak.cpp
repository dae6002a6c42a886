// The machine's FMA limit for this instruction set: independent chains of
// vector FMAs with no memory traffic (used by nystrom-bench as the peak).
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"
#include "kernels/peak_chains.h"

namespace nystrom::avx512 {

double fma_peak_loop(long iters, float* sink) {
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  _mm512_storeu_ps(sink, run_peak_chains<12, __m512>(
                             iters, [](int i) { return _mm512_set1_ps(0.001f * (float)i); },
                             [&](__m512 a) { return _mm512_fmadd_ps(a, x, y); },
                             [](__m512 a, __m512 b) { return _mm512_add_ps(a, b); }));
  return (double)iters * 12 * 16 * 2;
}

}  // namespace nystrom::avx512
