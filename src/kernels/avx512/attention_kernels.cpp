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

void depthwise_conv_add(const float* v, int n, int cols, int ldv, const float* w, int K, float* out, int ldo) {
  const int half = K / 2;
  for (int t = 0; t < n; ++t) {
    const ConvTaps taps(t, n, K);
    for (int c = 0; c < cols; c += 16) {
      const __mmask16 mk = first_lanes(cols - c);
      __m512 sum = _mm512_setzero_ps();
      for (int k = taps.k0; k < taps.k1; ++k)
        sum = _mm512_fmadd_ps(_mm512_set1_ps(w[k]), _mm512_maskz_loadu_ps(mk, v + (size_t)(t + k - half) * ldv + c), sum);
      float* o = out + (size_t)t * ldo + c;
      _mm512_mask_storeu_ps(o, mk, _mm512_add_ps(_mm512_maskz_loadu_ps(mk, o), sum));
    }
  }
}

}  // namespace nystrom::avx512
