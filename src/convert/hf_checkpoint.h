// Reading a Hugging Face Nystromformer checkpoint folder (config.json +
// model.safetensors, or pytorch_model.bin without one) into the
// configuration and tensors of a .nyf file.
#pragma once
#include <string>
#include <vector>

#include "format/json.h"
#include "format/model_file.h"

namespace nystrom {

struct Checkpoint {
  ModelConfig config;
  std::vector<TensorData> tensors;  // canonical names and order, f32
};

// Parses config.json text (source names the file in messages).
ModelConfig parse_hf_config(const JsonValue& json, const std::string& source);

// Reads and checks a whole checkpoint folder. Throws Error with a one-line
// message naming the file and the problem.
Checkpoint read_hf_checkpoint(const std::string& dir);

// Stores every weight matrix (is_weight_matrix) as `type`: f16, or q8_0 /
// q4_0 with the rounding rules of format.h, except that a q4_0 model keeps
// its embedding tables at q8_0. A matrix whose column count is not a
// multiple of 32 cannot be block-quantized and stays f32; its name is added
// to `kept_f32`. Everything else stays f32.
void set_weight_type(Checkpoint& ck, format::DType type, std::vector<std::string>* kept_f32);

}  // namespace nystrom
