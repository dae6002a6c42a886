// AVX2 bf16 micro-kernel, 4 x 16 (contract: kernel_table.h,
// Bf16MicroKernel). AVX2 has no bf16 arithmetic: each pair is split into
// two floats (a bf16 is the high half of a float) and multiplied with two
// f32 FMAs, high half first, which gives vdpbf16ps' bits (the products of
// two bf16 are exact in f32) except where a step is subnormal (kept here,
// flushed by the instruction). 8 accumulators, 4 split B vectors and 2
// split A values: 14 of the 16 ymm registers.
#include <immintrin.h>

#include "kernels/avx2/avx2.h"

namespace nystrom::avx2 {

namespace {
inline __m256 hi_half(__m256i v) { return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xffff0000u))); }
inline __m256 lo_half(__m256i v) { return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)); }
}  // namespace

void gemm_bf16_ukernel_4x16(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c,
                            int ldc, int mr, int nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const uint32_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
  for (int t = 0; t < pairs; ++t, b += ldb) {
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 8));
    const __m256 h0 = hi_half(v0), l0 = lo_half(v0), h1 = hi_half(v1), l1 = lo_half(v1);
#define NYSTROM_ROW(i)                                                 \
  {                                                                    \
    const __m256i w = _mm256_set1_epi32((int)a##i[t]);                 \
    const __m256 ah = hi_half(w), al = lo_half(w);                     \
    c##i##0 = _mm256_fmadd_ps(al, l0, _mm256_fmadd_ps(ah, h0, c##i##0)); \
    c##i##1 = _mm256_fmadd_ps(al, l1, _mm256_fmadd_ps(ah, h1, c##i##1)); \
  }
    NYSTROM_ROW(0) NYSTROM_ROW(1) NYSTROM_ROW(2) NYSTROM_ROW(3)
#undef NYSTROM_ROW
  }
  alignas(32) float tile[4][16];
  _mm256_store_ps(tile[0], c00), _mm256_store_ps(tile[0] + 8, c01);
  _mm256_store_ps(tile[1], c10), _mm256_store_ps(tile[1] + 8, c11);
  _mm256_store_ps(tile[2], c20), _mm256_store_ps(tile[2] + 8, c21);
  _mm256_store_ps(tile[3], c30), _mm256_store_ps(tile[3] + 8, c31);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) c[(size_t)i * ldc + j] = tile[i][j];
}

}  // namespace nystrom::avx2
