// Pointers to every weight of a model, bound by name from a mapped model file.
#pragma once
#include <vector>

#include "format/model_file.h"

namespace nystrom {

struct LayerWeights {
  const float *wq, *bq, *wk, *bk, *wv, *bv;  // [D x D], [D]
  const float* conv;                         // [H x K] or null
  const float *wo, *bo;                      // attention output projection
  const float *ln1_g, *ln1_b;                // attention.output.LayerNorm
  const float *w1, *b1;                      // [I x D], [I]
  const float *w2, *b2;                      // [D x I], [D]
  const float *ln2_g, *ln2_b;                // output.LayerNorm
};

struct Weights {
  const float *word, *position, *token_type;  // [V x D], [P+offset x D], [T x D]
  const float *emb_ln_g, *emb_ln_b;
  std::vector<LayerWeights> layers;
  // masked LM head
  const float *mlm_dense_w = nullptr, *mlm_dense_b = nullptr, *mlm_ln_g = nullptr, *mlm_ln_b = nullptr;
  const float *decoder = nullptr, *decoder_bias = nullptr;  // decoder is word when tied
  // classifier head
  const float *cls_dense_w = nullptr, *cls_dense_b = nullptr, *cls_out_w = nullptr, *cls_out_b = nullptr;
};

// Checks that the file holds exactly the tensors its configuration needs,
// with the right shapes and types, and binds them. Throws Error.
Weights bind_weights(const ModelFile& file);

}  // namespace nystrom
