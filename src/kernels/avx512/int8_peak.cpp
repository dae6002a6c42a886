// The machine's 8-bit dot-product limit: independent chains of VNNI
// vpdpbusd (u8 x s8, 64 multiply-adds each) with no memory traffic, for
// judging the integer GEMM as fma_peak_loop judges the float one.
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"
#include "kernels/peak_chains.h"

namespace nystrom::avx512 {

double int8_peak_loop(long iters, int* sink) {
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  _mm512_storeu_si512(sink, run_peak_chains<12, __m512i>(
                                iters, [](int i) { return _mm512_set1_epi32(i); },
                                [&](__m512i acc) { return dpbusd(acc, a, b); },
                                [](__m512i s, __m512i t) { return _mm512_add_epi32(s, t); }));
  return (double)iters * 12 * 64 * 2;  // ops: a multiply and an add per byte pair
}

}  // namespace nystrom::avx512
