// AVX2 versions of the Nystrom-specific kernels: landmark segment means and
// the depthwise conv skip. Both vectorize over the feature columns of a head;
// a partial last vector uses masked loads and stores.
#include <immintrin.h>

#include "kernels/avx2/avx2.h"
#include "kernels/nystrom_rows.h"

namespace nystrom::avx2 {

namespace {
__m256i tail_mask(int cols) {  // cols <= 0: no lane
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(cols < 8 ? cols : 8), lanes);
}
}  // namespace

void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo) {
  const Segments seg(n, m);
  int start = 0;
  for (int j = 0; j < m; ++j) {
    const int len = seg.length(j);
    const __m256 inv = _mm256_set1_ps(1.0f / (float)len);
    for (int c = 0; c < cols; c += 8) {
      const __m256i mk = tail_mask(cols - c);
      __m256 sum = _mm256_setzero_ps();
      for (int t = start; t < start + len; ++t)
        sum = _mm256_add_ps(sum, _mm256_maskload_ps(x + (size_t)t * ld + c, mk));
      _mm256_maskstore_ps(out + (size_t)j * ldo + c, mk, _mm256_mul_ps(sum, inv));
    }
    start += len;
  }
}

namespace {

// Output rows t .. t+3, every tap inside the sequence, columns c .. c+15:
// eight independent FMA chains (one row and one vector at a time was bound
// by FMA latency). Input row t - K/2 + j feeds output row t + i with tap
// j - i, so each input row is loaded once for all four outputs; taking
// input rows in order adds each output's taps in order from zero, as
// one_row does, so the sums are bit for bit the same.
void conv_4rows(const float* v, int t, int cols, int ldv, const float* w, int K, float* out, int ldo) {
  const float* base = v + (size_t)(t - K / 2) * ldv;
  for (int c = 0; c < cols; c += 16) {
    const __m256i m0 = tail_mask(cols - c), m1 = tail_mask(cols - c - 8);
    __m256 s[4][2];
    for (auto& row : s) row[0] = row[1] = _mm256_setzero_ps();
    const bool full = cols - c >= 16;  // plain loads and stores: vmaskmovps is slow on AMD
    const float* r = base + c;
    for (int j = 0; j < K + 3; ++j, r += ldv) {
      const __m256 x0 = full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m0);
      const __m256 x1 = full ? _mm256_loadu_ps(r + 8) : _mm256_maskload_ps(r + 8, m1);
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i)
        if (j - i >= 0 && j - i < K) {  // output i takes input row j as tap j - i
          const __m256 wk = _mm256_set1_ps(w[j - i]);
          s[i][0] = _mm256_fmadd_ps(wk, x0, s[i][0]);
          s[i][1] = _mm256_fmadd_ps(wk, x1, s[i][1]);
        }
    }
    for (int i = 0; i < 4; ++i) {
      float* o = out + (size_t)(t + i) * ldo + c;
      if (full) {
        _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), s[i][0]));
        _mm256_storeu_ps(o + 8, _mm256_add_ps(_mm256_loadu_ps(o + 8), s[i][1]));
      } else {
        _mm256_maskstore_ps(o, m0, _mm256_add_ps(_mm256_maskload_ps(o, m0), s[i][0]));
        _mm256_maskstore_ps(o + 8, m1, _mm256_add_ps(_mm256_maskload_ps(o + 8, m1), s[i][1]));
      }
    }
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
    for (int c = 0; c < cols; c += 8) {
      const __m256i mk = tail_mask(cols - c);
      __m256 sum = _mm256_setzero_ps();
      for (int k = taps.k0; k < taps.k1; ++k)
        sum = _mm256_fmadd_ps(_mm256_set1_ps(wh[k]), _mm256_maskload_ps(vh + (size_t)(t + k - half) * ldv + c, mk), sum);
      float* o = out + (size_t)t * ldo + (size_t)h * cols + c;
      _mm256_maskstore_ps(o, mk, _mm256_add_ps(_mm256_maskload_ps(o, mk), sum));
    }
  };
  conv_rows(n, t0, t1, heads, K, one_row, [&](int t, int h) {
    conv_4rows(v + (size_t)h * cols, t, cols, ldv, w + (size_t)h * K, K, out + (size_t)h * cols, ldo);
  });
}

}  // namespace nystrom::avx2
