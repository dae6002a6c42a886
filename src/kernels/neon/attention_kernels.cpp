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

namespace {

// Output rows t .. t+3, every tap inside the sequence: eight independent FMA
// chains over 8 columns at a time (one row and one vector at a time was bound
// by FMA latency), each adding its taps in order from zero as one_row does,
// so the sums are bit for bit the same. Returns the first column not done.
int conv_4rows(const float* v, int t, int cols, int ldv, const float* w, int K, float* out, int ldo) {
  const float* base = v + (size_t)(t - K / 2) * ldv;
  int c = 0;
  for (; c + 8 <= cols; c += 8) {
    float32x4_t s[4][2];
    for (auto& row : s) row[0] = row[1] = vdupq_n_f32(0.0f);
    const float* r = base + c;
    for (int k = 0; k < K; ++k, r += ldv)
      for (int i = 0; i < 4; ++i) {
        s[i][0] = vfmaq_n_f32(s[i][0], vld1q_f32(r + i * (size_t)ldv), w[k]);
        s[i][1] = vfmaq_n_f32(s[i][1], vld1q_f32(r + i * (size_t)ldv + 4), w[k]);
      }
    for (int i = 0; i < 4; ++i) {
      float* o = out + (size_t)(t + i) * ldo + c;
      vst1q_f32(o, vaddq_f32(vld1q_f32(o), s[i][0]));
      vst1q_f32(o + 4, vaddq_f32(vld1q_f32(o + 4), s[i][1]));
    }
  }
  return c;
}

}  // namespace

void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo) {
  const int half = K / 2;
  // Columns [c0, cols) of head h in output row t.
  auto columns = [&](int t, int h, int c0) {
    const ConvTaps taps(t, n, K);
    const float* vh = v + (size_t)h * cols;
    const float* wh = w + (size_t)h * K;
    float* o = out + (size_t)t * ldo + (size_t)h * cols;
    int c = c0;
    for (; c + 4 <= cols; c += 4) {
      float32x4_t sum = vdupq_n_f32(0.0f);
      for (int k = taps.k0; k < taps.k1; ++k)
        sum = vfmaq_n_f32(sum, vld1q_f32(vh + (size_t)(t + k - half) * ldv + c), wh[k]);
      vst1q_f32(o + c, vaddq_f32(vld1q_f32(o + c), sum));
    }
    for (; c < cols; ++c) {
      float sum = 0.0f;
      for (int k = taps.k0; k < taps.k1; ++k) sum += wh[k] * vh[(size_t)(t + k - half) * ldv + c];
      o[c] += sum;
    }
  };
  conv_rows(
      n, t0, t1, heads, K, [&](int t, int h) { columns(t, h, 0); },
      [&](int t, int h) {
        const int c = conv_4rows(v + (size_t)h * cols, t, cols, ldv, w + (size_t)h * K, K, out + (size_t)h * cols, ldo);
        for (int i = 0; i < 4; ++i) columns(t + i, h, c);
      });
}

}  // namespace nystrom::neon
