// The machine's FMA limit for this instruction set: independent chains of
// vector FMAs with no memory traffic (used by nystrom-bench as the peak).
#include <immintrin.h>

#include "kernels/avx2/avx2.h"
#include "kernels/peak_chains.h"

namespace nystrom::avx2 {

// 12 chains: 2 FMA pipes x 4-cycle latency needs 8; 12 hides scheduling slack.
double fma_peak_loop(long iters, float* sink) {
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  _mm256_storeu_ps(sink, run_peak_chains<12, __m256>(
                             iters, [](int i) { return _mm256_set1_ps(0.001f * (float)i); },
                             [&](__m256 a) { return _mm256_fmadd_ps(a, x, y); },
                             [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); }));
  return (double)iters * 12 * 8 * 2;
}

}  // namespace nystrom::avx2
