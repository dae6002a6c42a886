// AVX-512 bf16 conversions and the 12 x 32 bf16 micro-kernel (contracts:
// kernel_table.h), each in two versions that give the same bits: native
// (vcvtne2ps2bf16, vdpbf16ps: AVX-512 BF16, on Zen 4 and Sapphire Rapids)
// and emulated (integer rounding; two f32 FMAs a pair, the products of two
// bf16 being exact in f32) for AVX-512 CPUs without it. The dispatcher picks
// the table by the CPU's flag. The BF16 instructions are assembled, not
// intrinsics, so no function here needs the BF16 target.
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"

namespace nystrom::avx512 {

namespace {

// Each 32-bit lane of x rounded to bf16 in its high half (bf16_from_float:
// nearest even; subnormals to signed zero; NaNs quiet), low half garbage.
inline __m512i round_to_bf16_hi(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i abs = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(abs, _mm512_set1_epi32(0x7f800000));
  const __mmask16 tiny = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7f800000));
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
  r = _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x00400000));
  return _mm512_mask_and_epi32(r, tiny, u, _mm512_set1_epi32((int)0x80000000u));
}

// Vdpbf16ps with the accumulator tied to its register (see dpbusd in
// simd.h) and A's pair broadcast from memory. Assembled, not an intrinsic:
// no function here needs the BF16 target, and it only runs where the CPU
// has it.
inline __m512 dpbf16(__m512 acc, __m512i b, const uint32_t* a) {
  __asm__("vdpbf16ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(b), "m"(*a));
  return acc;
}

// The same bits with f32 FMAs: the high halves first, then the low ones.
inline __m512 hi_half(__m512i v) { return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32((int)0xffff0000u))); }
inline __m512 lo_half(__m512i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)); }

struct Native {
  __m512i b0, b1;
  void load(const uint32_t* b) { b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 16); }
  void row(__m512& c0, __m512& c1, const uint32_t* a) const { c0 = dpbf16(c0, b0, a), c1 = dpbf16(c1, b1, a); }
};

// Without vdpbf16ps the emulation flushes nothing: where a step's result
// is subnormal it keeps it (the only difference; kernel_table.h).
struct Emulated {
  __m512 h0, l0, h1, l1;
  void load(const uint32_t* b) {
    const __m512i v0 = _mm512_loadu_si512(b), v1 = _mm512_loadu_si512(b + 16);
    h0 = hi_half(v0), l0 = lo_half(v0), h1 = hi_half(v1), l1 = lo_half(v1);
  }
  void row(__m512& c0, __m512& c1, const uint32_t* a) const {
    const __m512i w = _mm512_set1_epi32((int)*a);
    const __m512 ah = hi_half(w), al = lo_half(w);
    c0 = _mm512_fmadd_ps(al, l0, _mm512_fmadd_ps(ah, h0, c0));
    c1 = _mm512_fmadd_ps(al, l1, _mm512_fmadd_ps(ah, h1, c1));
  }
};

// Rows 0-2, 3-5, 6-8 and 9-11 each hang off one pointer (as in
// gemm_12x32.cpp); accumulators are named variables so they stay in
// registers.
template <typename Dot>
inline void bf16_12x32(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c, int ldc,
                       int mr, int nr) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  __m512 c60 = c00, c61 = c00, c70 = c00, c71 = c00, c80 = c00, c81 = c00;
  __m512 c90 = c00, c91 = c00, cA0 = c00, cA1 = c00, cB0 = c00, cB1 = c00;
  const uint32_t *r0 = a, *r3 = a + 3 * lda, *r6 = a + 6 * lda, *r9 = a + 9 * lda;
  const size_t l1 = lda, l2 = 2 * lda;
  Dot dot;
  for (int t = 0; t < pairs; ++t, b += ldb, ++r0, ++r3, ++r6, ++r9) {
    dot.load(b);
    dot.row(c00, c01, r0), dot.row(c10, c11, r0 + l1), dot.row(c20, c21, r0 + l2);
    dot.row(c30, c31, r3), dot.row(c40, c41, r3 + l1), dot.row(c50, c51, r3 + l2);
    dot.row(c60, c61, r6), dot.row(c70, c71, r6 + l1), dot.row(c80, c81, r6 + l2);
    dot.row(c90, c91, r9), dot.row(cA0, cA1, r9 + l1), dot.row(cB0, cB1, r9 + l2);
  }
  const __m512 acc[12][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51},
                             {c60, c61}, {c70, c71}, {c80, c81}, {c90, c91}, {cA0, cA1}, {cB0, cB1}};
  store_tile_x32(acc, mr, nr, c, ldc, false);
}

