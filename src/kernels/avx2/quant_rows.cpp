// AVX2 row kernels of quantized and half-precision weights: the activation
// quantizer of qgemm (exactly quantize_row_q8_act) and f16 rows (F16C).
#include <immintrin.h>

#include <cmath>

#include "format/half.h"
#include "kernels/avx2/avx2.h"

namespace nystrom::avx2 {

namespace {

// round-half-away(t), exactly: truncate, then step away from zero when the
// dropped fraction (exact: |t| < 2^23) is at least one half.
inline __m256 round_half_away(__m256 t) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 r = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(t, r));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_and_ps(t, sign), _mm256_set1_ps(1.0f));
  return _mm256_add_ps(r, _mm256_and_ps(up, one));
}

// x / d with the division's bits, from r = 1/d and one exact FMA correction
// (as avx512/quant_rows.cpp explains; checked there against vdivps), for
// d >= kFastDivMin; smaller d divides.
constexpr float kFastDivMin = 0x1p-64f;
inline __m256 quotient(__m256 x, __m256 d, __m256 r, bool fast) {
  if (!fast) return _mm256_div_ps(x, d);
  const __m256 q = _mm256_mul_ps(x, r);
  return _mm256_fmadd_ps(_mm256_fnmadd_ps(q, d, x), r, q);
}

}  // namespace

void quantize_act_row(const float* x, int k, int8_t* q, float* d, int32_t* corr) {
  const __m256 sign = _mm256_set1_ps(-0.0f), inf = _mm256_set1_ps(INFINITY);
  for (int b = 0; b < k / 32; ++b, x += 32, q += 32) {
    const __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
    const __m256 x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
    const __m256 a0 = _mm256_andnot_ps(sign, x0), a1 = _mm256_andnot_ps(sign, x1);
    const __m256 a2 = _mm256_andnot_ps(sign, x2), a3 = _mm256_andnot_ps(sign, x3);
    const __m256 bad = _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(a0, inf, _CMP_NLT_UQ), _mm256_cmp_ps(a1, inf, _CMP_NLT_UQ)),
                                    _mm256_or_ps(_mm256_cmp_ps(a2, inf, _CMP_NLT_UQ), _mm256_cmp_ps(a3, inf, _CMP_NLT_UQ)));
    const bool finite = _mm256_movemask_ps(bad) == 0;
    __m256 m = _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float db = finite ? _mm_cvtss_f32(m4) / 127.0f : NAN;
    __m256i q0 = _mm256_setzero_si256(), q1 = q0, q2 = q0, q3 = q0;
    if (finite && db != 0.0f) {
      const bool fast = db >= kFastDivMin;
      const __m256 dv = _mm256_set1_ps(db), rv = _mm256_set1_ps(fast ? 1.0f / db : 0.0f);
      q0 = _mm256_cvttps_epi32(round_half_away(quotient(x0, dv, rv, fast)));
      q1 = _mm256_cvttps_epi32(round_half_away(quotient(x1, dv, rv, fast)));
      q2 = _mm256_cvttps_epi32(round_half_away(quotient(x2, dv, rv, fast)));
      q3 = _mm256_cvttps_epi32(round_half_away(quotient(x3, dv, rv, fast)));
    }
    // Packing works within 128-bit lanes; the permute restores the order.
    const __m256i q01 = _mm256_packs_epi32(q0, q1), q23 = _mm256_packs_epi32(q2, q3);
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q01, q23),
                                                      _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), bytes);
    const __m256i s = _mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
    d[b] = db;
    corr[b] = -128 * _mm_cvtsi128_si32(s4);
  }
}

void f16_to_f32_row(const uint16_t* src, float* dst, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = f16_to_float(src[i]);
}

}  // namespace nystrom::avx2
