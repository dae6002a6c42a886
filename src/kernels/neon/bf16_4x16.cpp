// NEON bf16 conversions and micro-kernel, 4 x 16 (contracts:
// kernel_table.h). Armv8.6's BFDOT rounds differently from vdpbf16ps (and
// few boards have it), so each pair is split into two floats (a bf16 is the
// high half of a float) and multiplied with two f32 FMAs, high half first:
// vdpbf16ps' bits (the products of two bf16 are exact in f32) except where
// a step is subnormal (kept here, flushed by the instruction). 16
// accumulators, 8 split B vectors and 2 split A values of 32 registers.
#include <arm_neon.h>

#include "kernels/bf16_round.h"
#include "kernels/neon/neon.h"

namespace nystrom::neon {

namespace {

// Each lane of x rounded to bf16 in its high half (nearest even;
// subnormals to signed zero; NaNs quiet), low half garbage.
inline uint32x4_t round_to_bf16_hi(uint32x4_t u) {
  const uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7fffffffu)), vdupq_n_u32(0x7f800000u));
  const uint32x4_t tiny = vceqq_u32(vandq_u32(u, vdupq_n_u32(0x7f800000u)), vdupq_n_u32(0));
  const uint32x4_t odd = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
  uint32x4_t r = vaddq_u32(u, vaddq_u32(odd, vdupq_n_u32(0x7fffu)));
  r = vbslq_u32(nan, vorrq_u32(u, vdupq_n_u32(0x00400000u)), r);
  return vbslq_u32(tiny, vandq_u32(u, vdupq_n_u32(0x80000000u)), r);
}

inline uint32x4_t load_bits(const float* p) { return vreinterpretq_u32_f32(vld1q_f32(p)); }


inline float32x4_t hi_half(uint32x4_t v) { return vreinterpretq_f32_u32(vandq_u32(v, vdupq_n_u32(0xffff0000u))); }
inline float32x4_t lo_half(uint32x4_t v) { return vreinterpretq_f32_u32(vshlq_n_u32(v, 16)); }

// The tails, a value at a time.
inline uint32_t tail(float x) { return bf16_from_float(x); }

}  // namespace

void bf16_convert_row(const float* x, int k, uint32_t* pairs) {
  // The high 16-bit halves of 8 lanes, in order, are 4 pairs (uzp2).
  int i = 0, t = 0;
  for (; i + 8 <= k; i += 8, t += 4) {
    const uint16x8_t r0 = vreinterpretq_u16_u32(round_to_bf16_hi(load_bits(x + i)));
    const uint16x8_t r1 = vreinterpretq_u16_u32(round_to_bf16_hi(load_bits(x + i + 4)));
    vst1q_u32(pairs + t, vreinterpretq_u32_u16(vuzp2q_u16(r0, r1)));
  }
  for (; i < k; i += 2, ++t) pairs[t] = tail(x[i]) | (i + 1 < k ? tail(x[i + 1]) << 16 : 0u);
}

void bf16_interleave_rows(const float* lo, const float* hi, int n, uint32_t* pairs) {
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint32x4_t l = vshrq_n_u32(round_to_bf16_hi(load_bits(lo + j)), 16);
    const uint32x4_t h = hi ? vandq_u32(round_to_bf16_hi(load_bits(hi + j)), vdupq_n_u32(0xffff0000u)) : vdupq_n_u32(0);
    vst1q_u32(pairs + j, vorrq_u32(l, h));
  }
  for (; j < n; ++j) pairs[j] = tail(lo[j]) | (hi ? tail(hi[j]) << 16 : 0u);
}

void gemm_bf16_ukernel_4x16(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c,
                            int ldc, int mr, int nr) {
  float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  float32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  const uint32_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
  for (int t = 0; t < pairs; ++t, b += ldb) {
    const uint32x4_t v0 = vld1q_u32(b), v1 = vld1q_u32(b + 4), v2 = vld1q_u32(b + 8), v3 = vld1q_u32(b + 12);
    const float32x4_t h0 = hi_half(v0), l0 = lo_half(v0), h1 = hi_half(v1), l1 = lo_half(v1);
    const float32x4_t h2 = hi_half(v2), l2 = lo_half(v2), h3 = hi_half(v3), l3 = lo_half(v3);
#define NYSTROM_ROW(i)                                              \
  {                                                                 \
    const uint32x4_t w = vdupq_n_u32(a##i[t]);                      \
    const float32x4_t ah = hi_half(w), al = lo_half(w);             \
    c##i##0 = vfmaq_f32(vfmaq_f32(c##i##0, ah, h0), al, l0);        \
    c##i##1 = vfmaq_f32(vfmaq_f32(c##i##1, ah, h1), al, l1);        \
    c##i##2 = vfmaq_f32(vfmaq_f32(c##i##2, ah, h2), al, l2);        \
    c##i##3 = vfmaq_f32(vfmaq_f32(c##i##3, ah, h3), al, l3);        \
  }
    NYSTROM_ROW(0) NYSTROM_ROW(1) NYSTROM_ROW(2) NYSTROM_ROW(3)
#undef NYSTROM_ROW
  }
  float tile[4][16];
  vst1q_f32(tile[0], c00), vst1q_f32(tile[0] + 4, c01), vst1q_f32(tile[0] + 8, c02), vst1q_f32(tile[0] + 12, c03);
  vst1q_f32(tile[1], c10), vst1q_f32(tile[1] + 4, c11), vst1q_f32(tile[1] + 8, c12), vst1q_f32(tile[1] + 12, c13);
  vst1q_f32(tile[2], c20), vst1q_f32(tile[2] + 4, c21), vst1q_f32(tile[2] + 8, c22), vst1q_f32(tile[2] + 12, c23);
  vst1q_f32(tile[3], c30), vst1q_f32(tile[3] + 4, c31), vst1q_f32(tile[3] + 8, c32), vst1q_f32(tile[3] + 12, c33);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) c[(size_t)i * ldc + j] = tile[i][j];
}

}  // namespace nystrom::neon
