// Self-attention of one layer: per head, exact softmax attention or Nystrom
// attention (SPEC section 2), plus the depthwise conv skip. Reads ws.q/k/v
// (already projected and scaled) and writes the context over ws.q: each head
// reads only its own columns of Q, and every step reads the rows of Q it
// needs before the rows of output that replace them are written (see
// Workspace::context). Heads run in parallel, each
// on its own thread's scratch, so results do not depend on the thread count.
#include <algorithm>

#include "kernels/ops.h"
#include "model/forward.h"
#include "runtime/thread_pool.h"

namespace nystrom {

namespace {

struct HeadView {
  const float *q, *k, *v;  // column h*d of the [n x D] projections
  float* out;              // column h*d of ctx
  int n, D, d;
};

void exact_head(const HeadView& h, HeadScratch& s) {
  float* scores = s.scores.data();
  for (int r0 = 0; r0 < h.n; r0 += kExactRowBlock) {
    int rows = std::min(kExactRowBlock, h.n - r0);
    ops::gemm(nullptr, rows, h.n, h.d, h.q + (size_t)r0 * h.D, h.D, false, h.k, h.D, true, scores, h.n);
    ops::softmax_rows(scores, rows, h.n, h.n);
    ops::gemm(nullptr, rows, h.d, h.n, scores, h.n, false, h.v, h.D, false, h.out + (size_t)r0 * h.D, h.D);
  }
}

// Output (F Z)(B V) with F = softmax(Q K~^T), B = softmax(Q~ K^T), Z = pinv(A).
void nystrom_head(const HeadView& h, const float* ql, const float* kl, const float* a, int m, float scale,
                  bool int8, HeadScratch& s) {
  const int n = h.n, D = h.D, d = h.d;
  float *z = s.z.data(), *f = s.f.data(), *fz = s.fz.data(), *b = s.b.data(), *bv = s.bv.data();
  // The three products with a side of length n, in f32 or in 8 bits.
  auto product = [&](int M, int N, int K, const float* x, int ldx, const float* y, int ldy, bool trans_y, float* out,
                     int ldo) {
    if (int8) ops::gemm_int8(M, N, K, x, ldx, y, ldy, trans_y, out, ldo, s.int8);
    else ops::gemm(nullptr, M, N, K, x, ldx, false, y, ldy, trans_y, out, ldo);
  };
  ops::nystrom_pinv(nullptr, a, m, scale, 6, z, s.pinv_work.data());
  product(m, n, d, ql, d, h.k, D, true, b, n);  // B = softmax(Q~ K^T)
  ops::softmax_rows(b, m, n, n);
  product(m, d, n, b, n, h.v, D, false, bv, d);  // B V
  // F and F Z are row by row: a block of rows at a time keeps them
  // [block x m] instead of [n x m] (each row computed as it would be whole).
  for (int r0 = 0; r0 < n; r0 += kNystromRowBlock) {
    const int rows = std::min(kNystromRowBlock, n - r0);
    product(rows, m, d, h.q + (size_t)r0 * D, D, kl, d, true, f, m);  // F = softmax(Q K~^T)
    ops::softmax_rows(f, rows, m, m);
    ops::gemm(nullptr, rows, m, m, f, m, false, z, m, false, fz, m);
    ops::gemm(nullptr, rows, d, m, fz, m, false, bv, d, false, h.out + (size_t)r0 * D, D);
  }
}

}  // namespace

void attention(ThreadPool* pool, const ModelConfig& c, const LayerWeights& lw, Workspace& ws,
               const SequenceSpan& seq) {
  const int n = seq.n, D = (int)c.hidden_size, H = (int)c.num_heads, d = D / H;
  const int m = seq.plan.landmarks, K = (int)c.conv_kernel;
  const size_t first = seq.row * D;
  float *q = ws.q.data() + first, *k = ws.k.data() + first, *v = ws.v.data() + first;
  float* context = ws.context() + first;
  auto view = [&](int h) { return HeadView{q + h * d, k + h * d, v + h * d, context + h * d, n, D, d}; };
  auto for_each_head = [&](auto&& fn) {
    pool->parallel_for((size_t)H, [&](size_t h0, size_t h1, int thread) {
      for (size_t h = h0; h < h1; ++h) fn((int)h, ws.heads[thread]);
    });
  };

  if (seq.plan.exact) {
    for_each_head([&](int h, HeadScratch& s) { exact_head(view(h), s); });
  } else {
    // Landmarks and A = softmax(Q~ K~^T) of every head first: the pinv's
    // scale is the largest column sum over all heads of the layer.
    for_each_head([&](int h, HeadScratch&) {
      float* ql = ws.q_land.data() + (size_t)h * m * d;
      float* kl = ws.k_land.data() + (size_t)h * m * d;
      float* a = ws.a.data() + (size_t)h * m * m;
      ops::segment_means(q + h * d, n, d, D, m, ql, d);
      ops::segment_means(k + h * d, n, d, D, m, kl, d);
      ops::gemm(nullptr, m, m, d, ql, d, false, kl, d, true, a, m);
      ops::softmax_rows(a, m, m, m);
      ws.col_sum[h] = ops::max_column_sum(a, m);
    });
    const float scale = *std::max_element(ws.col_sum.begin(), ws.col_sum.end());
    for_each_head([&](int h, HeadScratch& s) {
      nystrom_head(view(h), ws.q_land.data() + (size_t)h * m * d, ws.k_land.data() + (size_t)h * m * d,
                   ws.a.data() + (size_t)h * m * m, m, scale, seq.plan.int8, s);
    });
  }
  if (lw.conv) {
    // Every head at once, the threads splitting the rows: the kernel reads
    // V along whole rows (see kernels/nystrom_rows.h).
    const int blocks = (n + kConvRowBlock - 1) / kConvRowBlock;
    pool->parallel_for((size_t)blocks, [&](size_t b0, size_t b1, int) {
      const int t0 = (int)b0 * kConvRowBlock, t1 = std::min(n, (int)b1 * kConvRowBlock);
      ops::depthwise_conv_add(v, n, t0, t1, H, d, D, lw.conv, K, context, D);
    });
  }
}

}  // namespace nystrom
