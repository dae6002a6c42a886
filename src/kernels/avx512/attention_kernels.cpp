// AVX-512 versions of the Nystrom-specific kernels: landmark segment means and
// the depthwise conv skip. Both vectorize over the feature columns of a head.
#include <immintrin.h>

#include "kernels/avx512/avx512.h"

namespace nystrom::avx512 {

namespace {
__mmask16 tail_mask(int cols) { return cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1); }
}  // namespace

void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo) {
  const int s = n / m, r = (n % m == 0) ? m : (s + 1) * m - n;  // SPEC 2 step 1
  int start = 0;
  for (int j = 0; j < m; ++j) {
    const int len = j < r ? s : s + 1;
    const __m512 inv = _mm512_set1_ps(1.0f / (float)len);
    for (int c = 0; c < cols; c += 16) {
      const __mmask16 mk = tail_mask(cols - c);
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
    const int k0 = t < half ? half - t : 0;             // skip taps before row 0
    const int k1 = n - t + half < K ? n - t + half : K;  // and after row n-1
    for (int c = 0; c < cols; c += 16) {
      const __mmask16 mk = tail_mask(cols - c);
      __m512 sum = _mm512_setzero_ps();
      for (int k = k0; k < k1; ++k)
        sum = _mm512_fmadd_ps(_mm512_set1_ps(w[k]), _mm512_maskz_loadu_ps(mk, v + (size_t)(t + k - half) * ldv + c), sum);
      float* o = out + (size_t)t * ldo + c;
      _mm512_mask_storeu_ps(o, mk, _mm512_add_ps(_mm512_maskz_loadu_ps(mk, o), sum));
    }
  }
}

}  // namespace nystrom::avx512
