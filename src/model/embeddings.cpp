#include <vector>

#include "kernels/ops.h"
#include "runtime/thread_pool.h"
#include "model/forward.h"

namespace nystrom {

// x_t = word[id_t] + token_type[0] + position[t + offset], then LayerNorm.
void embed(ThreadPool* pool, const ModelConfig& c, const Weights& w, const int32_t* ids, int n, float* x,
           std::vector<std::vector<float>>& row_per_thread) {
  const int D = (int)c.hidden_size;
  // Tables stored quantized or f16 are dequantized row by row.
  pool->parallel_for((size_t)n, [&](size_t t0, size_t t1, int thread) {
    std::vector<float>& pos = row_per_thread[thread];  // planned: a warm run allocates nothing
    for (size_t t = t0; t < t1; ++t) {
      float* row = x + t * D;
      ops::weight_row(w.word, ids[t], row);
      ops::weight_row(w.position, (int)t + (int)c.position_offset, pos.data());
      for (int i = 0; i < D; ++i) row[i] += w.token_type[i] + pos[i];
    }
  }, 64);
  ops::layer_norm_rows(pool, x, nullptr, x, n, D, D, w.emb_ln_g, w.emb_ln_b, c.layer_norm_eps);
}

}  // namespace nystrom
