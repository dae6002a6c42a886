#include "kernels/ops.h"
#include "model/forward.h"

namespace nystrom {

// x_t = word[id_t] + token_type[0] + position[t + offset], then LayerNorm.
void embed(ThreadPool* pool, const ModelConfig& c, const Weights& w, const int32_t* ids, int n, float* x) {
  const int D = (int)c.hidden_size;
  for (int t = 0; t < n; ++t) {
    float* row = x + (size_t)t * D;
    ops::weight_row(w.word, ids[t], row);  // dequantized row by row when stored quantized
    const float* pos = w.position + (size_t)(t + c.position_offset) * D;
    for (int i = 0; i < D; ++i) row[i] += w.token_type[i] + pos[i];
  }
  ops::layer_norm_rows(pool, x, nullptr, x, n, D, D, w.emb_ln_g, w.emb_ln_b, c.layer_norm_eps);
}

}  // namespace nystrom
