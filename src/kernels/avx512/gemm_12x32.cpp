// AVX-512 GEMM micro-kernel, 12 x 32 register tile: 24 zmm accumulators
// (12 rows x 2 vectors), 2 for the B row, 1 broadcast of A, of 32 registers.
// Edge columns are handled with masked loads and stores. The accumulators
// are named variables, not an array: an array indexed in the store loop
// makes compilers keep it in memory inside the k loop.
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"

namespace nystrom::avx512 {

void gemm_ukernel_12x32(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                        bool accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  __m512 c60 = c00, c61 = c00, c70 = c00, c71 = c00, c80 = c00, c81 = c00;
  __m512 c90 = c00, c91 = c00, cA0 = c00, cA1 = c00, cB0 = c00, cB1 = c00;
  for (int p = 0; p < k; ++p, a += 12, b += 32) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 ai;
#define NYSTROM_ROW(i, idx)                   \
  ai = _mm512_set1_ps(a[idx]);                \
  c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0); \
  c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);
    NYSTROM_ROW(0, 0) NYSTROM_ROW(1, 1) NYSTROM_ROW(2, 2) NYSTROM_ROW(3, 3) NYSTROM_ROW(4, 4) NYSTROM_ROW(5, 5)
    NYSTROM_ROW(6, 6) NYSTROM_ROW(7, 7) NYSTROM_ROW(8, 8) NYSTROM_ROW(9, 9) NYSTROM_ROW(A, 10) NYSTROM_ROW(B, 11)
#undef NYSTROM_ROW
  }
  const __m512 acc[12][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51},
                             {c60, c61}, {c70, c71}, {c80, c81}, {c90, c91}, {cA0, cA1}, {cB0, cB1}};
  store_tile_x32(acc, mr, nr, c, ldc, accumulate);
}

}  // namespace nystrom::avx512
