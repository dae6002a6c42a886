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
                  AttentionPrecision precision, HeadScratch& s) {
  const int n = h.n, D = h.D, d = h.d;
  float *z = s.z.data(), *f = s.f.data(), *fz = s.fz.data(), *b = s.b.data(), *bv = s.bv.data();
  // The products with a side of length n: in f32, in bf16 (all five), or
  // with 8-bit operands (the first three; F Z and (F Z)(B V) stay f32).
  auto product = [&](int M, int N, int K, const float* x, int ldx, const float* y, int ldy, bool trans_y, float* out,
                     int ldo, bool int8_too = true) {
    if (precision == AttentionPrecision::BF16) ops::gemm_bf16(M, N, K, x, ldx, y, ldy, trans_y, out, ldo, s.bf16);
    else if (precision == AttentionPrecision::Int8 && int8_too)
      ops::gemm_int8(M, N, K, x, ldx, y, ldy, trans_y, out, ldo, s.int8);
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
    product(rows, m, m, f, m, z, m, false, fz, m, false);
    product(rows, d, m, fz, m, bv, d, false, h.out + (size_t)r0 * D, D, false);
  }
}

// Head h of one sequence: its columns of the sequence's rows.
HeadView head_view(Workspace& ws, const SequenceSpan& seq, int D, int d, int h) {
  const size_t at = seq.row * D + (size_t)h * d;
  return HeadView{ws.q.data() + at, ws.k.data() + at, ws.v.data() + at, ws.context() + at, seq.n, D, d};
}

void nystrom_attention(ThreadPool* pool, const ModelConfig& c, Workspace& ws, const SequenceSpan& seq) {
  const int n = seq.n, D = (int)c.hidden_size, H = (int)c.num_heads, d = D / H, m = seq.plan.landmarks;
  auto for_each_head = [&](auto&& fn) {
    pool->parallel_for((size_t)H, [&](size_t h0, size_t h1, int thread) {
      for (size_t h = h0; h < h1; ++h) fn((int)h, ws.heads[thread]);
    });
  };
  // Landmarks and A = softmax(Q~ K~^T) of every head first: the pinv's
  // scale is the largest column sum over all heads of the layer.
  for_each_head([&](int h, HeadScratch&) {
    const HeadView v = head_view(ws, seq, D, d, h);
    float* ql = ws.q_land.data() + (size_t)h * m * d;
    float* kl = ws.k_land.data() + (size_t)h * m * d;
    float* a = ws.a.data() + (size_t)h * m * m;
    ops::segment_means(v.q, n, d, D, m, ql, d);
    ops::segment_means(v.k, n, d, D, m, kl, d);
    ops::gemm(nullptr, m, m, d, ql, d, false, kl, d, true, a, m);
    ops::softmax_rows(a, m, m, m);
    ws.col_sum[h] = ops::max_column_sum(a, m);
  });
  const float scale = *std::max_element(ws.col_sum.begin(), ws.col_sum.end());
  for_each_head([&](int h, HeadScratch& s) {
    nystrom_head(head_view(ws, seq, D, d, h), ws.q_land.data() + (size_t)h * m * d,
                 ws.k_land.data() + (size_t)h * m * d, ws.a.data() + (size_t)h * m * m, m, scale, seq.plan.precision, s);
  });
}

}  // namespace

void attention(ThreadPool* pool, const ModelConfig& c, const LayerWeights& lw, Workspace& ws) {
  const int D = (int)c.hidden_size, H = (int)c.num_heads, d = D / H, K = (int)c.conv_kernel;
  const std::vector<SequenceSpan>& seqs = ws.seqs;
  // The exact heads of every sequence in one loop: a batch of short
  // sequences waits on the threads once a layer, not once a sequence.
  if (std::any_of(seqs.begin(), seqs.end(), [](const SequenceSpan& s) { return s.plan.exact; }))
    pool->parallel_for(seqs.size() * H, [&](size_t t0, size_t t1, int thread) {
      for (size_t t = t0; t < t1; ++t) {
        const SequenceSpan& seq = seqs[t / H];
        if (seq.plan.exact) exact_head(head_view(ws, seq, D, d, (int)(t % H)), ws.heads[thread]);
      }
    });
  for (const SequenceSpan& seq : seqs)
    if (!seq.plan.exact) nystrom_attention(pool, c, ws, seq);
  if (lw.conv) {
    // Every head at once, the threads splitting the rows (blocks of
    // kConvRowBlock rows of one sequence): the kernel reads V along whole
    // rows (see kernels/nystrom_rows.h).
    auto blocks_of = [&](size_t s) { return (size_t)(seqs[s].n + kConvRowBlock - 1) / kConvRowBlock; };
    size_t blocks = 0;
    for (size_t s = 0; s < seqs.size(); ++s) blocks += blocks_of(s);
    pool->parallel_for(blocks, [&](size_t b0, size_t b1, int) {
      size_t s = 0, first = 0;  // the sequence of block b0, and its first block
      while (first + blocks_of(s) <= b0) first += blocks_of(s++);
      for (size_t b = b0; b < b1; first += blocks_of(s), ++s) {
        const SequenceSpan& seq = seqs[s];
        const size_t end = std::min(b1, first + blocks_of(s));
        const int t0 = (int)(b - first) * kConvRowBlock, t1 = std::min(seq.n, (int)(end - first) * kConvRowBlock);
        const size_t at = seq.row * D;
        ops::depthwise_conv_add(ws.v.data() + at, seq.n, t0, t1, H, d, D, lw.conv, K, ws.context() + at, D);
        b = end;
      }
    });
  }
}

}  // namespace nystrom
