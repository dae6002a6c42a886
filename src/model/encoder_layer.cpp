// One post-LayerNorm encoder layer (SPEC section 2).
#include <algorithm>
#include <chrono>
#include <cmath>

#include "kernels/ops.h"
#include "model/forward.h"

namespace nystrom {

namespace {

// Adds the time since the last mark to one field of the profile, if any.
class Stopwatch {
 public:
  explicit Stopwatch(LayerProfile* p) : p_(p) { if (p_) t_ = std::chrono::steady_clock::now(); }
  void lap(double LayerProfile::*field) {
    if (!p_) return;
    auto now = std::chrono::steady_clock::now();
    p_->*field += std::chrono::duration<double>(now - t_).count();
    t_ = now;
  }

 private:
  LayerProfile* p_;
  std::chrono::steady_clock::time_point t_;
};

}  // namespace

void encoder_layer(ThreadPool* pool, const ModelConfig& c, const LayerWeights& lw, Workspace& ws) {
  const int n = (int)ws.rows, D = (int)c.hidden_size, I = (int)c.intermediate_size;
  const int d = D / (int)c.num_heads;
  const float eps = c.layer_norm_eps;
  float *x = ws.x.data(), *tmp = ws.tmp.data();
  Stopwatch watch(ws.profile);

  const float qk_scale = 1.0f / std::sqrt(std::sqrt((float)d));  // each side carries d^-1/4
  for (int r0 = 0; r0 < n; r0 += kRowChunk) {  // chunks: see kRowChunk
    const int rows = std::min(kRowChunk, n - r0);
    const size_t at = (size_t)r0 * D;
    const ops::LinearOutput qkv[3] = {{&lw.wq, lw.bq, ws.q.data() + at, D, ops::Act::None, qk_scale},
                                      {&lw.wk, lw.bk, ws.k.data() + at, D, ops::Act::None, qk_scale},
                                      {&lw.wv, lw.bv, ws.v.data() + at, D}};
    ops::linear_shared_input(pool, rows, x + at, D, qkv, 3);
  }
  watch.lap(&LayerProfile::projections);

  attention(pool, c, lw, ws);
  watch.lap(&LayerProfile::attention);

  // The rest is row-wise, so it runs in chunks of kRowChunk rows: tmp and
  // ffn then hold one chunk, not the whole input.
  for (int r0 = 0; r0 < n; r0 += kRowChunk) {
    const int rows = std::min(kRowChunk, n - r0);
    float* xr = x + (size_t)r0 * D;
    // a = LayerNorm(ctx Wo^T + bo + x), kept in x
    ops::linear(pool, rows, ws.context() + (size_t)r0 * D, D, lw.wo, lw.bo, tmp, D);
    watch.lap(&LayerProfile::projections);
    ops::layer_norm_rows(pool, tmp, xr, xr, rows, D, D, lw.ln1_g, lw.ln1_b, eps);
    watch.lap(&LayerProfile::norms);
    // x = LayerNorm(act(a W1^T + b1) W2^T + b2 + a)
    ops::linear(pool, rows, xr, D, lw.w1, lw.b1, ws.ffn.data(), I, ops::act_of(c.activation));
    ops::linear(pool, rows, ws.ffn.data(), I, lw.w2, lw.b2, tmp, D);
    watch.lap(&LayerProfile::ffn);
    ops::layer_norm_rows(pool, tmp, xr, xr, rows, D, D, lw.ln2_g, lw.ln2_b, eps);
    watch.lap(&LayerProfile::norms);
  }
}

}  // namespace nystrom
