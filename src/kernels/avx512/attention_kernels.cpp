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
// eight independent FMA chains. One row and one vector at a time was bound
// by FMA latency (a chain of K dependent FMAs); each chain here still adds
// its taps in order from zero, so the sums are bit for bit the same.
void conv_4rows(const float* v, int t, int cols, int ldv, const float* w, int K, float* out, int ldo) {
  const float* base = v + (size_t)(t - K / 2) * ldv;
  for (int c = 0; c < cols; c += 32) {
    const __mmask16 m0 = first_lanes(cols - c), m1 = first_lanes(cols - c - 16);
    __m512 s00 = _mm512_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    const float* r = base + c;
    for (int k = 0; k < K; ++k, r += ldv) {
      const __m512 wk = _mm512_set1_ps(w[k]);
      s00 = _mm512_fmadd_ps(wk, _mm512_maskz_loadu_ps(m0, r), s00);
      s01 = _mm512_fmadd_ps(wk, _mm512_maskz_loadu_ps(m1, r + 16), s01);
      s10 = _mm512_fmadd_ps(wk, _mm512_maskz_loadu_ps(m0, r + ldv), s10);
      s11 = _mm512_fmadd_ps(wk, _mm512_maskz_loadu_ps(m1, r + ldv + 16), s11);
      s20 = _mm512_fmadd_ps(wk, _mm512_maskz_loadu_ps(m0, r + 2 * (size_t)ldv), s20);
      s21 = _mm512_fmadd_ps(wk, _mm512_maskz_loadu_ps(m1, r + 2 * (size_t)ldv + 16), s21);
      s30 = _mm512_fmadd_ps(wk, _mm512_maskz_loadu_ps(m0, r + 3 * (size_t)ldv), s30);
      s31 = _mm512_fmadd_ps(wk, _mm512_maskz_loadu_ps(m1, r + 3 * (size_t)ldv + 16), s31);
    }
    const __m512 acc[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
    store_tile_x32(acc, 4, cols - c, out + (size_t)t * ldo + c, ldo, true);
  }
}

}  // namespace

void depthwise_conv_add(const float* v, int n, int cols, int ldv, const float* w, int K, float* out, int ldo) {
  const int half = K / 2;
  auto one_row = [&](int t) {
    const ConvTaps taps(t, n, K);
    for (int c = 0; c < cols; c += 16) {
      const __mmask16 mk = first_lanes(cols - c);
      __m512 sum = _mm512_setzero_ps();
      for (int k = taps.k0; k < taps.k1; ++k)
        sum = _mm512_fmadd_ps(_mm512_set1_ps(w[k]), _mm512_maskz_loadu_ps(mk, v + (size_t)(t + k - half) * ldv + c), sum);
      float* o = out + (size_t)t * ldo + c;
      _mm512_mask_storeu_ps(o, mk, _mm512_add_ps(_mm512_maskz_loadu_ps(mk, o), sum));
    }
  };
  // Rows [half, n + half - K] see every tap; those before and after, fewer.
  const int interior_end = n + half - K + 1;
  int t = 0;
  for (; t < n && t < half; ++t) one_row(t);
  for (; t + 4 <= interior_end; t += 4) conv_4rows(v, t, cols, ldv, w, K, out, ldo);
  for (; t < n; ++t) one_row(t);
}

}  // namespace nystrom::avx512
