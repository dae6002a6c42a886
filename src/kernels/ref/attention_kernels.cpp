// Reference kernels for the Nystrom-specific steps: landmark segment means and
// the depthwise convolution skip.
#include "kernels/ref/ref.h"

namespace nystrom::ref {

void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo) {
  // SPEC 2 step 1: with s = n / m and r = (s+1)m - n, the first r segments
  // hold s rows and the other m - r hold s + 1 (all s when m divides n).
  int s = n / m;
  int r = (n % m == 0) ? m : (s + 1) * m - n;
  int start = 0;
  for (int j = 0; j < m; ++j) {
    int len = j < r ? s : s + 1;
    float* o = out + (size_t)j * ldo;
    for (int c = 0; c < cols; ++c) o[c] = 0.0f;
    for (int t = start; t < start + len; ++t)
      for (int c = 0; c < cols; ++c) o[c] += x[(size_t)t * ld + c];
    float inv = 1.0f / (float)len;
    for (int c = 0; c < cols; ++c) o[c] *= inv;
    start += len;
  }
}

void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo) {
  int half = K / 2;
  for (int t = t0; t < t1; ++t) {
    for (int c = 0; c < heads * cols; ++c) {
      const float* wh = w + (size_t)(c / cols) * K;  // column c belongs to head c / cols
      float sum = 0.0f;
      for (int k = 0; k < K; ++k) {
        int src = t + k - half;
        if (src >= 0 && src < n) sum += wh[k] * v[(size_t)src * ldv + c];
      }
      out[(size_t)t * ldo + c] += sum;
    }
  }
}

}  // namespace nystrom::ref
