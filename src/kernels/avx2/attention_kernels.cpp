// AVX2 versions of the Nystrom-specific kernels: landmark segment means and
// the depthwise conv skip. Both vectorize over the feature columns of a head;
// a partial last vector uses masked loads and stores.
#include <immintrin.h>

#include "kernels/avx2/avx2.h"
#include "kernels/nystrom_rows.h"

namespace nystrom::avx2 {

namespace {
__m256i tail_mask(int cols) {
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

void depthwise_conv_add(const float* v, int n, int cols, int ldv, const float* w, int K, float* out, int ldo) {
  const int half = K / 2;
  for (int t = 0; t < n; ++t) {
    const ConvTaps taps(t, n, K);
    for (int c = 0; c < cols; c += 8) {
      const __m256i mk = tail_mask(cols - c);
      __m256 sum = _mm256_setzero_ps();
      for (int k = taps.k0; k < taps.k1; ++k)
        sum = _mm256_fmadd_ps(_mm256_set1_ps(w[k]), _mm256_maskload_ps(v + (size_t)(t + k - half) * ldv + c, mk), sum);
      float* o = out + (size_t)t * ldo + c;
      _mm256_maskstore_ps(o, mk, _mm256_add_ps(_mm256_maskload_ps(o, mk), sum));
    }
  }
}

}  // namespace nystrom::avx2
