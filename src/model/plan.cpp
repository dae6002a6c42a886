// How one input is attended and the buffers its forward pass needs: the
// attention plan (SPEC section 2, "Which mode runs") and the workspace sized
// for it, in one place so the two cannot disagree; forward_cost reports the
// same plan and sizes without running anything.
#include <algorithm>

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
  p.int8 = o.attention_precision == AttentionPrecision::Int8 && (c.hidden_size / c.num_heads) % kQuantBlock == 0;
  return p;
}

namespace {

// Floats of each workspace buffer for one plan and length.
struct BufferSizes {
  size_t x, qkv, tmp, ffn, head_out, land, a, col_sum;  // shared
  size_t z, pinv_work, f, fz, b, bv, scores;            // per thread

  BufferSizes(const ModelConfig& c, const AttentionPlan& p, size_t N) {
    const size_t D = c.hidden_size, I = c.intermediate_size, H = c.num_heads, d = D / H, m = (size_t)p.landmarks;
    const bool nys = !p.exact;
    const size_t chunk = std::min<size_t>(N, kRowChunk);
    x = qkv = N * D;
    tmp = chunk * D, ffn = chunk * I;
    head_out = c.head == HeadType::MaskedLM ? N * D : 0;
    land = nys ? H * m * d : 0;
    a = nys ? H * m * m : 0;
    col_sum = H;
    z = nys ? m * m : 0, pinv_work = nys ? 3 * m * m : 0;
    f = fz = nys ? N * m : 0;
    b = nys ? m * N : 0, bv = nys ? m * d : 0;
    scores = p.exact ? std::min<size_t>(N, kExactRowBlock) * N : 0;
  }
  size_t total(size_t threads) const {
    const size_t shared = x + 3 * qkv + tmp + ffn + head_out + 2 * land + a + col_sum;
    return shared + threads * (z + pinv_work + f + fz + b + bv + scores);
  }
};

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

void Workspace::plan_for(const ModelConfig& c, const AttentionPlan& p, int len, int thread_count) {
  if (len == n && p.exact == plan.exact && p.landmarks == plan.landmarks && thread_count == threads) return;
  n = len;
  plan = p;
  threads = thread_count;
  const BufferSizes s(c, p, (size_t)len);
  auto size = [](std::vector<float>& v, size_t count) {
    v.assign(count, 0.0f);
    v.shrink_to_fit();
  };
  size(x, s.x), size(q, s.qkv), size(k, s.qkv), size(v, s.qkv);
  size(tmp, s.tmp), size(ffn, s.ffn);
  size(head_out, s.head_out);
  size(q_land, s.land), size(k_land, s.land);
  size(a, s.a), size(col_sum, s.col_sum);
  heads.resize(thread_count);
  for (HeadScratch& h : heads) {
    size(h.z, s.z), size(h.pinv_work, s.pinv_work);
    size(h.f, s.f), size(h.fz, s.fz), size(h.b, s.b);
    size(h.bv, s.bv);
    size(h.scores, s.scores);
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
  cost.work_bytes = BufferSizes(c, p, n).total((size_t)threads) * sizeof(float);
  cost.output_bytes = (n * c.hidden_size + logit_floats) * sizeof(float);
  return cost;
}

}  // namespace nystrom
