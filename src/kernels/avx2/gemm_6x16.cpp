// AVX2+FMA GEMM micro-kernel, 6 x 16 register tile: 12 ymm accumulators
// (6 rows x 2 vectors), 2 for the B row, 1 broadcast of A. Two FMA pipes
// with 4-cycle latency need >= 8 independent accumulators; 12 leaves slack.
// The accumulators are named variables, not an array: an array indexed in
// the store loop makes compilers keep it in memory inside the k loop.
#include <immintrin.h>

#include "kernels/avx2/avx2.h"

namespace nystrom::avx2 {

namespace {

// A packed (kRows false: a[p * 6 + i]) or read in place (kRows true: row i
// at a + i * lda, a whole tile): the same FMAs in the same order either way.
// In place, rows 0-2 and 3-5 hang off one pointer each at 0, lda, 2 lda.
template <bool kRows>
inline void gemm_6x16(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int mr, int nr,
                      bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const float *r0 = a, *r3 = a + 3 * lda;
  const size_t l1 = kRows ? lda : 1, l2 = 2 * l1;
  for (int p = 0; p < k; ++p, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ai;
#define NYSTROM_ROW(i, at)                    \
  ai = _mm256_broadcast_ss(at);               \
  c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0); \
  c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);
    if (kRows) {
      NYSTROM_ROW(0, r0) NYSTROM_ROW(1, r0 + l1) NYSTROM_ROW(2, r0 + l2)
      NYSTROM_ROW(3, r3) NYSTROM_ROW(4, r3 + l1) NYSTROM_ROW(5, r3 + l2)
      ++r0, ++r3;
    } else {
      NYSTROM_ROW(0, a) NYSTROM_ROW(1, a + 1) NYSTROM_ROW(2, a + 2) NYSTROM_ROW(3, a + 3) NYSTROM_ROW(4, a + 4)
      NYSTROM_ROW(5, a + 5)
      a += 6;
    }
#undef NYSTROM_ROW
  }
  const __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
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

}  // namespace

void gemm_ukernel_6x16(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                       bool accumulate) {
  gemm_6x16<false>(k, a, 0, b, c, ldc, mr, nr, accumulate);
}

void gemm_ukernel_rows_6x16(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int nr,
                            bool accumulate) {
  gemm_6x16<true>(k, a, lda, b, c, ldc, 6, nr, accumulate);
}

}  // namespace nystrom::avx2
