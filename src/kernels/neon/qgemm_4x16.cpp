// NEON integer GEMM micro-kernels, 4 x 16 tile, for the layout
// neon::kQGemmLayout (kernels/kernel_table.h describes the packing), for
// CPUs without the dot product (the neon_dot level has SDOT kernels):
// widening multiplies, two rows at a time.
//
// One 16-byte weight vector holds 4 columns x 4 k, and the step's
// 4 activation bytes are repeated to 16. vmull_s8 gives the 8 products of
// columns 0-1 (vmull_high_s8 those of 2-3) as int16: |w a| <= 128 * 128 =
// 16384 < 32767 (q4_0 weights are 16 w, |16 w| <= 128). vpadalq_s16 adds
// adjacent pairs into int32 lanes (column 0 k 0+1, column 0 k 2+3, column 1
// ...), and one vpaddq_s32 per block folds them to one lane per column.
#include <arm_neon.h>

#include <cstring>

#include "kernels/neon/neon.h"

namespace nystrom::neon {

namespace {

inline int8x16_t repeat4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

// Rows r0, r0 + 1 of the tile (rows past mr are computed from the zero
// padding and not stored).
enum Kind { kQ8, kQ4, kQ8c };

// q8_c (kQ8c): q8_0's steps, with the int32 pair sums running over every
// block (a lane adds K/2 products of at most 128 * 128: below 2^31 for
// K <= 65536) and folded and scaled once after the panel.
template <Kind kKind>
inline void qgemm_2x16_widen(int nblocks, const QuantRows& a, int r0, const uint8_t* w, float* c, int ldc, int mr,
                             int nr, bool accumulate) {
  constexpr bool Q4 = kKind == kQ4, PerBlock = kKind != kQ8c;
  constexpr size_t kWeightBytes = (Q4 ? 16 : 32) * 16,
                   kBlockBytes = kWeightBytes + (PerBlock ? 16 * sizeof(float) : 0);
  const size_t lq = a.ldq, ld = (size_t)a.ldd;
  const int8_t* q = a.q + (size_t)r0 * lq;
  const float* d = a.d + (size_t)r0 * ld;
  const uint8x16_t hi_mask = vdupq_n_u8(0xF0);

  float facc[2][16] = {};
  // p<row><vector><l: columns 0-1, h: columns 2-3>
  int32x4_t p00l = vdupq_n_s32(0), p00h = p00l, p01l = p00l, p01h = p00l, p02l = p00l, p02h = p00l;
  int32x4_t p03l = p00l, p03h = p00l, p10l = p00l, p10h = p00l, p11l = p00l, p11h = p00l;
  int32x4_t p12l = p00l, p12h = p00l, p13l = p00l, p13h = p00l;
  float dr;
#define NYSTROM_SCALE(r, g, scale)                                                                              \
  vst1q_f32(facc[r] + 4 * g, vfmaq_f32(vld1q_f32(facc[r] + 4 * g), vcvtq_f32_s32(vpaddq_s32(p##r##g##l, p##r##g##h)), \
                                       vmulq_n_f32(vld1q_f32((scale) + 4 * g), dr)));
#define NYSTROM_SCALE_ALL(scale)                                                 \
  dr = d[0];                                                                     \
  NYSTROM_SCALE(0, 0, scale) NYSTROM_SCALE(0, 1, scale) NYSTROM_SCALE(0, 2, scale) NYSTROM_SCALE(0, 3, scale) \
  dr = d[ld];                                                                    \
  NYSTROM_SCALE(1, 0, scale) NYSTROM_SCALE(1, 1, scale) NYSTROM_SCALE(1, 2, scale) NYSTROM_SCALE(1, 3, scale)
  for (int b = 0; b < nblocks; ++b, w += kBlockBytes, q += 32, d += PerBlock) {
    if constexpr (PerBlock) {
      p00l = vdupq_n_s32(0), p00h = p00l, p01l = p00l, p01h = p00l, p02l = p00l, p02h = p00l;
      p03l = p00l, p03h = p00l, p10l = p00l, p10h = p00l, p11l = p00l, p11h = p00l;
      p12l = p00l, p12h = p00l, p13l = p00l, p13h = p00l;
    }
    for (int s = 0; s < 8; ++s) {
      int8x16_t w0, w1, w2, w3;
      if constexpr (Q4) {
        const uint8_t* wv = w + 64 * (s % 4);
        if (s < 4) {
          w0 = vreinterpretq_s8_u8(vshlq_n_u8(vld1q_u8(wv), 4));
          w1 = vreinterpretq_s8_u8(vshlq_n_u8(vld1q_u8(wv + 16), 4));
          w2 = vreinterpretq_s8_u8(vshlq_n_u8(vld1q_u8(wv + 32), 4));
          w3 = vreinterpretq_s8_u8(vshlq_n_u8(vld1q_u8(wv + 48), 4));
        } else {
          w0 = vreinterpretq_s8_u8(vandq_u8(vld1q_u8(wv), hi_mask));
          w1 = vreinterpretq_s8_u8(vandq_u8(vld1q_u8(wv + 16), hi_mask));
          w2 = vreinterpretq_s8_u8(vandq_u8(vld1q_u8(wv + 32), hi_mask));
          w3 = vreinterpretq_s8_u8(vandq_u8(vld1q_u8(wv + 48), hi_mask));
        }
      } else {
        const int8_t* wv = reinterpret_cast<const int8_t*>(w) + 64 * s;
        w0 = vld1q_s8(wv), w1 = vld1q_s8(wv + 16), w2 = vld1q_s8(wv + 32), w3 = vld1q_s8(wv + 48);
      }
      const int8x16_t x0 = repeat4(q + 4 * s), x1 = repeat4(q + lq + 4 * s);
#define NYSTROM_MAC(r, g)                                                          \
  p##r##g##l = vpadalq_s16(p##r##g##l, vmull_s8(vget_low_s8(w##g), vget_low_s8(x##r))); \
  p##r##g##h = vpadalq_s16(p##r##g##h, vmull_high_s8(w##g, x##r));
      NYSTROM_MAC(0, 0) NYSTROM_MAC(0, 1) NYSTROM_MAC(0, 2) NYSTROM_MAC(0, 3)
      NYSTROM_MAC(1, 0) NYSTROM_MAC(1, 1) NYSTROM_MAC(1, 2) NYSTROM_MAC(1, 3)
#undef NYSTROM_MAC
    }
    if constexpr (PerBlock) { NYSTROM_SCALE_ALL(reinterpret_cast<const float*>(w + kWeightBytes)) }
  }
  if constexpr (!PerBlock) { NYSTROM_SCALE_ALL(reinterpret_cast<const float*>(w)) }
#undef NYSTROM_SCALE_ALL
#undef NYSTROM_SCALE

  for (int i = 0; i < 2 && r0 + i < mr; ++i) {
    float* row = c + (size_t)(r0 + i) * ldc;
    for (int j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + facc[i][j] : facc[i][j];
  }
}

}  // namespace

void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate) {
  qgemm_2x16_widen<kQ8>(nblocks, a, 0, w, c, ldc, mr, nr, accumulate);
  if (mr > 2) qgemm_2x16_widen<kQ8>(nblocks, a, 2, w, c, ldc, mr, nr, accumulate);
}

void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate) {
  qgemm_2x16_widen<kQ4>(nblocks, a, 0, w, c, ldc, mr, nr, accumulate);
  if (mr > 2) qgemm_2x16_widen<kQ4>(nblocks, a, 2, w, c, ldc, mr, nr, accumulate);
}

void qgemm_q8c_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                            bool accumulate) {
  qgemm_2x16_widen<kQ8c>(nblocks, a, 0, w, c, ldc, mr, nr, accumulate);
  if (mr > 2) qgemm_2x16_widen<kQ8c>(nblocks, a, 2, w, c, ldc, mr, nr, accumulate);
}

}  // namespace nystrom::neon
