// Output heads: masked-LM logits for every token, or class logits from the
// first token.
#include "kernels/ops.h"
#include "model/forward.h"

namespace nystrom {

void masked_lm_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, Workspace& ws, float* logits) {
  const int n = ws.n, D = (int)c.hidden_size, V = (int)c.vocab_size;
  float* t = ws.head_out.data();
  ops::linear(pool, n, ws.x.data(), D, w.mlm_dense_w, w.mlm_dense_b, t, D, ops::act_of(c.activation));
  ops::layer_norm_rows(pool, t, nullptr, t, n, D, D, w.mlm_ln_g, w.mlm_ln_b, c.layer_norm_eps);
  ops::linear(pool, n, t, D, w.decoder, w.decoder_bias, logits, V);
}

void classifier_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, const float* first_row,
                     float* logits) {
  const int D = (int)c.hidden_size, C = (int)c.labels.size();
  std::vector<float> hidden(D);  // one row: too small to plan for
  ops::linear(pool, 1, first_row, D, w.cls_dense_w, w.cls_dense_b, hidden.data(), D,
              ops::act_of(c.activation));
  ops::linear(pool, 1, hidden.data(), D, w.cls_out_w, w.cls_out_b, logits, C);
}

}  // namespace nystrom
