// AVX-512 versions of the Nystrom-specific kernels: landmark segment means and
// the depthwise conv skip. Both vectorize over the feature columns of a head.
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/simd.h"
#include "kernels/nystrom_rows.h"

namespace nystrom::avx512 {

void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo) {
  const Segments seg(n, m);
  int start = 0;
  for (int j = 0; j < m; ++j) {
    const int len = seg.length(j);
    const __m512 inv = _mm512_set1_ps(1.0f / (float)len);
    for (int c = 0; c < cols; c += 16) {
      const __mmask16 mk = first_lanes(cols - c);
      __m512 sum = _mm512_setzero_ps();
      for (int t = start; t < start + len; ++t)
        sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mk, x + (size_t)t * ld + c));
      _mm512_mask_storeu_ps(out + (size_t)j * ldo + c, mk, _mm512_mul_ps(sum, inv));
    }
    start += len;
  }
}

namespace {

// Output rows t .. t+3, every tap inside the sequence, columns c .. c+31:
// eight independent FMA chains (one row and one vector at a time was bound
// by FMA latency). Input row t - K/2 + j feeds output row t + i with tap
// j - i, so each input row is loaded once for all four outputs; taking
// input rows in order adds each output's taps in order from zero, as the
// one-row loop does, so the sums are bit for bit the same.
void conv_4rows(const float* v, int t, int cols, int ldv, const float* w, int K, float* out, int ldo) {
  const float* base = v + (size_t)(t - K / 2) * ldv;
  for (int c = 0; c < cols; c += 32) {
    const __mmask16 m0 = first_lanes(cols - c), m1 = first_lanes(cols - c - 16);
    __m512 s00 = _mm512_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    const float* r = base + c;
    // Input row j feeds output i (tap j - i) when 0 <= j - i < K.
#define NYSTROM_TAP(i, j)                                              \
  {                                                                    \
    const __m512 wk = _mm512_set1_ps(w[(j) - (i)]);                    \
    s##i##0 = _mm512_fmadd_ps(wk, x0, s##i##0);                        \
    s##i##1 = _mm512_fmadd_ps(wk, x1, s##i##1);                        \
  }
    for (int j = 0; j < K + 3; ++j, r += ldv) {
      const __m512 x0 = _mm512_maskz_loadu_ps(m0, r), x1 = _mm512_maskz_loadu_ps(m1, r + 16);
      if (j >= 3 && j < K) {  // every output row takes this input row
        NYSTROM_TAP(0, j) NYSTROM_TAP(1, j) NYSTROM_TAP(2, j) NYSTROM_TAP(3, j)
      } else {
        if (j < K) NYSTROM_TAP(0, j)
        if (j >= 1 && j - 1 < K) NYSTROM_TAP(1, j)
        if (j >= 2 && j - 2 < K) NYSTROM_TAP(2, j)
        if (j >= 3) NYSTROM_TAP(3, j)
      }
    }
#undef NYSTROM_TAP
    const __m512 acc[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
    store_tile_x32(acc, 4, cols - c, out + (size_t)t * ldo + c, ldo, true);
  }
}

}  // namespace

void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo) {
  const int half = K / 2;
  auto one_row = [&](int t, int h) {
    const ConvTaps taps(t, n, K);
    const float* vh = v + (size_t)h * cols;
    const float* wh = w + (size_t)h * K;
    for (int c = 0; c < cols; c += 16) {
      const __mmask16 mk = first_lanes(cols - c);
      __m512 sum = _mm512_setzero_ps();
      for (int k = taps.k0; k < taps.k1; ++k)
        sum = _mm512_fmadd_ps(_mm512_set1_ps(wh[k]), _mm512_maskz_loadu_ps(mk, vh + (size_t)(t + k - half) * ldv + c), sum);
      float* o = out + (size_t)t * ldo + (size_t)h * cols + c;
      _mm512_mask_storeu_ps(o, mk, _mm512_add_ps(_mm512_maskz_loadu_ps(mk, o), sum));
    }
  };
  conv_rows(n, t0, t1, heads, K, one_row, [&](int t, int h) {
    conv_4rows(v + (size_t)h * cols, t, cols, ldv, w + (size_t)h * K, K, out + (size_t)h * cols, ldo);
  });
}

}  // namespace nystrom::avx512
