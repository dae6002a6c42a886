// AVX-512 row kernels of quantized and half-precision weights: the
// activation quantizer of qgemm (exactly quantize_row_q8_act) and f16 rows.
#include <cmath>

#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"

namespace nystrom::avx512 {

namespace {

// round-half-away(t), exactly: truncate, then step away from zero when the
// dropped fraction (exact: |t| < 2^23) is at least one half.
inline __m512 round_half_away(__m512 t) {
  const __m512 r = _mm512_roundscale_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(t, r));
  const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_or_ps(_mm512_and_ps(t, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
  return _mm512_mask_add_ps(r, up, r, one);
}

// x / d exactly as the division rounds it, from r = 1/d (rounded) without
// a vector division (vdivps zmm issues once per ~10 cycles; it made the
// activation quantizer 12% of a 512 x 768 x 768 q8_c GEMM). The product
// x r is within an ulp of x / d, the FMA residual x - q d is exact, and one
// correction step rounds to the quotient (Markstein's theorem; checked here
// against vdivps on 9.6e8 quotients near k + 1/2, d from 2^-75 up). Only
// for d >= kFastDivMin, where no product or residual nears underflow.
constexpr float kFastDivMin = 0x1p-64f;
inline __m512 divide(__m512 x, __m512 d, __m512 r) {
  const __m512 q = _mm512_mul_ps(x, r);
  return _mm512_fmadd_ps(_mm512_fnmadd_ps(q, d, x), r, q);
}

// round-half-away(x / d) as int32, the division exact either way.
inline __m512i quantize16(__m512 x, __m512 d, __m512 r, bool fast) {
  return _mm512_cvttps_epi32(round_half_away(fast ? divide(x, d, r) : _mm512_div_ps(x, d)));
}

}  // namespace

void quantize_act_row(const float* x, int k, int8_t* q, float* d, int32_t* corr) {
  const __m512 inf = _mm512_set1_ps(INFINITY);
  for (int b = 0; b < k / 32; ++b, x += 32, q += 32) {
    const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    const __m512 a0 = _mm512_abs_ps(x0), a1 = _mm512_abs_ps(x1);
    const bool finite = (_mm512_cmp_ps_mask(a0, inf, _CMP_NLT_UQ) | _mm512_cmp_ps_mask(a1, inf, _CMP_NLT_UQ)) == 0;
    const float db = finite ? _mm512_reduce_max_ps(_mm512_max_ps(a0, a1)) / 127.0f : NAN;
    __m512i q0 = _mm512_setzero_si512(), q1 = q0;
    if (finite && db != 0.0f) {
      const bool fast = db >= kFastDivMin;
      const __m512 dv = _mm512_set1_ps(db), rv = _mm512_set1_ps(fast ? 1.0f / db : 0.0f);
      q0 = quantize16(x0, dv, rv, fast);
      q1 = quantize16(x1, dv, rv, fast);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), _mm512_cvtepi32_epi8(q1));
    d[b] = db;
    corr[b] = -128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
  }
}

// q8_c: one scale for the whole row (exactly quantize_row_q8c_act).
void quantize_act_row_c(const float* x, int k, int8_t* q, float* d, int32_t* corr) {
  __m512 amax = _mm512_setzero_ps();
  __mmask16 bad = 0;
  const __m512 inf = _mm512_set1_ps(INFINITY);
  for (int i = 0; i < k; i += 16) {
    const __m512 a = _mm512_abs_ps(_mm512_loadu_ps(x + i));
    bad |= _mm512_cmp_ps_mask(a, inf, _CMP_NLT_UQ);
    amax = _mm512_max_ps(amax, a);
  }
  const bool finite = bad == 0;
  const float db = finite ? _mm512_reduce_max_ps(amax) / 127.0f : NAN;
  *d = db;
  if (!finite || db == 0.0f) {
    for (int i = 0; i < k; ++i) q[i] = 0;
    *corr = 0;
    return;
  }
  const bool fast = db >= kFastDivMin;
  const __m512 dv = _mm512_set1_ps(db), rv = _mm512_set1_ps(fast ? 1.0f / db : 0.0f);
  __m512i sum = _mm512_setzero_si512();
  for (int i = 0; i < k; i += 16) {
    const __m512i qi = quantize16(_mm512_loadu_ps(x + i), dv, rv, fast);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(qi));
    sum = _mm512_add_epi32(sum, qi);
  }
  *corr = -128 * _mm512_reduce_add_epi32(sum);
}

void f16_to_f32_row(const uint16_t* src, float* dst, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i)));
  }
}

}  // namespace nystrom::avx512
