// AVX2 integer GEMM micro-kernels, 4 x 16 register tile, for the layout
// avx2::kQGemmLayout (kernels/kernel_table.h describes the packing). No VNNI:
// products go through vpmaddubsw (u8 x s8, adjacent pairs summed to int16
// with saturation) and vpmaddwd by ones (int16 pairs summed to int32). One
// 32-byte weight vector holds 8 columns x 4 consecutive k, and the 4
// activation bytes of a step are broadcast to every lane.
//
// Why nothing saturates:
//  - q8_0: the weights w are signed (any int8, -128 included) and so are
//    the activations a (|a| <= 127). vpmaddubsw gets |w| as u8 (<= 128) and
//    sign(a, w) = a * sgn(w) as s8 (|.| <= 127): |w| sign(a, w) = w a, and
//    a pair sums to at most 2 * 128 * 127 = 32512 < 32767. The int16 pairs
//    go to int32 at once (vpmaddwd), every step.
//  - q4_0: the weights are the file's unsigned nibbles q = w + 8 in 0..15,
//    so a pair is at most 2 * 15 * 127 = 3810 and all 8 steps of a block
//    add up in int16 (8 * 3810 = 30480 < 32767) before one vpmaddwd; the
//    offset is taken out with corr / 16 = -8 sum(a):  sum q a - 8 sum a = sum w a.
//
// Registers (16): 8 int accumulators (4 rows x 2 vectors), 2 weight vectors
// (and for q8_0 their |w|), ones, a broadcast, a temporary. The float
// accumulators are updated once per block and live in a small array on the
// stack. The step loops are kept rolled: fully unrolled, GCC hoists the
// loads of later steps and spills (20-25% slower, measured).
#include <immintrin.h>

#include <cstring>

#include "kernels/avx2/avx2.h"

