// How one input is attended and the buffers its forward pass needs: the
// attention plan (SPEC section 2, "Which mode runs") and the workspace sized
// for it, in one place so the two cannot disagree.
#include <algorithm>

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
  // 8-bit blocks run along the head size: it must be a multiple of 32.
  p.int8 = o.attention_precision == AttentionPrecision::Int8 && (c.hidden_size / c.num_heads) % kQuantBlock == 0;
  return p;
}

namespace {

// The element count of every buffer, from one place for plan_for and
// planned_bytes.
struct BufferSizes {
  size_t rows = 0, hidden = 0, chunk = 0, ffn = 0, head_out = 0;
  size_t landmarks = 0, kernel = 0, col_sum = 0;  // q_land / k_land, a, col_sum
  size_t z = 0, pinv = 0, f = 0, b = 0, bv = 0, scores = 0;  // per thread
};

BufferSizes buffer_sizes(const ModelConfig& c, const std::vector<SequenceSpan>& seqs) {
  const size_t D = c.hidden_size, I = c.intermediate_size, H = c.num_heads, d = D / H;
  BufferSizes z;
  size_t longest = 0, nys_n = 0, m = 0;
  for (const SequenceSpan& s : seqs) {
    const size_t n = (size_t)s.n;
    z.rows += n;
    longest = std::max(longest, n);
    if (s.plan.exact) {
      z.scores = std::max(z.scores, std::min<size_t>(n, kExactRowBlock) * n);
    } else {
      nys_n = std::max(nys_n, n);
      m = std::max(m, (size_t)s.plan.landmarks);
    }
  }
  z.hidden = z.rows * D;
  z.chunk = std::min<size_t>(z.rows, kRowChunk) * D;
  z.ffn = std::min<size_t>(z.rows, kRowChunk) * I;
  z.head_out = c.head == HeadType::MaskedLM ? longest * D : 0;
  z.landmarks = H * m * d, z.kernel = H * m * m, z.col_sum = H;
  z.z = m * m, z.pinv = 3 * m * m, z.f = std::min<size_t>(nys_n, kNystromRowBlock) * m, z.b = m * nys_n;
  z.bv = m * d;
  return z;
}

}  // namespace

size_t Workspace::planned_bytes(const ModelConfig& c, const std::vector<SequenceSpan>& seqs, int threads) {
  const BufferSizes z = buffer_sizes(c, seqs);
  const size_t shared = 4 * z.hidden + z.chunk + z.ffn + z.head_out + 2 * z.landmarks + z.kernel + z.col_sum;
  const size_t per_thread = z.z + z.pinv + 2 * z.f + z.b + z.bv + z.scores;
  return (shared + (size_t)threads * per_thread) * sizeof(float);
}

void Workspace::plan_for(const ModelConfig& c, const std::vector<SequenceSpan>& spans, int thread_count) {
  // Only a buffer whose size changes is allocated again (and then to its
  // exact size, so a long input's memory is returned after it): every
  // buffer is written before it is read.
  auto fit = [](std::vector<float>& v, size_t count) {
    if (v.size() == count) return;
    v.assign(count, 0.0f);
    v.shrink_to_fit();
  };
  const BufferSizes z = buffer_sizes(c, spans);
  fit(x, z.hidden);
  if (spans == seqs && thread_count == threads) return;
  seqs = spans;
  rows = z.rows;
  threads = thread_count;
  for (AlignedBuffer* b : {&q, &k, &v})
    if (b->size() != z.hidden) {
      *b = AlignedBuffer();
      b->reserve(z.hidden);
    }
  fit(tmp, z.chunk), fit(ffn, z.ffn), fit(head_out, z.head_out);
  fit(q_land, z.landmarks), fit(k_land, z.landmarks), fit(a, z.kernel), fit(col_sum, z.col_sum);
  heads.resize(thread_count);
  for (HeadScratch& s : heads) {
    fit(s.z, z.z), fit(s.pinv_work, z.pinv), fit(s.f, z.f), fit(s.fz, z.f), fit(s.b, z.b), fit(s.bv, z.bv);
    fit(s.scores, z.scores);
  }
}

}  // namespace nystrom
