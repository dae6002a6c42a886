// AVX-512 VNNI micro-kernel for q8_c weights, 12 x 32 register tile, for the
// layout avx512::kQGemmLayout (mr_c = 12; kernels/kernel_table.h describes
// the packing; qgemm_6x32.cpp explains vpdpbusd and the unsigned weights).
//
// q8_c has one scale per weight row and per activation row, so the int32
// sums run over the whole depth (|partial sums| < 65536 * 255 * 128 < 2^31
// for K <= 65536, starting at the row's corr = -128 * sum(a)) and are
// scaled once at the end. With no float sums to carry per block, 24 int32
// accumulators fit (12 rows x 2 vectors, plus 2 weight vectors and a
// broadcast: 27 of 32 registers): each 64-byte weight vector loaded serves
// 12 rows instead of the 6 of the q8_0 tile, which halves the weight bytes
// read per product. Inside the model's GEMMs the weights stream from L2 or
// L3, and that traffic, not the vpdpbusd rate, bounded the 6 x 32 tile
// (docs/TUNING.md has the measurements).
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"
#include "kernels/avx512/tile_epilogue.h"

namespace nystrom::avx512 {

namespace {

// The tile's sums, scaled: acc[r][h] = float(int32 sum) * (s_w * d_r).
inline void q8c_tile(int nblocks, const QuantRows& a, const uint8_t* w, __m512 (&acc)[12][2]) {
  const size_t lq = a.ldq, ld = a.ldd;
  const int8_t* q = a.q;           // rows 0-5
  const int8_t* q6 = q + 6 * lq;  // rows 6-11 (two bases keep the offsets small)
  // Named accumulators, not arrays (see gemm_12x32.cpp).
#define NYSTROM_ROW(r) __m512i i##r##0 = _mm512_set1_epi32(a.corr[(r) * ld]), i##r##1 = i##r##0;
  NYSTROM_ROW(0) NYSTROM_ROW(1) NYSTROM_ROW(2) NYSTROM_ROW(3) NYSTROM_ROW(4) NYSTROM_ROW(5)
  NYSTROM_ROW(6) NYSTROM_ROW(7) NYSTROM_ROW(8) NYSTROM_ROW(9) NYSTROM_ROW(10) NYSTROM_ROW(11)
#undef NYSTROM_ROW
  for (int b = 0; b < nblocks; ++b, w += 32 * 32, q += 32, q6 += 32) {
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      // Columns 0-15 and 16-31 of k = 4s .. 4s+3, times each row's 4 bytes.
      const __m512i w0 = _mm512_load_si512(w + 128 * s), w1 = _mm512_load_si512(w + 128 * s + 64);
      __m512i av;
#define NYSTROM_STEP(r, base, k)             \
  av = broadcast4(base + (k) * lq + 4 * s); \
  i##r##0 = dpbusd(i##r##0, w0, av);        \
  i##r##1 = dpbusd(i##r##1, w1, av);
      NYSTROM_STEP(0, q, 0) NYSTROM_STEP(1, q, 1) NYSTROM_STEP(2, q, 2)
      NYSTROM_STEP(3, q, 3) NYSTROM_STEP(4, q, 4) NYSTROM_STEP(5, q, 5)
      NYSTROM_STEP(6, q6, 0) NYSTROM_STEP(7, q6, 1) NYSTROM_STEP(8, q6, 2)
      NYSTROM_STEP(9, q6, 3) NYSTROM_STEP(10, q6, 4) NYSTROM_STEP(11, q6, 5)
#undef NYSTROM_STEP
    }
  }
  // The panel's 32 weight scales follow its last block. Each output is
  // float(sum) * (s_w * d_a), as an FMA onto +0 like the other kernels.
  const __m512 s0 = _mm512_load_ps(reinterpret_cast<const float*>(w));
  const __m512 s1 = _mm512_load_ps(reinterpret_cast<const float*>(w) + 16);
  const __m512 zero = _mm512_setzero_ps();
#define NYSTROM_SCALE(r)                                                                 \
  {                                                                                      \
    const __m512 dr = _mm512_set1_ps(a.d[(r) * ld]);                                     \
    acc[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i##r##0), _mm512_mul_ps(s0, dr), zero); \
    acc[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i##r##1), _mm512_mul_ps(s1, dr), zero); \
  }
  NYSTROM_SCALE(0) NYSTROM_SCALE(1) NYSTROM_SCALE(2) NYSTROM_SCALE(3) NYSTROM_SCALE(4) NYSTROM_SCALE(5)
  NYSTROM_SCALE(6) NYSTROM_SCALE(7) NYSTROM_SCALE(8) NYSTROM_SCALE(9) NYSTROM_SCALE(10) NYSTROM_SCALE(11)
#undef NYSTROM_SCALE
}

}  // namespace

void qgemm_q8c_ukernel_12x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                             bool accumulate) {
  __m512 acc[12][2];
  q8c_tile(nblocks, a, w, acc);
  store_tile_x32(acc, mr, nr, c, ldc, accumulate);
}

void qgemm_q8c_ukernel_epilogue_12x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                                      int nr, bool accumulate, const float* bias, ops::Act act, float scale) {
  __m512 acc[12][2];
  q8c_tile(nblocks, a, w, acc);
  store_tile_x32_epilogue(acc, mr, nr, c, ldc, accumulate, bias, act, scale);
}

}  // namespace nystrom::avx512
