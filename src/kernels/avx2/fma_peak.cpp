// The machine's FMA limit for this instruction set: independent chains of
// vector FMAs with no memory traffic (used by nystrom-bench as the peak).
#include <immintrin.h>

#include "kernels/avx2/avx2.h"

namespace nystrom::avx2 {

// 12 chains: 2 FMA pipes x 4-cycle latency needs 8; 12 hides scheduling slack.
double fma_peak_loop(long iters, float* sink) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * (float)i);
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  _mm256_storeu_ps(sink, s);
  return (double)iters * 12 * 8 * 2;
}

}  // namespace nystrom::avx2
