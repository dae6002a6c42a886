// The forward pass in named steps (SPEC section 2). Everything here calls
// kernels through kernels/ops.h; no intrinsics, no allocation.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/bf16_gemm.h"
#include "kernels/quant.h"
#include "model/weights.h"
#include "nystrom/nystrom.h"
#include "runtime/aligned_buffer.h"

namespace nystrom {

class ThreadPool;

// How one input is attended: exactly, or with m landmarks (model/plan.cpp,
// with Workspace::plan_for).
struct AttentionPlan {
  bool exact = true;
  int landmarks = 0;
  // Of the Nystrom products; Int8 only when the head size allows it.
  AttentionPrecision precision = AttentionPrecision::F32;
  bool operator==(const AttentionPlan& o) const {
    return exact == o.exact && landmarks == o.landmarks && precision == o.precision;
  }
};
AttentionPlan plan_attention(const ModelConfig& c, const RunOptions& o, int n);

// Rows of the score matrix processed at once in exact attention: bounds its
// memory to kExactRowBlock x n instead of n x n.
constexpr int kExactRowBlock = 256;

// Rows of the position-wise steps (Q/K/V and output projections, FFN)
// processed at once: large enough for the GEMM to run at full speed, small
// enough that the [rows x I] FFN buffer and the GEMM's 8-bit copy of its
// input stay a few MB whatever the input length. A GEMM computes each row
// on its own, so the chunking does not change any result.
constexpr int kRowChunk = 1024;
// Rows of F = softmax(Q K~^T) (and F Z) a Nystrom head holds at once.
constexpr int kNystromRowBlock = 1024;
// Session::run_batch packs consecutive sequences into one pass while their
// rows number at most this (the GEMMs run kRowChunk rows at a time anyway).
constexpr size_t kBatchRows = kRowChunk;
// Passes of at least this many rows release the embedding tables' pages
// after looking up their rows (shorter ones keep them: they read few).
constexpr size_t kReleaseTablesRows = 4096;
// Rows per task of the depthwise conv skip (split over the threads).
constexpr int kConvRowBlock = 64;

// Per-thread scratch of the attention of one head.
struct HeadScratch {
  std::vector<float> z, pinv_work;  // [m x m], [3 m x m]
  std::vector<float> f, fz;         // [min(n, kNystromRowBlock) x m]
  std::vector<float> b;             // [m x n]
  std::vector<float> bv;            // [m x d]
  std::vector<float> scores;        // exact: [min(n, block) x n]
  Int8GemmScratch int8;             // AttentionPrecision::Int8
  Bf16GemmScratch bf16;             // AttentionPrecision::BF16
};

// One sequence of a pass: its rows of the workspace's buffers and how it
// is attended. Several short ones share a pass (Session::run_batch): every
// step but attention is row by row, so packing them changes no result.
struct SequenceSpan {
  size_t row = 0;  // first row
  int n = 0;
  AttentionPlan plan;
  bool operator==(const SequenceSpan& o) const { return row == o.row && n == o.n && plan == o.plan; }
};

// Every activation buffer of one forward pass, sized once per set of
// sequences (rows = all their rows).
struct Workspace {
  std::vector<SequenceSpan> seqs;
  size_t rows = 0;
  int threads = 0;
  std::vector<float> x;        // [rows x D] hidden state
  // [rows x D] projections, heads side by side. Left unwritten until the
  // first layer writes them, so at 64k tokens the embedding tables' pages
  // and these 600 MB are never resident at once.
  AlignedBuffer q, k, v;
  // The attention output takes Q's place: Q is dead once its head's
  // context is written, and one fewer [n x D] buffer matters at 64k tokens.
  float* context() { return q.data(); }
  std::vector<float> tmp;      // [chunk x D]
  std::vector<float> ffn;      // [chunk x I]
  std::vector<float> head_out; // [longest n x D] masked-LM transform
  // The heads' other rows: masked-LM rows at chosen positions (and their
  // transform when they outnumber n), the classifier's hidden row. Grown
  // when too small, never shrunk: a warm run allocates nothing.
  std::vector<float> head_rows, head_rows_out;
  // Nystrom landmarks, their kernel A and its largest column sum, per head.
  std::vector<float> q_land, k_land;  // [H x m x d]
  std::vector<float> a;               // [H x m x m]
  std::vector<float> col_sum;         // [H]
  std::vector<HeadScratch> heads;     // one per thread
  std::vector<std::vector<float>> embed_rows;  // one [D] row per thread (embed)
  LayerProfile* profile = nullptr;  // set by Session::set_profiling

  // x may have been handed to an Output since (Session::run): it is sized
  // again whatever else is unchanged.
  void plan_for(const ModelConfig& c, const std::vector<SequenceSpan>& seqs, int threads);
  // Bytes of every buffer plan_for would allocate for these sequences: the
  // pass's working set besides the weights (and the kernels' own small
  // per-thread buffers).
  static size_t planned_bytes(const ModelConfig& c, const std::vector<SequenceSpan>& seqs, int threads);
};

// Rows [0, n) of x from ids: token t at position t.
// row_per_thread: one [D] scratch row per thread of the pool.
void embed(ThreadPool* pool, const ModelConfig& c, const Weights& w, const int32_t* ids, int n, float* x,
           std::vector<std::vector<float>>& row_per_thread);
// Every sequence's attention (and conv skip), each on its own rows of
// ws.q/k/v.
void attention(ThreadPool* pool, const ModelConfig& c, const LayerWeights& lw, Workspace& ws);
void encoder_layer(ThreadPool* pool, const ModelConfig& c, const LayerWeights& lw, Workspace& ws);
// Logits of the rows at positions of the n rows x (all n rows when empty),
// one row each.
void masked_lm_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, Workspace& ws, const float* x, int n,
                    const std::vector<size_t>& positions, float* logits);
void classifier_head(ThreadPool* pool, const ModelConfig& c, const Weights& w, Workspace& ws, const float* first_row,
                     float* logits);

}  // namespace nystrom
