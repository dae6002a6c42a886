// Every weight of a model, bound by name from a mapped model file. Matrices
// keep their stored dtype; quantized ones get a copy repacked for the
// integer GEMM of the kernel level in use at load, and f32 ones (except the
// embedding tables, whose rows are looked up) a copy packed into the float
// GEMM's panels for that level. The file's pages of a repacked matrix are
// released, so the weights take about their file size once, not twice.
#pragma once
#include <memory>
#include <vector>

#include "format/model_file.h"
#include "kernels/gemm.h"
#include "kernels/ops.h"
#include "kernels/quant.h"

namespace nystrom {

using ops::WeightMatrix;

struct LayerWeights {
  WeightMatrix wq, wk, wv;      // [D x D]
  const float *bq, *bk, *bv;    // [D]
  const float* conv;            // [H x K] or null
  WeightMatrix wo;              // attention output projection
  const float* bo;
  const float *ln1_g, *ln1_b;   // attention.output.LayerNorm
  WeightMatrix w1;              // [I x D]
  const float* b1;
  WeightMatrix w2;              // [D x I]
  const float* b2;
  const float *ln2_g, *ln2_b;   // output.LayerNorm
};

struct Weights {
  WeightMatrix word, position;                // [V x D], [P+offset x D]
  const float* token_type;                    // [T x D]
  const float *emb_ln_g, *emb_ln_b;
  std::vector<LayerWeights> layers;
  // masked LM head
  WeightMatrix mlm_dense_w, decoder;          // decoder is `word` when tied
  const float *mlm_dense_b = nullptr, *mlm_ln_g = nullptr, *mlm_ln_b = nullptr, *decoder_bias = nullptr;
  // classifier head
  WeightMatrix cls_dense_w, cls_out_w;
  const float *cls_dense_b = nullptr, *cls_out_b = nullptr;

  std::vector<std::unique_ptr<PackedQuantMatrix>> packed;  // owns the repacked copies
  std::vector<std::unique_ptr<PackedGemmB>> panels;        // owns the f32 GEMM panels
  size_t packed_bytes = 0;                                 // both together
  std::vector<std::vector<float>> vectors;                 // copies of the f32 vectors
  std::vector<TensorView> tables;  // the embedding tables, read row by row from the file
};

// Checks that the file holds exactly the tensors its configuration needs,
// with the right shapes and allowed dtypes, and binds them, repacking the
// weight matrices on `threads` threads. Throws Error.
Weights bind_weights(const ModelFile& file, int threads);

}  // namespace nystrom
