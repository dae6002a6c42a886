// NEON integer GEMM micro-kernels with SDOT (Armv8.2 dot product), 4 x 16
// register tile, for the layout neon::kQGemmLayout (kernels/kernel_table.h
// describes the packing). Only these functions are compiled for
// armv8.2-a+dotprod (a target attribute, so nothing else in the library can
// pick up the instructions), and the dispatcher selects the neon_dot level
// only when the CPU has the dot product.
//
// One 16-byte weight vector holds 4 columns x 4 consecutive k; SDOT by lane
// multiplies it by 4 activation bytes taken from one 32-bit lane of the
// row's 16 activation bytes, adding 4 products into each column's int32
// lane. Both sides are signed: q8_0 bytes as they are, q4_0 nibbles stored
// as 4-bit two's complement (q ^ 8 = w) and moved to the top of their byte,
// 16 w (the 1/16 is in the packed scale). |products| <= 128 * 128, 32 per
// block: the int32 sums are exact, and so is their conversion to float
// (below 2^24) once per block.
//
// Registers (32): 16 int32 accumulators (4 rows x 4 vectors), 4 rows of
// activations, 4 weight vectors. Float accumulators are updated once per
// block and live in a small array on the stack.
#include <arm_neon.h>

#include <cstring>

#include "kernels/neon_dot/neon_dot.h"

#if defined(__clang__)
#define NYSTROM_DOTPROD __attribute__((target("dotprod")))
#else
#define NYSTROM_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif

namespace nystrom::neon_dot {

namespace {

enum Kind { kQ8, kQ4, kQ8c };

// q8_c (kQ8c): q8_0's steps, with the int32 sums running over every block
// (K <= 65536 keeps them below 2^31) and scaled once after the panel.
template <Kind kKind>
NYSTROM_DOTPROD inline void qgemm_4x16_dot(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc,
                                           int mr, int nr, bool accumulate) {
  constexpr bool Q4 = kKind == kQ4, PerBlock = kKind != kQ8c;
  constexpr size_t kWeightBytes = (Q4 ? 16 : 32) * 16,
                   kBlockBytes = kWeightBytes + (PerBlock ? 16 * sizeof(float) : 0);
  const int8_t* q = a.q;
  const float* d = a.d;
  const size_t lq = a.ldq, ld = (size_t)a.ldd;
  const uint8x16_t hi_mask = vdupq_n_u8(0xF0);

  float facc[4][16] = {};
  int32x4_t i00 = vdupq_n_s32(0), i01 = i00, i02 = i00, i03 = i00, i10 = i00, i11 = i00, i12 = i00, i13 = i00;
  int32x4_t i20 = i00, i21 = i00, i22 = i00, i23 = i00, i30 = i00, i31 = i00, i32 = i00, i33 = i00;
  float dr;
#define NYSTROM_SCALE(r)                                                                               \
  dr = d[r * ld];                                                                                      \
  vst1q_f32(facc[r], vfmaq_f32(vld1q_f32(facc[r]), vcvtq_f32_s32(i##r##0), vmulq_n_f32(s0, dr)));      \
  vst1q_f32(facc[r] + 4, vfmaq_f32(vld1q_f32(facc[r] + 4), vcvtq_f32_s32(i##r##1), vmulq_n_f32(s1, dr))); \
  vst1q_f32(facc[r] + 8, vfmaq_f32(vld1q_f32(facc[r] + 8), vcvtq_f32_s32(i##r##2), vmulq_n_f32(s2, dr))); \
  vst1q_f32(facc[r] + 12, vfmaq_f32(vld1q_f32(facc[r] + 12), vcvtq_f32_s32(i##r##3), vmulq_n_f32(s3, dr)));
#define NYSTROM_SCALE_ALL(scale)                                                                        \
  {                                                                                                    \
    const float32x4_t s0 = vld1q_f32(scale), s1 = vld1q_f32((scale) + 4), s2 = vld1q_f32((scale) + 8), \
                      s3 = vld1q_f32((scale) + 12);                                                    \
    NYSTROM_SCALE(0) NYSTROM_SCALE(1) NYSTROM_SCALE(2) NYSTROM_SCALE(3)                                \
  }
  for (int b = 0; b < nblocks; ++b, w += kBlockBytes, q += 32, d += PerBlock) {
    if constexpr (PerBlock) {
      i00 = vdupq_n_s32(0), i01 = i00, i02 = i00, i03 = i00, i10 = i00, i11 = i00, i12 = i00, i13 = i00;
      i20 = i00, i21 = i00, i22 = i00, i23 = i00, i30 = i00, i31 = i00, i32 = i00, i33 = i00;
    }
    int8x16_t a0, a1, a2, a3;
    // Step with weight vectors w0..w3 (columns 0-3, ..., 12-15) and the k
    // in `lane` of the activation vectors a0..a3.
#define NYSTROM_ROW(r, lane)                    \
  i##r##0 = vdotq_laneq_s32(i##r##0, w0, a##r, lane); \
  i##r##1 = vdotq_laneq_s32(i##r##1, w1, a##r, lane); \
  i##r##2 = vdotq_laneq_s32(i##r##2, w2, a##r, lane); \
  i##r##3 = vdotq_laneq_s32(i##r##3, w3, a##r, lane);
#define NYSTROM_STEP(lane, load)                                                       \
  {                                                                                    \
    const uint8_t* wv = w + 64 * (lane);                                               \
    const int8x16_t w0 = load(wv), w1 = load(wv + 16), w2 = load(wv + 32), w3 = load(wv + 48); \
    NYSTROM_ROW(0, lane) NYSTROM_ROW(1, lane) NYSTROM_ROW(2, lane) NYSTROM_ROW(3, lane) \
  }
#define NYSTROM_ACTS(off)          \
  a0 = vld1q_s8(q + (off));        \
  a1 = vld1q_s8(q + lq + (off));   \
  a2 = vld1q_s8(q + 2 * lq + (off)); \
  a3 = vld1q_s8(q + 3 * lq + (off));
    if constexpr (Q4) {
      // The low nibbles of vector t are step t, the high nibbles step t + 4.
#define NYSTROM_LO(p) vreinterpretq_s8_u8(vshlq_n_u8(vld1q_u8(p), 4))
#define NYSTROM_HI(p) vreinterpretq_s8_u8(vandq_u8(vld1q_u8(p), hi_mask))
      NYSTROM_ACTS(0)
      NYSTROM_STEP(0, NYSTROM_LO) NYSTROM_STEP(1, NYSTROM_LO) NYSTROM_STEP(2, NYSTROM_LO) NYSTROM_STEP(3, NYSTROM_LO)
      NYSTROM_ACTS(16)
      NYSTROM_STEP(0, NYSTROM_HI) NYSTROM_STEP(1, NYSTROM_HI) NYSTROM_STEP(2, NYSTROM_HI) NYSTROM_STEP(3, NYSTROM_HI)
#undef NYSTROM_LO
#undef NYSTROM_HI
    } else {
#define NYSTROM_LD(p) vreinterpretq_s8_u8(vld1q_u8(p))
      NYSTROM_ACTS(0)
      NYSTROM_STEP(0, NYSTROM_LD) NYSTROM_STEP(1, NYSTROM_LD) NYSTROM_STEP(2, NYSTROM_LD) NYSTROM_STEP(3, NYSTROM_LD)
      w += 256;  // steps 4..7
      NYSTROM_ACTS(16)
      NYSTROM_STEP(0, NYSTROM_LD) NYSTROM_STEP(1, NYSTROM_LD) NYSTROM_STEP(2, NYSTROM_LD) NYSTROM_STEP(3, NYSTROM_LD)
      w -= 256;
#undef NYSTROM_LD
    }
#undef NYSTROM_ACTS
#undef NYSTROM_STEP
#undef NYSTROM_ROW
    if constexpr (PerBlock) NYSTROM_SCALE_ALL(reinterpret_cast<const float*>(w + kWeightBytes))
  }
  if constexpr (!PerBlock) NYSTROM_SCALE_ALL(reinterpret_cast<const float*>(w))
#undef NYSTROM_SCALE_ALL
#undef NYSTROM_SCALE

  for (int i = 0; i < mr; ++i) {
    float* row = c + (size_t)i * ldc;
    for (int j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + facc[i][j] : facc[i][j];
  }
}

}  // namespace

NYSTROM_DOTPROD void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc,
                                           int mr, int nr, bool accumulate) {
  qgemm_4x16_dot<kQ8>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

NYSTROM_DOTPROD void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc,
                                           int mr, int nr, bool accumulate) {
  qgemm_4x16_dot<kQ4>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

NYSTROM_DOTPROD void qgemm_q8c_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc,
                                            int mr, int nr, bool accumulate) {
  qgemm_4x16_dot<kQ8c>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

}  // namespace nystrom::neon_dot
