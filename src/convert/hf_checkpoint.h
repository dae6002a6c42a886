// Reading a Hugging Face Nystromformer checkpoint folder (config.json +
// model.safetensors, or pytorch_model.bin without one) into the
// configuration and tensors of a .nyf file.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "format/model_file.h"
#include "runtime/json.h"
#include "text/tokenizer.h"

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

// The checkpoint's tokenizer: the files of format::kTokenizerFileNames that
// the folder holds, read whole, and the tokenizer they build.
struct CheckpointTokenizer {
  std::vector<text::TokenizerFile> files;    // empty when there is no tokenizer
  std::unique_ptr<text::Tokenizer> tokenizer;  // null when there is no tokenizer
  std::vector<std::string> ignored;          // files found but unused: no tokenizer model file among them

  // The files as write_model_file takes them (views of `files`).
  std::vector<TokenizerFileView> views() const;
};

// Reads the tokenizer files of dir and builds the tokenizer once, so that a
// broken or unsupported file fails the conversion, not the first text
// command. Also checks that its ids fit the model's vocabulary. Throws Error
// with a one-line message naming the folder or file.
CheckpointTokenizer read_hf_tokenizer(const std::string& dir, const ModelConfig& config);

// Which matrices a quantized conversion stores at a higher precision than
// asked: none (Pure); q4_0's embedding tables at q8_0 (EmbeddingsAt8Bits);
// those, and the head's matrices (classifier.*, cls.*) at q8_0 in q4_0 and
// at f16 in q8_0 and q8_c (EmbeddingsAndHead: what nystrom-convert does unless
// --pure).
enum class TypeRule { Pure, EmbeddingsAt8Bits, EmbeddingsAndHead };

// Stores every weight matrix (is_weight_matrix) as `type`: f16, or q8_0 /
// q4_0 / q8_c with the rounding rules of format.h, except those `rule` keeps
// higher. A matrix whose column count is not a multiple of 32 (or, for q8_c,
// above 65536) cannot be quantized and stays f32; its name is added to
// `kept_f32`. Everything else stays f32. progress (if set) is called with
// (i, tensor count) before tensor i and once more at the end.
void set_weight_type(Checkpoint& ck, format::DType type, std::vector<std::string>* kept_f32,
                     const std::function<void(size_t done, size_t total)>& progress = {},
                     TypeRule rule = TypeRule::EmbeddingsAt8Bits);

}  // namespace nystrom
