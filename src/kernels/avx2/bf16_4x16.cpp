// AVX2 bf16 conversions and micro-kernel, 4 x 16 (contracts: kernel_table.h).
// The conversions round with integer operations (bf16_from_float's rule).
// AVX2 has no bf16 arithmetic: each pair is split into
// two floats (a bf16 is the high half of a float) and multiplied with two
// f32 FMAs, high half first, which gives vdpbf16ps' bits (the products of
// two bf16 are exact in f32) except where a step is subnormal (kept here,
// flushed by the instruction). 8 accumulators, 4 split B vectors and 2
// split A values: 14 of the 16 ymm registers.
#include <immintrin.h>

#include "kernels/avx2/avx2.h"
#include "kernels/bf16_round.h"

namespace nystrom::avx2 {

namespace {
inline __m256 hi_half(__m256i v) { return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xffff0000u))); }
inline __m256 lo_half(__m256i v) { return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)); }
// Each 32-bit lane of x rounded to bf16 in its high half (nearest even;
// subnormals to signed zero; NaNs quiet), low half garbage.
inline __m256i round_to_bf16_hi(__m256i u) {
  const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
  const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));  // abs is non-negative
  const __m256i tiny = _mm256_cmpeq_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7f800000)), _mm256_setzero_si256());
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff)));
  r = _mm256_blendv_epi8(r, _mm256_or_si256(u, _mm256_set1_epi32(0x00400000)), nan);
  return _mm256_blendv_epi8(r, _mm256_and_si256(u, _mm256_set1_epi32((int)0x80000000u)), tiny);
}


// The tails, a value at a time.
inline uint32_t tail(float x) { return bf16_from_float(x); }

}  // namespace

void bf16_convert_row(const float* x, int k, uint32_t* pairs) {
  // The 16 bf16 of two vectors, each in its lane's low half, packed to 16
  // bits (no value saturates) and put back in order across the halves.
  int i = 0, t = 0;
  for (; i + 16 <= k; i += 16, t += 8) {
    const __m256i r0 = _mm256_srli_epi32(round_to_bf16_hi(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i))), 16);
    const __m256i r1 =
        _mm256_srli_epi32(round_to_bf16_hi(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8))), 16);
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r0, r1), 0xd8);  // 0, 2, 1, 3
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pairs + t), packed);
  }
  for (; i < k; i += 2, ++t) pairs[t] = tail(x[i]) | (i + 1 < k ? tail(x[i + 1]) << 16 : 0u);
}

void bf16_interleave_rows(const float* lo, const float* hi, int n, uint32_t* pairs) {
  const __m256i keep_hi = _mm256_set1_epi32((int)0xffff0000u);
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i l = _mm256_srli_epi32(round_to_bf16_hi(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + j))), 16);
    const __m256i h = hi ? _mm256_and_si256(round_to_bf16_hi(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi + j))),
                                            keep_hi)
                         : _mm256_setzero_si256();
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pairs + j), _mm256_or_si256(l, h));
  }
  for (; j < n; ++j) pairs[j] = tail(lo[j]) | (hi ? tail(hi[j]) << 16 : 0u);
}

void gemm_bf16_ukernel_4x16(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c,
                            int ldc, int mr, int nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const uint32_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
  for (int t = 0; t < pairs; ++t, b += ldb) {
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 8));
    const __m256 h0 = hi_half(v0), l0 = lo_half(v0), h1 = hi_half(v1), l1 = lo_half(v1);
#define NYSTROM_ROW(i)                                                 \
  {                                                                    \
    const __m256i w = _mm256_set1_epi32((int)a##i[t]);                 \
    const __m256 ah = hi_half(w), al = lo_half(w);                     \
    c##i##0 = _mm256_fmadd_ps(al, l0, _mm256_fmadd_ps(ah, h0, c##i##0)); \
    c##i##1 = _mm256_fmadd_ps(al, l1, _mm256_fmadd_ps(ah, h1, c##i##1)); \
  }
    NYSTROM_ROW(0) NYSTROM_ROW(1) NYSTROM_ROW(2) NYSTROM_ROW(3)
#undef NYSTROM_ROW
  }
  alignas(32) float tile[4][16];
  _mm256_store_ps(tile[0], c00), _mm256_store_ps(tile[0] + 8, c01);
  _mm256_store_ps(tile[1], c10), _mm256_store_ps(tile[1] + 8, c11);
  _mm256_store_ps(tile[2], c20), _mm256_store_ps(tile[2] + 8, c21);
  _mm256_store_ps(tile[3], c30), _mm256_store_ps(tile[3] + 8, c31);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) c[(size_t)i * ldc + j] = tile[i][j];
}

}  // namespace nystrom::avx2
