// AVX-512 VNNI integer GEMM micro-kernels, 6 x 32 register tile, for the
// layout avx512::kQGemmLayout (kernels/kernel_table.h describes the packing).
//
// One 64-byte weight vector holds 16 columns x 4 consecutive k; one
// vpdpbusd multiplies it by 4 activation bytes broadcast to every lane and
// adds the 4 products into each column's int32 lane, so a block of 32 k is
// 8 such steps. vpdpbusd multiplies unsigned by signed bytes: the weights
// are stored unsigned, q8_0 as w + 128 and q4_0 as 16 q = 16 w + 128 (the
// nibble moved to the top of its byte), and the int32 accumulators start at
// the block's corr = -128 * sum(a), which takes the offset out:
//   sum (w + 128) a - 128 sum a = sum w a     (16 sum w a for q4_0).
// Every partial sum stays below 32 * 255 * 127 < 2^31, so the integer part
// is exact; once per block the int32 sums are converted to float (exact,
// below 2^24) and multiplied into the float accumulators by d_a * d_w.
//
// Registers: 12 int32 + 12 float accumulators (6 rows x 2 vectors), 2 weight
// vectors and a broadcast: 27 of 32. Named variables, not arrays (see
// gemm_12x32.cpp). q8_c, with no float sums per block, has a taller tile of
// its own (qgemm_q8c_12x32.cpp).
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"

namespace nystrom::avx512 {

namespace {

enum Kind { kQ8, kQ4 };

template <Kind kKind>
inline void qgemm_6x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                       bool accumulate) {
  constexpr bool Q4 = kKind == kQ4;
  constexpr size_t kWeightBytes = (Q4 ? 16 : 32) * 32, kBlockBytes = kWeightBytes + 32 * sizeof(float);
  const int8_t* q = a.q;
  const float* d = a.d;
  const int32_t* z = a.corr;
  const size_t lq = a.ldq, ld = (size_t)a.ldd;
  const __m512i hi_mask = _mm512_set1_epi8((char)0xF0);

  __m512 f00 = _mm512_setzero_ps(), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00;
  __m512 f30 = f00, f31 = f00, f40 = f00, f41 = f00, f50 = f00, f51 = f00;
  __m512i i00, i01, i10, i11, i20, i21, i30, i31, i40, i41, i50, i51;
#define NYSTROM_INIT                                              \
  i00 = _mm512_set1_epi32(z[0]), i01 = i00;                       \
  i10 = _mm512_set1_epi32(z[ld]), i11 = i10;                      \
  i20 = _mm512_set1_epi32(z[2 * ld]), i21 = i20;                  \
  i30 = _mm512_set1_epi32(z[3 * ld]), i31 = i30;                  \
  i40 = _mm512_set1_epi32(z[4 * ld]), i41 = i40;                  \
  i50 = _mm512_set1_epi32(z[5 * ld]), i51 = i50;
  for (int b = 0; b < nblocks; ++b, w += kBlockBytes, q += 32, ++d, ++z) {
    NYSTROM_INIT
    // One step: weight vectors w0 (columns 0-15) and w1 (16-31) times the 4
    // activation bytes at offset `off` of each row's block.
#define NYSTROM_STEP(w0expr, w1expr, off)                          \
  {                                                                \
    const __m512i w0 = (w0expr), w1 = (w1expr);                    \
    __m512i av = broadcast4(q + (off));                            \
    i00 = dpbusd(i00, w0, av);                        \
    i01 = dpbusd(i01, w1, av);                        \
    av = broadcast4(q + lq + (off));                               \
    i10 = dpbusd(i10, w0, av);                        \
    i11 = dpbusd(i11, w1, av);                        \
    av = broadcast4(q + 2 * lq + (off));                           \
    i20 = dpbusd(i20, w0, av);                        \
    i21 = dpbusd(i21, w1, av);                        \
    av = broadcast4(q + 3 * lq + (off));                           \
    i30 = dpbusd(i30, w0, av);                        \
    i31 = dpbusd(i31, w1, av);                        \
    av = broadcast4(q + 4 * lq + (off));                           \
    i40 = dpbusd(i40, w0, av);                        \
    i41 = dpbusd(i41, w1, av);                        \
    av = broadcast4(q + 5 * lq + (off));                           \
    i50 = dpbusd(i50, w0, av);                        \
    i51 = dpbusd(i51, w1, av);                        \
  }
    if (Q4) {
      // Vector t: low nibbles are k = 4t.., high nibbles k = 16 + 4t..
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        const __m512i x0 = _mm512_load_si512(w + 128 * t), x1 = _mm512_load_si512(w + 128 * t + 64);
        NYSTROM_STEP(_mm512_and_si512(_mm512_slli_epi16(x0, 4), hi_mask),
                     _mm512_and_si512(_mm512_slli_epi16(x1, 4), hi_mask), 4 * t)
        NYSTROM_STEP(_mm512_and_si512(x0, hi_mask), _mm512_and_si512(x1, hi_mask), 16 + 4 * t)
      }
    } else {
#pragma GCC unroll 8
      for (int s = 0; s < 8; ++s)
        NYSTROM_STEP(_mm512_load_si512(w + 128 * s), _mm512_load_si512(w + 128 * s + 64), 4 * s)
    }
#undef NYSTROM_STEP
    // s: the weight scales after this block.
#define NYSTROM_SCALE(r, dexpr)                                                     \
  dr = _mm512_set1_ps(dexpr);                                                       \
  f##r##0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i##r##0), _mm512_mul_ps(s0, dr), f##r##0); \
  f##r##1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i##r##1), _mm512_mul_ps(s1, dr), f##r##1);
#define NYSTROM_SCALE_ALL(s)                                                        \
  {                                                                                 \
    const __m512 s0 = _mm512_load_ps(reinterpret_cast<const float*>(s));            \
    const __m512 s1 = _mm512_load_ps(reinterpret_cast<const float*>(s) + 16);       \
    __m512 dr;                                                                      \
    NYSTROM_SCALE(0, d[0]) NYSTROM_SCALE(1, d[ld]) NYSTROM_SCALE(2, d[2 * ld])      \
    NYSTROM_SCALE(3, d[3 * ld]) NYSTROM_SCALE(4, d[4 * ld]) NYSTROM_SCALE(5, d[5 * ld]) \
  }
    NYSTROM_SCALE_ALL(w + kWeightBytes)
  }
#undef NYSTROM_SCALE_ALL
#undef NYSTROM_SCALE
#undef NYSTROM_INIT

  const __m512 acc[6][2] = {{f00, f01}, {f10, f11}, {f20, f21}, {f30, f31}, {f40, f41}, {f50, f51}};
  store_tile_x32(acc, mr, nr, c, ldc, accumulate);
}

}  // namespace

void qgemm_q8_ukernel_6x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate) {
  qgemm_6x32<kQ8>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

void qgemm_q4_ukernel_6x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate) {
  qgemm_6x32<kQ4>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

}  // namespace nystrom::avx512