// 32 floats (lo: the first 16) as 32 bf16 in order, one 16-bit lane each:
// by vcvtne2ps2bf16 (bit for bit bf16_from_float on all 2^32 inputs, checked
// on Zen 4) or by the integer rounding above.
struct NativeRound {
  static __m512i two(__m512 lo, __m512 hi) {
    __m512i r;
    __asm__("vcvtne2ps2bf16 %2, %1, %0" : "=v"(r) : "v"(hi), "v"(lo));
    return r;
  }
};
struct EmulatedRound {
  static __m512i two(__m512 lo, __m512 hi) {
    const __m512i odd_halves = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29,
                                                27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_permutex2var_epi16(round_to_bf16_hi(lo), odd_halves, round_to_bf16_hi(hi));
  }
};

template <typename Round>
inline void convert_row(const float* x, int k, uint32_t* pairs) {
  int i = 0, t = 0;
  for (; i + 32 <= k; i += 32, t += 16)
    _mm512_storeu_si512(pairs + t, Round::two(_mm512_loadu_ps(x + i), _mm512_loadu_ps(x + i + 16)));
  if (i < k) {  // the tail: missing values read as zeros, which round to zero
    const __m512i r = Round::two(_mm512_maskz_loadu_ps(first_lanes(k - i), x + i),
                                 _mm512_maskz_loadu_ps(first_lanes(k - i - 16), x + i + 16));
    _mm512_mask_storeu_epi32(pairs + t, first_lanes((k - i + 1) / 2), r);
  }
}

template <typename Round>
inline void interleave_rows(const float* lo, const float* hi, int n, uint32_t* pairs) {
  // [lo 0..15, hi 0..15] -> lo 0, hi 0, lo 1, hi 1, ...
  const __m512i zip = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
                                       5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int j = 0; j < n; j += 16) {
    const __mmask16 m = first_lanes(n - j);
    const __m512 h = hi ? _mm512_maskz_loadu_ps(m, hi + j) : _mm512_setzero_ps();
    const __m512i r = Round::two(_mm512_maskz_loadu_ps(m, lo + j), h);
    _mm512_mask_storeu_epi32(pairs + j, m, _mm512_permutexvar_epi16(zip, r));
  }
}

}  // namespace

void bf16_convert_row(const float* x, int k, uint32_t* pairs) { convert_row<NativeRound>(x, k, pairs); }
void bf16_convert_row_emulated(const float* x, int k, uint32_t* pairs) { convert_row<EmulatedRound>(x, k, pairs); }
void bf16_interleave_rows(const float* lo, const float* hi, int n, uint32_t* pairs) {
  interleave_rows<NativeRound>(lo, hi, n, pairs);
}
void bf16_interleave_rows_emulated(const float* lo, const float* hi, int n, uint32_t* pairs) {
  interleave_rows<EmulatedRound>(lo, hi, n, pairs);
}

void gemm_bf16_ukernel_12x32(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c,
                             int ldc, int mr, int nr) {
  bf16_12x32<Native>(pairs, a, lda, b, ldb, c, ldc, mr, nr);
}

void gemm_bf16_ukernel_emulated_12x32(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb,
                                      float* c, int ldc, int mr, int nr) {
  bf16_12x32<Emulated>(pairs, a, lda, b, ldb, c, ldc, mr, nr);
}

}  // namespace nystrom::avx512
