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

void Workspace::plan_for(const ModelConfig& c, const AttentionPlan& p, int len, int thread_count) {
  if (len == n && p.exact == plan.exact && p.landmarks == plan.landmarks && thread_count == threads) return;
  n = len;
  plan = p;
  threads = thread_count;
  const size_t D = c.hidden_size, I = c.intermediate_size, H = c.num_heads, d = D / H;
  const size_t N = (size_t)len, m = (size_t)p.landmarks;
  auto size = [](std::vector<float>& v, size_t count) {
    v.assign(count, 0.0f);
    v.shrink_to_fit();
  };
  size(x, N * D), size(q, N * D), size(k, N * D), size(v, N * D);
  const size_t chunk = std::min<size_t>(N, kRowChunk);
  size(tmp, chunk * D), size(ffn, chunk * I);
  size(head_out, c.head == HeadType::MaskedLM ? N * D : 0);
  bool nys = !p.exact;
  size(q_land, nys ? H * m * d : 0), size(k_land, nys ? H * m * d : 0);
  size(a, nys ? H * m * m : 0), size(col_sum, H);
  heads.resize(thread_count);
  for (HeadScratch& s : heads) {
    size(s.z, nys ? m * m : 0), size(s.pinv_work, nys ? 3 * m * m : 0);
    size(s.f, nys ? N * m : 0), size(s.fz, nys ? N * m : 0), size(s.b, nys ? m * N : 0);
    size(s.bv, nys ? m * d : 0);
    size(s.scores, p.exact ? std::min<size_t>(N, kExactRowBlock) * N : 0);
  }
}

}  // namespace nystrom
