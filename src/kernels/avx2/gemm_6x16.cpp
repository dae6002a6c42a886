// AVX2+FMA GEMM micro-kernel, 6 x 16 register tile: 12 ymm accumulators
// (6 rows x 2 vectors), 2 for the B row, 1 broadcast of A. Two FMA pipes
// with 4-cycle latency need >= 8 independent accumulators; 12 leaves slack.
#include <immintrin.h>

#include "kernels/avx2/avx2.h"

namespace nystrom::avx2 {

void gemm_ukernel_6x16(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                       bool accumulate) {
  __m256 acc[6][2];
  for (int i = 0; i < 6; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int p = 0; p < k; ++p, a += 6, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  if (nr == 16) {
    for (int i = 0; i < mr; ++i) {
      float* row = c + (size_t)i * ldc;
      __m256 r0 = acc[i][0], r1 = acc[i][1];
      if (accumulate) r0 = _mm256_add_ps(r0, _mm256_loadu_ps(row)), r1 = _mm256_add_ps(r1, _mm256_loadu_ps(row + 8));
      _mm256_storeu_ps(row, r0);
      _mm256_storeu_ps(row + 8, r1);
    }
    return;
  }
  alignas(32) float tile[16];
  for (int i = 0; i < mr; ++i) {  // edge tile: go through memory
    float* row = c + (size_t)i * ldc;
    _mm256_store_ps(tile, acc[i][0]);
    _mm256_store_ps(tile + 8, acc[i][1]);
    for (int j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + tile[j] : tile[j];
  }
}

}  // namespace nystrom::avx2
