// AVX-512 GEMM micro-kernel, 12 x 32 register tile: 24 zmm accumulators
// (12 rows x 2 vectors), 2 for the B row, 1 broadcast of A, of 32 registers.
// Edge columns are handled with masked loads and stores. A comes packed, or
// read in place (gemm_ukernel_rows: small products, where packing A cost as
// much as the products). The accumulators
// are named variables, not an array: an array indexed in the store loop
// makes compilers keep it in memory inside the k loop.
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"
#include "kernels/avx512/tile_epilogue.h"

namespace nystrom::avx512 {

namespace {

// A either packed (kRows false: a[p * 12 + i]) or read in place (kRows
// true: row i at a + i * lda, a whole 12-row tile). The same FMAs in the
// same order either way, so both give the same bits. In place, rows 0-2,
// 3-5, 6-8 and 9-11 each hang off one pointer at offsets 0, lda and 2 lda,
// which x86 addressing reaches with a scaled index: 4 pointers, not 12.
// Packed, only the first kR rows (4, 8 or 12) are computed: a tile of
// M's last few rows (M = 64, the attention's landmarks, is 5 tiles and 4
// rows) does not pay for 12. store(acc) writes the finished tile.
template <bool kRows, int kR, typename Store>
inline void gemm_12x32(int k, const float* a, size_t lda, const float* b, Store store) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  __m512 c60 = c00, c61 = c00, c70 = c00, c71 = c00, c80 = c00, c81 = c00;
  __m512 c90 = c00, c91 = c00, cA0 = c00, cA1 = c00, cB0 = c00, cB1 = c00;
  const float *r0 = a, *r3 = a + 3 * lda, *r6 = a + 6 * lda, *r9 = a + 9 * lda;
  const size_t l1 = kRows ? lda : 1, l2 = 2 * l1;
  for (int p = 0; p < k; ++p, b += 32) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 ai;
#define NYSTROM_ROW(i, at)                    \
  ai = _mm512_set1_ps(at);                    \
  c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0); \
  c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);
    if (kRows) {
      NYSTROM_ROW(0, r0[0]) NYSTROM_ROW(1, r0[l1]) NYSTROM_ROW(2, r0[l2])
      NYSTROM_ROW(3, r3[0]) NYSTROM_ROW(4, r3[l1]) NYSTROM_ROW(5, r3[l2])
      NYSTROM_ROW(6, r6[0]) NYSTROM_ROW(7, r6[l1]) NYSTROM_ROW(8, r6[l2])
      NYSTROM_ROW(9, r9[0]) NYSTROM_ROW(A, r9[l1]) NYSTROM_ROW(B, r9[l2])
      ++r0, ++r3, ++r6, ++r9;
    } else {
      NYSTROM_ROW(0, a[0]) NYSTROM_ROW(1, a[1]) NYSTROM_ROW(2, a[2]) NYSTROM_ROW(3, a[3])
      if constexpr (kR > 4) {
        NYSTROM_ROW(4, a[4]) NYSTROM_ROW(5, a[5]) NYSTROM_ROW(6, a[6]) NYSTROM_ROW(7, a[7])
      }
      if constexpr (kR > 8) {
        NYSTROM_ROW(8, a[8]) NYSTROM_ROW(9, a[9]) NYSTROM_ROW(A, a[10]) NYSTROM_ROW(B, a[11])
      }
      a += 12;
    }
#undef NYSTROM_ROW
  }
  const __m512 acc[12][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51},
                             {c60, c61}, {c70, c71}, {c80, c81}, {c90, c91}, {cA0, cA1}, {cB0, cB1}};
  store(acc);
}

// A packed tile of mr rows, with as many rows computed as it needs.
template <typename Store>
inline void packed_tile(int k, const float* a, const float* b, int mr, Store store) {
  if (mr <= 4) gemm_12x32<false, 4>(k, a, 0, b, store);
  else if (mr <= 8) gemm_12x32<false, 8>(k, a, 0, b, store);
  else gemm_12x32<false, 12>(k, a, 0, b, store);
}

}  // namespace

void gemm_ukernel_12x32(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                        bool accumulate) {
  packed_tile(k, a, b, mr, [&](const __m512 (*acc)[2]) { store_tile_x32(acc, mr, nr, c, ldc, accumulate); });
}

void gemm_ukernel_epilogue_12x32(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                                 bool accumulate, const float* bias, ops::Act act, float scale) {
  packed_tile(k, a, b, mr, [&](const __m512 (*acc)[2]) {
    store_tile_x32_epilogue(acc, mr, nr, c, ldc, accumulate, bias, act, scale);
  });
}

void gemm_ukernel_rows_12x32(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int nr,
                             bool accumulate) {
  gemm_12x32<true, 12>(k, a, lda, b, [&](const __m512 (*acc)[2]) { store_tile_x32(acc, 12, nr, c, ldc, accumulate); });
}

}  // namespace nystrom::avx512
