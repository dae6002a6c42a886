// Output heads: masked-LM logits for every token or for chosen ones, or
// class logits from the first token.
#include <algorithm>

#include "kernels/ops.h"
#include "model/forward.h"

namespace nystrom {

namespace {

// v's data, v grown to at least `count` floats first if it is smaller.
float* at_least(std::vector<float>& v, size_t count) {
  if (v.size() < count) v.resize(count);
  return v.data();
}

}  // namespace

void masked_lm_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, Workspace& ws, const float* x, int n,
                    const std::vector<size_t>& positions, float* logits) {
  const int D = (int)c.hidden_size, V = (int)c.vocab_size;
  int rows = n;
  if (!positions.empty()) {
    rows = (int)positions.size();
    float* picked = at_least(ws.head_rows, positions.size() * (size_t)D);
    for (size_t r = 0; r < positions.size(); ++r)
      std::copy_n(x + positions[r] * (size_t)D, D, picked + r * (size_t)D);
    x = picked;
  }
  // Every row is computed on its own (the GEMMs' sums run over the hidden
  // size, never across rows), so a chosen row is the full head's row.
  // (Positions may repeat, so they may outnumber the planned n rows.)
  float* t = (size_t)rows * D <= ws.head_out.size() ? ws.head_out.data()
                                                    : at_least(ws.head_rows_out, (size_t)rows * D);
  ops::linear(pool, rows, x, D, w.mlm_dense_w, w.mlm_dense_b, t, D, ops::act_of(c.activation));
  ops::layer_norm_rows(pool, t, nullptr, t, rows, D, D, w.mlm_ln_g, w.mlm_ln_b, c.layer_norm_eps);
  ops::linear(pool, rows, t, D, w.decoder, w.decoder_bias, logits, V);
}

void classifier_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, Workspace& ws, const float* first_row,
                     float* logits) {
  const int D = (int)c.hidden_size, C = (int)c.labels.size();
  float* hidden = at_least(ws.head_rows, (size_t)D);
  ops::linear(pool, 1, first_row, D, w.cls_dense_w, w.cls_dense_b, hidden, D, ops::act_of(c.activation));
  ops::linear(pool, 1, hidden, D, w.cls_out_w, w.cls_out_b, logits, C);
}

}  // namespace nystrom
