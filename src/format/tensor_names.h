// The tensors a model of a given configuration has, by canonical name (the
// Hugging Face name without the "nystromformer." prefix) and shape. The
// converter checks checkpoints against this list and the loader binds it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nystrom/nystrom.h"

namespace nystrom {

struct ExpectedTensor {
  std::string name;
  std::vector<uint64_t> shape;
  bool optional = false;  // the masked-LM decoder, absent when tied to the word embeddings
};

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c);
std::string layer_tensor(uint32_t layer, const char* suffix);

// Whether a tensor may be stored in a dtype other than f32: the weight
// matrices of linear layers, the decoder, and the word and position
// embedding tables (looked up row by row).
bool is_weight_matrix(const std::string& name);

}  // namespace nystrom
