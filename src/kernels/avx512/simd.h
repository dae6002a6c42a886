// What the avx512 kernels share: the intrinsics header, masks of a vector's
// first lanes (row tails, tile edges) and the store of a GEMM register tile.
#pragma once

// GCC 12's AVX-512 header builds _mm512_undefined_* values from themselves,
// and -Wmaybe-uninitialized (or, as inlining goes, -Wuninitialized) then
// fires at every inlined max/min/cvt/reduce (GCC bug 105593); silence both
// for the header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nystrom::avx512 {

// acc + (u8 x s8 dot products of each 4-byte group), as _mm512_dpbusd_epi32,
// but with the accumulator tied to its register: GCC 12 copies each
// accumulator to a fresh register around the intrinsic in unrolled loops
// (one extra vmovdqa per vpdpbusd), which cost 8-17% of the 8-bit peak here.
inline __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
  return acc;
}

// The 4 bytes at p (4 activations of one row) in every 32-bit lane.
inline __m512i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Lanes 0 .. count-1 of 16: none for count <= 0, all for count >= 16.
inline __mmask16 first_lanes(int count) {
  return count <= 0 ? (__mmask16)0 : count >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << count) - 1u);
}

// Rows 0 .. mr-1 of a register tile with two vectors (32 columns) a row,
// its first nr columns stored to c (leading dimension ldc), added to what c
// holds when accumulate, each vector passed through f(v, h) (h = 0 for
// columns 0-15, 1 for 16-31) just before its store. Columns from nr on are
// neither read nor written.
template <typename F>
inline void store_tile_x32_map(const __m512 (*acc)[2], int mr, int nr, float* c, int ldc, bool accumulate, F f) {
  // Whole rows take plain stores, which later loads of C can forward from;
  // masked ones cannot.
  const bool whole = nr >= 32;
  const __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16);
  for (int i = 0; i < mr; ++i) {
    float* row = c + (size_t)i * ldc;
    __m512 r0 = acc[i][0], r1 = acc[i][1];
    if (accumulate) {
      r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, row));
      r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    r0 = f(r0, 0), r1 = f(r1, 1);
    if (whole) {
      _mm512_storeu_ps(row, r0);
      _mm512_storeu_ps(row + 16, r1);
    } else {
      _mm512_mask_storeu_ps(row, m0, r0);
      _mm512_mask_storeu_ps(row + 16, m1, r1);
    }
  }
}

// The tile as it is (the micro-kernels' plain store).
inline void store_tile_x32(const __m512 (*acc)[2], int mr, int nr, float* c, int ldc, bool accumulate) {
  store_tile_x32_map(acc, mr, nr, c, ldc, accumulate, [](__m512 v, int) { return v; });
}

}  // namespace nystrom::avx512
