// The forward pass in named steps (SPEC section 2). Everything here calls
// kernels through kernels/ops.h; no intrinsics, no allocation.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/quant.h"
#include "model/weights.h"
#include "nystrom/nystrom.h"

namespace nystrom {

class ThreadPool;

// How one input is attended: exactly, or with m landmarks (model/plan.cpp,
// with Workspace::plan_for).
struct AttentionPlan {
  bool exact = true;
  int landmarks = 0;
  bool int8 = false;  // 8-bit Nystrom products (when the head size allows)
};
AttentionPlan plan_attention(const ModelConfig& c, const RunOptions& o, int n);

// Rows of the score matrix processed at once in exact attention: bounds its
// memory to kExactRowBlock x n instead of n x n.
constexpr int kExactRowBlock = 256;

// Rows of the output projection and FFN processed at once: large enough for
// the GEMM to run at full speed, small enough that the [rows x I] FFN buffer
// stays a few MB whatever the input length.
constexpr int kRowChunk = 1024;
// Rows per task of the depthwise conv skip (split over the threads).
constexpr int kConvRowBlock = 64;

// Per-thread scratch of the attention of one head.
struct HeadScratch {
  std::vector<float> z, pinv_work;  // [m x m], [3 m x m]
  std::vector<float> f, fz;         // [n x m]
  std::vector<float> b;             // [m x n]
  std::vector<float> bv;            // [m x d]
  std::vector<float> scores;        // exact: [min(n, block) x n]
  Int8GemmScratch int8;             // AttentionPrecision::Int8
};

// Every activation buffer of one forward pass, sized once per input length.
struct Workspace {
  int n = -1;
  int threads = 0;
  AttentionPlan plan;
  std::vector<float> x;        // [n x D] hidden state
  std::vector<float> q, k, v;  // [n x D] projections, heads side by side
  // The attention output takes Q's place: Q is dead once its head's
  // context is written, and one fewer [n x D] buffer matters at 64k tokens.
  float* context() { return q.data(); }
  std::vector<float> tmp;      // [chunk x D]
  std::vector<float> ffn;      // [chunk x I]
  std::vector<float> head_out; // [n x D] masked-LM transform
  // Nystrom landmarks, their kernel A and its largest column sum, per head.
  std::vector<float> q_land, k_land;  // [H x m x d]
  std::vector<float> a;               // [H x m x m]
  std::vector<float> col_sum;         // [H]
  std::vector<HeadScratch> heads;     // one per thread
  LayerProfile* profile = nullptr;  // set by Session::set_profiling

  void plan_for(const ModelConfig& c, const AttentionPlan& p, int n, int threads);
};

void embed(ThreadPool* pool, const ModelConfig& c, const Weights& w, const int32_t* ids, int n, float* x);
void attention(ThreadPool* pool, const ModelConfig& c, const LayerWeights& lw, Workspace& ws);
void encoder_layer(ThreadPool* pool, const ModelConfig& c, const LayerWeights& lw, Workspace& ws);
// Logits of the rows at positions (all n rows when empty), one row each.
void masked_lm_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, Workspace& ws,
                    const std::vector<size_t>& positions, float* logits);
void classifier_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, const float* first_row,
                     float* logits);

}  // namespace nystrom
