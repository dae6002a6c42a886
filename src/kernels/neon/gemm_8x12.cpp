// NEON (aarch64) GEMM micro-kernel, 8 x 12 register tile: 24 q-register
// accumulators (8 rows x 3 vectors), 3 for the B row and 2 holding 8 values
// of A used by lane (vfmaq_laneq_f32), 29 of 32 registers.
#include <arm_neon.h>

#include "kernels/neon/neon.h"

namespace nystrom::neon {

namespace {

// A packed (kRows false: a[p * 8 + i], 8 values in two loads) or read in
// place (kRows true: row i at a + i * lda, a whole tile, its 8 values of
// step p gathered into the same two registers lane by lane): the same FMAs
// in the same order either way.
template <bool kRows>
inline void gemm_8x12(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int mr, int nr,
                      bool accumulate) {
  // Named accumulators, not an array: an array indexed in the store loop
  // makes compilers keep it in memory inside the k loop.
  float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
  float32x4_t c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
  float32x4_t c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
  float32x4_t c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
  for (int p = 0; p < k; ++p, b += 12) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
    float32x4_t a0, a1;
    if (kRows) {
      a0 = vld1q_dup_f32(a + p);
      a0 = vld1q_lane_f32(a + lda + p, a0, 1);
      a0 = vld1q_lane_f32(a + 2 * lda + p, a0, 2);
      a0 = vld1q_lane_f32(a + 3 * lda + p, a0, 3);
      a1 = vld1q_dup_f32(a + 4 * lda + p);
      a1 = vld1q_lane_f32(a + 5 * lda + p, a1, 1);
      a1 = vld1q_lane_f32(a + 6 * lda + p, a1, 2);
      a1 = vld1q_lane_f32(a + 7 * lda + p, a1, 3);
    } else {
      a0 = vld1q_f32(a + (size_t)p * 8), a1 = vld1q_f32(a + (size_t)p * 8 + 4);
    }
#define NYSTROM_ROW(i, av, lane)                    \
  c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane); \
  c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane); \
  c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane);
    NYSTROM_ROW(0, a0, 0) NYSTROM_ROW(1, a0, 1) NYSTROM_ROW(2, a0, 2) NYSTROM_ROW(3, a0, 3)
    NYSTROM_ROW(4, a1, 0) NYSTROM_ROW(5, a1, 1) NYSTROM_ROW(6, a1, 2) NYSTROM_ROW(7, a1, 3)
#undef NYSTROM_ROW
  }
  const float32x4_t acc[8][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32},
                                 {c40, c41, c42}, {c50, c51, c52}, {c60, c61, c62}, {c70, c71, c72}};
  float tile[12];
  for (int i = 0; i < mr; ++i) {
    float* row = c + (size_t)i * ldc;
    if (nr == 12) {
      float32x4_t r0 = acc[i][0], r1 = acc[i][1], r2 = acc[i][2];
      if (accumulate) {
        r0 = vaddq_f32(r0, vld1q_f32(row));
        r1 = vaddq_f32(r1, vld1q_f32(row + 4));
        r2 = vaddq_f32(r2, vld1q_f32(row + 8));
      }
      vst1q_f32(row, r0), vst1q_f32(row + 4, r1), vst1q_f32(row + 8, r2);
    } else {
      vst1q_f32(tile, acc[i][0]), vst1q_f32(tile + 4, acc[i][1]), vst1q_f32(tile + 8, acc[i][2]);
      for (int j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + tile[j] : tile[j];
    }
  }
}

}  // namespace

void gemm_ukernel_8x12(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                       bool accumulate) {
  gemm_8x12<false>(k, a, 0, b, c, ldc, mr, nr, accumulate);
}

void gemm_ukernel_rows_8x12(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int nr,
                            bool accumulate) {
  gemm_8x12<true>(k, a, lda, b, c, ldc, 8, nr, accumulate);
}

}  // namespace nystrom::neon
