// NEON versions of the Nystrom-specific kernels: landmark segment means and
// the depthwise conv skip. Both vectorize over the feature columns of a head;
// the last < 4 columns run the same arithmetic one lane at a time.
#include <arm_neon.h>

#include "kernels/neon/neon.h"
#include "kernels/nystrom_rows.h"

namespace nystrom::neon {

void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo) {
  const Segments seg(n, m);
  int start = 0;
  for (int j = 0; j < m; ++j) {
    const int len = seg.length(j);
    const float inv = 1.0f / (float)len;
    float* o = out + (size_t)j * ldo;
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      float32x4_t sum = vdupq_n_f32(0.0f);
      for (int t = start; t < start + len; ++t) sum = vaddq_f32(sum, vld1q_f32(x + (size_t)t * ld + c));
      vst1q_f32(o + c, vmulq_n_f32(sum, inv));
    }
    for (; c < cols; ++c) {
      float sum = 0.0f;
      for (int t = start; t < start + len; ++t) sum += x[(size_t)t * ld + c];
      o[c] = sum * inv;
    }
    start += len;
  }
}

void depthwise_conv_add(const float* v, int n, int cols, int ldv, const float* w, int K, float* out, int ldo) {
  const int half = K / 2;
  for (int t = 0; t < n; ++t) {
    const ConvTaps taps(t, n, K);
    float* o = out + (size_t)t * ldo;
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      float32x4_t sum = vdupq_n_f32(0.0f);
      for (int k = taps.k0; k < taps.k1; ++k)
        sum = vfmaq_n_f32(sum, vld1q_f32(v + (size_t)(t + k - half) * ldv + c), w[k]);
      vst1q_f32(o + c, vaddq_f32(vld1q_f32(o + c), sum));
    }
    for (; c < cols; ++c) {
      float sum = 0.0f;
      for (int k = taps.k0; k < taps.k1; ++k) sum += w[k] * v[(size_t)(t + k - half) * ldv + c];
      o[c] += sum;
    }
  }
}

}  // namespace nystrom::neon
