// How one input is attended and the buffers its forward pass needs: the
// attention plan (SPEC section 2, "Which mode runs") and the workspace sized
// for it, in one place so the two cannot disagree; forward_cost reports the
// same plan and sizes without running anything.
#include <algorithm>
#include <string>

#include "kernels/ops.h"
#include "model/forward.h"
#include "runtime/error.h"
#include "runtime/thread_pool.h"

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
  p.precision = o.attention_precision;
  if (p.precision == AttentionPrecision::Int8 && (c.hidden_size / c.num_heads) % kQuantBlock != 0)
    p.precision = AttentionPrecision::F32;
  return p;
}

namespace {

// The element count of every buffer, from one place for plan_for and
// planned_bytes.
struct BufferSizes {
  size_t rows = 0, hidden = 0, chunk = 0, ffn = 0, head_out = 0;
  size_t landmarks = 0, kernel = 0, col_sum = 0;  // q_land / k_land, a, col_sum
  size_t z = 0, pinv = 0, f = 0, b = 0, bv = 0, scores = 0;  // per thread
  Bf16ScratchSize bf16;                                       // per thread, AttentionPrecision::BF16
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
      if (s.plan.precision == AttentionPrecision::BF16) {
        // The five products of nystrom_head (model/attention.cpp).
        const int N = (int)n, M = s.plan.landmarks, d_ = (int)d, rows = std::min(N, kNystromRowBlock);
        z.bf16.grow_to(ops::bf16_scratch_size(M, N, d_, true));       // Q~ K^T
        z.bf16.grow_to(ops::bf16_scratch_size(M, d_, N, false));      // B V
        z.bf16.grow_to(ops::bf16_scratch_size(rows, M, d_, true));    // Q K~^T
        z.bf16.grow_to(ops::bf16_scratch_size(rows, M, M, false));    // F Z
        z.bf16.grow_to(ops::bf16_scratch_size(rows, d_, M, false));   // (F Z)(B V)
      }
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

// Why plan_attention chose what it did, in one line.
std::string attention_reason(const ModelConfig& c, const RunOptions& o, size_t n, const AttentionPlan& p) {
  const std::string m = std::to_string(p.landmarks);
  const std::string nys = "nystrom with " + m + " landmarks";
  std::string why;
  bool wanted_nystrom = false;
  switch (o.attention) {
    case AttentionMode::Exact: return "exact: asked for";
    case AttentionMode::Nystrom: why = ": asked for", wanted_nystrom = true; break;
    case AttentionMode::Auto:
      wanted_nystrom = !(o.landmarks == 0 && c.num_landmarks == c.segment_means_len);
      if (o.landmarks) why = ": a landmark count was given";
      else
        why = std::string(": auto follows the checkpoint, whose num_landmarks (") + std::to_string(c.num_landmarks) +
              (wanted_nystrom ? ") differs from" : ") equals") + " its segment_means_seq_len (" +
              std::to_string(c.segment_means_len) + ")";
      if (!wanted_nystrom) return "exact" + why + "; asking for Nystrom or giving landmarks runs Nystrom";
      break;
  }
  if (p.exact && wanted_nystrom)
    return "exact: " + std::to_string(n) + " tokens are no more than the " + m +
           " landmarks Nystrom would use (exact is then cheaper, and exact)";
  return nys + why;
}

double attention_flops(const ModelConfig& c, const AttentionPlan& p, double n) {
  const double H = c.num_heads, d = (double)c.hidden_size / c.num_heads, m = p.landmarks;
  if (p.exact) return H * 4 * n * n * d;  // Q K^T and P V
  // A, F, B, F Z, B V and (F Z)(B V), and the pseudo-inverse: 6 iterations
  // of 4 m x m products (ops::nystrom_pinv).
  return H * (2 * m * m * d + 8 * n * m * d + 2 * n * m * m + 6 * 4 * 2 * m * m * m);
}

}  // namespace

size_t Workspace::planned_bytes(const ModelConfig& c, const std::vector<SequenceSpan>& seqs, int threads) {
  const BufferSizes z = buffer_sizes(c, seqs);
  const size_t shared = 4 * z.hidden + z.chunk + z.ffn + z.head_out + 2 * z.landmarks + z.kernel + z.col_sum;
  const size_t per_thread = z.z + z.pinv + 2 * z.f + z.b + z.bv + z.scores;
  return (shared + (size_t)threads * per_thread) * sizeof(float) + (size_t)threads * z.bf16.bytes();
}

void Workspace::plan_for(const ModelConfig& c, const std::vector<SequenceSpan>& spans, int thread_count) {
  // Only a buffer whose size changes is allocated again (and then to its
  // exact size, so a long input's memory is returned after it): every
  // buffer is written before it is read.
  auto fit = [](auto& v, size_t count) {
    if (v.size() == count) return;
    v.assign(count, 0);
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
  embed_rows.resize(thread_count);
  for (std::vector<float>& row : embed_rows) fit(row, c.hidden_size);
  for (HeadScratch& s : heads) {
    fit(s.z, z.z), fit(s.pinv_work, z.pinv), fit(s.f, z.f), fit(s.fz, z.f), fit(s.b, z.b), fit(s.bv, z.bv);
    fit(s.scores, z.scores);
    fit(s.bf16.a, z.bf16.a), fit(s.bf16.b, z.bf16.b), fit(s.bf16.rows, z.bf16.rows);
  }
}

ForwardCost forward_cost(const ModelConfig& c, size_t n, const RunOptions& o) {
  if (n == 0) throw Error("forward_cost: n must be at least 1", ErrorCode::Input);
  if (n > c.max_positions)
    fail_as(ErrorCode::Input, "forward_cost: ", n, " tokens, but the model accepts at most ", c.max_positions);
  if (o.landmarks > kMaxLandmarks)
    fail_as(ErrorCode::InvalidArgument, "forward_cost: landmarks must be at most ", kMaxLandmarks, ", got ",
            o.landmarks);
  const int threads = resolve_thread_count(o.threads, "forward_cost");
  const AttentionPlan p = plan_attention(c, o, (int)n);
  ForwardCost cost;
  cost.exact_attention = p.exact;
  cost.landmarks = p.exact ? 0 : (uint32_t)p.landmarks;
  cost.reason = attention_reason(c, o, n, p);

  const double N = (double)n, D = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const double per_layer = 2 * N * (4 * D * D + 2 * D * I) + attention_flops(c, p, N);
  cost.flops = per_layer * c.num_layers;
  const bool logits = o.outputs.logits && c.head != HeadType::None;
  const double rows = o.outputs.positions.empty() ? N : (double)o.outputs.positions.size();
  size_t logit_floats = 0;
  if (logits && c.head == HeadType::MaskedLM) {
    cost.flops += 2 * rows * D * (D + V);  // transform, then decoder
    logit_floats = (size_t)rows * c.vocab_size;
  } else if (logits && c.head == HeadType::Classifier) {
    cost.flops += 2 * D * (D + (double)c.labels.size());
    logit_floats = c.labels.size();
  }
  SequenceSpan one;
  one.n = (int)n;
  one.plan = p;
  cost.work_bytes = Workspace::planned_bytes(c, {one}, threads);
  cost.output_bytes = (n * c.hidden_size + logit_floats) * sizeof(float);
  return cost;
}

}  // namespace nystrom
