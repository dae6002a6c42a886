// The machine's 8-bit dot-product limit: independent chains of VNNI
// vpdpbusd (u8 x s8, 64 multiply-adds each) with no memory traffic, for
// judging the integer GEMM as fma_peak_loop judges the float one.
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"

namespace nystrom::avx512 {

double int8_peak_loop(long iters, int* sink) {
  __m512i acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  __m512i s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_epi32(s, acc[i]);
  _mm512_storeu_si512(sink, s);
  return (double)iters * 12 * 64 * 2;  // ops: a multiply and an add per byte pair
}

}  // namespace nystrom::avx512
