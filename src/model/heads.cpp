// Output heads: masked-LM logits for every token or for chosen ones, or
// class logits from the first token.
#include <algorithm>

#include "kernels/ops.h"
#include "model/forward.h"

namespace nystrom {

void masked_lm_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, Workspace& ws, const float* x, int n,
                    const std::vector<size_t>& positions, float* logits) {
  const int D = (int)c.hidden_size, V = (int)c.vocab_size;
  int rows = n;
  std::vector<float> picked;  // the chosen rows, a few: not worth planning for
  if (!positions.empty()) {
    rows = (int)positions.size();
    picked.resize(positions.size() * (size_t)D);
    for (size_t r = 0; r < positions.size(); ++r)
      std::copy_n(x + positions[r] * (size_t)D, D, picked.begin() + r * (size_t)D);
    x = picked.data();
  }
  // Every row is computed on its own (the GEMMs' sums run over the hidden
  // size, never across rows), so a chosen row is the full head's row.
  std::vector<float> own;
  float* t = ws.head_out.data();
  if ((size_t)rows * D > ws.head_out.size()) {
    own.resize((size_t)rows * D);
    t = own.data();
  }
  ops::linear(pool, rows, x, D, w.mlm_dense_w, w.mlm_dense_b, t, D, ops::act_of(c.activation));
  ops::layer_norm_rows(pool, t, nullptr, t, rows, D, D, w.mlm_ln_g, w.mlm_ln_b, c.layer_norm_eps);
  ops::linear(pool, rows, t, D, w.decoder, w.decoder_bias, logits, V);
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
