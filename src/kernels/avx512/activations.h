// The avx512 level's vector exp and activations, shared by its row kernels
// (softmax, the GEMM epilogue) and the q8_c micro-kernel that applies the
// epilogue in registers, so both compute the same bits.
//
// exp and erfc are the engine's own polynomial fits, with the constants of
// kernels/approx.h (which gives their derivation and error):
//   exp(x):  x = k ln2 + r, e^r = 1 + r + r^2 g(r), g of degree 4.
//   erfc(a): t = 1 / (1 + 0.4 a), erfc(a) = e^(-a^2) t P(t), P of degree 8.
#pragma once

#include "kernels/approx.h"
#include "kernels/avx512/simd.h"

namespace nystrom::avx512 {

// e^x per lane; NaN stays NaN (max/min return their second operand on NaN).
inline __m512 exp_ps(__m512 x) {
  const __m512 lo = _mm512_set1_ps(approx::kExpLo);
  const __m512 xc = _mm512_min_ps(_mm512_set1_ps(approx::kExpHi), _mm512_max_ps(lo, x));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(approx::kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // xc - k*kLn2Hi is exact with FMA (see kernels/approx.h); only the
  // kLn2Lo step rounds.
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(approx::kLn2Hi), xc);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(approx::kLn2Lo), r);
  __m512 g = _mm512_fmadd_ps(_mm512_set1_ps(approx::kExpG4), r, _mm512_set1_ps(approx::kExpG3));
  g = _mm512_fmadd_ps(g, r, _mm512_set1_ps(approx::kExpG2));
  g = _mm512_fmadd_ps(g, r, _mm512_set1_ps(approx::kExpG1));
  g = _mm512_fmadd_ps(g, r, _mm512_set1_ps(approx::kExpG0));
  const __m512 er = _mm512_add_ps(_mm512_fmadd_ps(g, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  const __m512i ki = _mm512_cvtps_epi32(k);
  const __m512 two_k = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(ki, _mm512_set1_epi32(127)), 23));
  // Zero where x < kExpLo; the compare is true on NaN, so NaN lanes stay NaN.
  return _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(x, lo, _CMP_NLT_UQ), er, two_k);
}

// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), as x / (1 + e^(-2u))
// (the reasoning is in avx2/row_kernels.cpp).
inline __m512 gelu_tanh(__m512 x) {
  const __m512 x2 = _mm512_mul_ps(x, x);
  const __m512 poly = _mm512_fmadd_ps(x2, _mm512_set1_ps(-2.0f * approx::kSqrt2OverPi * approx::kGeluTanhC),
                                      _mm512_set1_ps(-2.0f * approx::kSqrt2OverPi));
  const __m512 e = exp_ps(_mm512_mul_ps(x, poly));  // e^(-2u)
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// 1 / d for d in [1, 1 + kErfcT kErfcAMax] = [1, 3.4], with the bits of
// the division but without vdivps (one per 16 values was a third of the
// GELU's time): rcp14's estimate, one Newton step (within an ulp), then
// Markstein's correction r + r (1 - d r), whose residual the FMA gives
// exactly. Over every float of [1, 3.4] this equals 1 / d but for d = 2 -
// 2^-23, where 1 / d lies just above a tie that the correction rounds
// to even, so that one value is set (checked for every float of the range
// when written; tests/kernels/test_row_kernels.cpp holds the GELU to the
// division's bits on a dense grid).
inline __m512 reciprocal_1_to_3_4(__m512 d) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 r0 = _mm512_rcp14_ps(d);
  const __m512 r1 = _mm512_fmadd_ps(r0, _mm512_fnmadd_ps(d, r0, one), r0);
  const __m512 r2 = _mm512_fmadd_ps(r1, _mm512_fnmadd_ps(d, r1, one), r1);
  const __mmask16 tie = _mm512_cmp_ps_mask(d, _mm512_set1_ps(0x1.fffffep0f), _CMP_EQ_OQ);
  return _mm512_mask_mov_ps(r2, tie, _mm512_set1_ps(0x1.000002p-1f));
}

// 0.5 x (1 + erf(x / sqrt 2)) = x Phi(x), with q = erfc(|z|) / 2:
// Phi = 1 - q for x >= 0 and q for x < 0.
inline __m512 gelu_erf(__m512 x) {
  const __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(approx::kInvSqrt2));
  const __m512 a = _mm512_abs_ps(z);
  // min() maps NaN to kErfcAMax (its second operand), so d stays in range;
  // a NaN x still gives NaN through the final product.
  const __m512 t = reciprocal_1_to_3_4(_mm512_fmadd_ps(_mm512_min_ps(a, _mm512_set1_ps(approx::kErfcAMax)),
                                                        _mm512_set1_ps(approx::kErfcT), _mm512_set1_ps(1.0f)));
  __m512 p = _mm512_set1_ps(approx::kErfcP[8]);
  for (int i = 7; i >= 0; --i) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(approx::kErfcP[i]));
  const __m512 e = exp_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a));  // e^(-a^2)
  const __m512 q = _mm512_mul_ps(_mm512_mul_ps(e, _mm512_set1_ps(0.5f)), _mm512_mul_ps(t, p));
  // Lanes with the sign bit set (x < 0, and -0) take q, the others 1 - q.
  const __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(x));
  const __m512 phi = _mm512_mask_mov_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), q), neg, q);
  return _mm512_mul_ps(x, phi);
}

// max(v, 0) returns 0 for -0 and NaN, like the reference's v > 0 ? v : 0.
inline __m512 relu(__m512 v) { return _mm512_max_ps(v, _mm512_setzero_ps()); }

}  // namespace nystrom::avx512