namespace nystrom::avx2 {

namespace {

inline __m256i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// facc[r] += i_r * (s * d[r * ld]), with the 16 weight scales s at `scales`.
inline void scale_into(float (*facc)[16], const uint8_t* scales, const float* d, size_t ld, __m256i i00, __m256i i01,
                       __m256i i10, __m256i i11, __m256i i20, __m256i i21, __m256i i30, __m256i i31) {
  const __m256 s0 = _mm256_load_ps(reinterpret_cast<const float*>(scales));
  const __m256 s1 = _mm256_load_ps(reinterpret_cast<const float*>(scales) + 8);
  __m256 dr;
#define NYSTROM_SCALE(r)                                                                             \
  dr = _mm256_set1_ps(d[r * ld]);                                                                    \
  _mm256_store_ps(facc[r], _mm256_fmadd_ps(_mm256_cvtepi32_ps(i##r##0), _mm256_mul_ps(s0, dr),       \
                                           _mm256_load_ps(facc[r])));                               \
  _mm256_store_ps(facc[r] + 8, _mm256_fmadd_ps(_mm256_cvtepi32_ps(i##r##1), _mm256_mul_ps(s1, dr), \
                                               _mm256_load_ps(facc[r] + 8)));
  NYSTROM_SCALE(0) NYSTROM_SCALE(1) NYSTROM_SCALE(2) NYSTROM_SCALE(3)
#undef NYSTROM_SCALE
}

enum Kind { kQ8, kQ4, kQ8c };

// q8_c (kQ8c): q8_0's steps, with the int32 accumulators running over every
// block (|sum| <= 65536 * 128 * 127 < 2^31, K <= 65536) and the scales
// applied once after the panel.
template <Kind kKind>
inline void qgemm_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                       bool accumulate) {
  constexpr bool Q4 = kKind == kQ4, PerBlock = kKind != kQ8c;
  constexpr size_t kWeightBytes = (Q4 ? 16 : 32) * 16,
                   kBlockBytes = kWeightBytes + (PerBlock ? 16 * sizeof(float) : 0);
  const int8_t* q = a.q;
  const float* d = a.d;
  const int32_t* z = a.corr;
  const size_t lq = a.ldq, ld = (size_t)a.ldd;
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i lo_mask = _mm256_set1_epi8(0x0F);

  alignas(32) float facc[4][16] = {};
  __m256i i00 = _mm256_setzero_si256(), i01 = i00, i10 = i00, i11 = i00;
  __m256i i20 = i00, i21 = i00, i30 = i00, i31 = i00;
  for (int b = 0; b < nblocks; ++b, w += kBlockBytes, q += 32, d += PerBlock, z += PerBlock) {
    if constexpr (PerBlock) {
      i00 = _mm256_setzero_si256(), i01 = i00, i10 = i00, i11 = i00;
      i20 = i00, i21 = i00, i30 = i00, i31 = i00;
    }
    if constexpr (Q4) {
      // i: int16 sums of the 8 steps; the low nibbles of vector t are the k
      // of step t, the high nibbles those of step t + 4.
#define NYSTROM_STEP(w0expr, w1expr, off)                                    \
  {                                                                          \
    const __m256i w0 = (w0expr), w1 = (w1expr);                              \
    __m256i av = broadcast4(q + (off));                                      \
    i00 = _mm256_add_epi16(i00, _mm256_maddubs_epi16(w0, av));               \
    i01 = _mm256_add_epi16(i01, _mm256_maddubs_epi16(w1, av));               \
    av = broadcast4(q + lq + (off));                                         \
    i10 = _mm256_add_epi16(i10, _mm256_maddubs_epi16(w0, av));               \
    i11 = _mm256_add_epi16(i11, _mm256_maddubs_epi16(w1, av));               \
    av = broadcast4(q + 2 * lq + (off));                                     \
    i20 = _mm256_add_epi16(i20, _mm256_maddubs_epi16(w0, av));               \
    i21 = _mm256_add_epi16(i21, _mm256_maddubs_epi16(w1, av));               \
    av = broadcast4(q + 3 * lq + (off));                                     \
    i30 = _mm256_add_epi16(i30, _mm256_maddubs_epi16(w0, av));               \
    i31 = _mm256_add_epi16(i31, _mm256_maddubs_epi16(w1, av));               \
  }
#pragma GCC unroll 1
      for (int t = 0; t < 4; ++t) {
        const __m256i x0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 64 * t));
        const __m256i x1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 64 * t + 32));
        NYSTROM_STEP(_mm256_and_si256(x0, lo_mask), _mm256_and_si256(x1, lo_mask), 4 * t)
        NYSTROM_STEP(_mm256_and_si256(_mm256_srli_epi16(x0, 4), lo_mask),
                     _mm256_and_si256(_mm256_srli_epi16(x1, 4), lo_mask), 16 + 4 * t)
      }
#undef NYSTROM_STEP
      __m256i off;
#define NYSTROM_WIDEN(r)                                                                 \
  off = _mm256_set1_epi32(z[r * ld] >> 4);                                               \
  i##r##0 = _mm256_add_epi32(_mm256_madd_epi16(i##r##0, ones), off);                     \
  i##r##1 = _mm256_add_epi32(_mm256_madd_epi16(i##r##1, ones), off);
      NYSTROM_WIDEN(0) NYSTROM_WIDEN(1) NYSTROM_WIDEN(2) NYSTROM_WIDEN(3)
#undef NYSTROM_WIDEN
    } else {
#define NYSTROM_ROW(r, lqr)                                                                         \
  av = broadcast4(q + (lqr) + 4 * s);                                                               \
  i##r##0 = _mm256_add_epi32(i##r##0, _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(av, w0)), ones)); \
  i##r##1 = _mm256_add_epi32(i##r##1, _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(av, w1)), ones));
#pragma GCC unroll 1
      for (int s = 0; s < 8; ++s) {
        const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 64 * s));
        const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 64 * s + 32));
        const __m256i u0 = _mm256_abs_epi8(w0), u1 = _mm256_abs_epi8(w1);
        __m256i av;
        NYSTROM_ROW(0, 0) NYSTROM_ROW(1, lq) NYSTROM_ROW(2, 2 * lq) NYSTROM_ROW(3, 3 * lq)
      }
#undef NYSTROM_ROW
    }
    if constexpr (PerBlock) scale_into(facc, w + kWeightBytes, d, ld, i00, i01, i10, i11, i20, i21, i30, i31);
  }
  if constexpr (!PerBlock) scale_into(facc, w, d, ld, i00, i01, i10, i11, i20, i21, i30, i31);

  for (int i = 0; i < mr; ++i) {
    float* row = c + (size_t)i * ldc;
    if (nr == 16) {
      __m256 r0 = _mm256_load_ps(facc[i]), r1 = _mm256_load_ps(facc[i] + 8);
      if (accumulate) {
        r0 = _mm256_add_ps(r0, _mm256_loadu_ps(row));
        r1 = _mm256_add_ps(r1, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, r0);
      _mm256_storeu_ps(row + 8, r1);
    } else {
      for (int j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + facc[i][j] : facc[i][j];
    }
  }
}

}  // namespace

void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate) {
  qgemm_4x16<kQ8>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate) {
  qgemm_4x16<kQ4>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

void qgemm_q8c_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                            bool accumulate) {
  qgemm_4x16<kQ8c>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

}  // namespace nystrom::avx2
