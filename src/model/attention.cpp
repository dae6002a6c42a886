// Self-attention of one layer: per head, exact softmax attention or Nystrom
// attention (SPEC section 2), plus the depthwise conv skip. Reads ws.q/k/v
// (already projected and scaled), writes ws.ctx.
#include <algorithm>

#include "kernels/ops.h"
#include "model/forward.h"

namespace nystrom {

AttentionPlan plan_attention(const ModelConfig& c, const RunOptions& o, int n) {
  AttentionPlan p;
  p.landmarks = (int)(o.landmarks ? o.landmarks : c.num_landmarks);
  switch (o.attention) {
    case AttentionMode::Exact: p.exact = true; break;
    case AttentionMode::Nystrom: p.exact = false; break;
    case AttentionMode::Auto:
      // The checkpoint's own rule; an explicit landmark count asks for Nystrom.
      p.exact = o.landmarks == 0 && c.num_landmarks == c.segment_means_len;
      break;
  }
  if (n <= p.landmarks) p.exact = true;  // as many landmarks as tokens: exact is cheaper and exact
  return p;
}

namespace {

void exact_head(const Workspace& ws, int n, int D, int h0, int d, float* scores, float* out) {
  for (int r0 = 0; r0 < n; r0 += kExactRowBlock) {
    int rows = std::min(kExactRowBlock, n - r0);
    ops::gemm(nullptr, rows, n, d, ws.q.data() + (size_t)r0 * D + h0, D, false, ws.k.data() + h0, D, true,
              scores, n);
    ops::softmax_rows(scores, rows, n, n);
    ops::gemm(nullptr, rows, d, n, scores, n, false, ws.v.data() + h0, D, false, out + (size_t)r0 * D + h0, D);
  }
}

}  // namespace

void attention(ThreadPool* pool, const ModelConfig& c, const LayerWeights& lw, Workspace& ws) {
  const int n = ws.n, D = (int)c.hidden_size, H = (int)c.num_heads, d = D / H;
  const int m = ws.plan.landmarks;
  float* ctx = ws.ctx.data();

  if (ws.plan.exact) {
    for (int h = 0; h < H; ++h) exact_head(ws, n, D, h * d, d, ws.scores.data(), ctx);
  } else {
    // Landmarks and A = softmax(Q~ K~^T) for every head first: the pinv's
    // scale c is the largest column sum over all heads of the layer.
    float scale = 0.0f;
    for (int h = 0; h < H; ++h) {
      float* ql = ws.q_land.data() + (size_t)h * m * d;
      float* kl = ws.k_land.data() + (size_t)h * m * d;
      float* a = ws.a.data() + (size_t)h * m * m;
      ops::segment_means(ws.q.data() + h * d, n, d, D, m, ql, d);
      ops::segment_means(ws.k.data() + h * d, n, d, D, m, kl, d);
      ops::gemm(pool, m, m, d, ql, d, false, kl, d, true, a, m);
      ops::softmax_rows(a, m, m, m);
      scale = std::max(scale, ops::max_column_sum(a, m));
    }
    for (int h = 0; h < H; ++h) {
      const float* ql = ws.q_land.data() + (size_t)h * m * d;
      const float* kl = ws.k_land.data() + (size_t)h * m * d;
      const float* a = ws.a.data() + (size_t)h * m * m;
      float *z = ws.z.data(), *f = ws.f.data(), *fz = ws.fz.data(), *b = ws.b.data(), *bv = ws.bv.data();
      ops::nystrom_pinv(pool, a, m, scale, 6, z, ws.pinv_work.data());
      ops::gemm(pool, n, m, d, ws.q.data() + h * d, D, false, kl, d, true, f, m);  // F = softmax(Q K~^T)
      ops::softmax_rows(f, n, m, m);
      ops::gemm(pool, m, n, d, ql, d, false, ws.k.data() + h * d, D, true, b, n);  // B = softmax(Q~ K^T)
      ops::softmax_rows(b, m, n, n);
      ops::gemm(pool, n, m, m, f, m, false, z, m, false, fz, m);                   // F Z
      ops::gemm(pool, m, d, n, b, n, false, ws.v.data() + h * d, D, false, bv, d);  // B V
      ops::gemm(pool, n, d, m, fz, m, false, bv, d, false, ctx + h * d, D);         // (F Z)(B V)
    }
  }
  if (lw.conv) {
    const int K = (int)c.conv_kernel;
    for (int h = 0; h < H; ++h)
      ops::depthwise_conv_add(ws.v.data() + h * d, n, d, D, lw.conv + (size_t)h * K, K, ctx + h * d, D);
  }
}

}  // namespace nystrom
