// Making .nyf model files: a Hugging Face Nystromformer checkpoint folder
// converted to one (what nystrom-convert does), or a model of a given size
// with random weights (for benchmarks).
//
//   nystrom::ConvertOptions opt;
//   opt.weight_type = nystrom::format::DType::Q8_0;
//   nystrom::ConvertResult r = nystrom::convert_checkpoint("hf-folder", "model.nyf", opt);
//
// Every failure throws nystrom::Error with a one-line message naming the file
// and the problem; the output is written to a temporary file and renamed, so
// it appears whole or not at all.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nystrom/format.h"
#include "nystrom/nystrom.h"

namespace nystrom {

// How far a conversion has come: the step it is in, and `done` of `total`
// units of that step (tensors for StoreWeights; 0 of 1 when any other step
// starts and 1 of 1 when it ends). Steps come in this order; ReadTokenizer
// is left out when the options say so.
struct ConvertProgress {
  enum class Step { ReadCheckpoint, ReadTokenizer, StoreWeights, WriteFile };
  Step step = Step::ReadCheckpoint;
  size_t done = 0, total = 0;
};

struct ConvertOptions {
  // How weight matrices (linear layers, decoder, word and position
  // embeddings) are stored: F32, F16, Q8_0 or Q4_0. A matrix whose column
  // count is not a multiple of 32 cannot be block-quantized and stays f32.
  // LayerNorm, biases, conv and token-type embeddings are always f32.
  format::DType weight_type = format::DType::F32;
  // Q8_0 and Q4_0: false keeps the head's matrices (classifier or
  // masked-LM head) one step up, f16 in q8_0 and q8_0 in q4_0, and q4_0's
  // embedding tables at q8_0: there rounding noise costs the most answers
  // for the least space. true stores every matrix as weight_type.
  bool pure = false;
  // Embed the folder's tokenizer files (format::kTokenizerFileNames), after
  // building the tokenizer from them once so that a broken or unsupported
  // file fails the conversion rather than the first text command.
  bool tokenizer = true;
  // Called on the converting thread as the conversion advances. An
  // exception it throws stops the conversion and leaves no output file.
  std::function<void(const ConvertProgress&)> progress;
};

// What a conversion wrote.
struct ConvertResult {
  ModelConfig config;
  size_t tensor_count = 0;
  uint64_t file_bytes = 0;
  struct TypeCount {
    std::string type;  // dtype_name()
    size_t tensors = 0;
    uint64_t bytes = 0;
  };
  std::vector<TypeCount> by_type;           // one per dtype used, by name
  std::vector<std::string> kept_f32;        // matrices left f32 (columns not a multiple of 32)
  // The embedded tokenizer; kind is empty when the file has none.
  std::string tokenizer_kind;               // "WordLevel", "WordPiece", "BPE" or "Unigram"
  int32_t tokenizer_vocab_size = 0;
  std::optional<std::string> mask_token;    // [MASK] / <mask>, if the vocabulary has one
  std::vector<std::string> tokenizer_files; // embedded, in file order
  uint64_t tokenizer_bytes = 0;
  // Tokenizer files found but left out: no tokenizer model file
  // (tokenizer.json, spiece.model, vocab.txt, vocab.json) among them.
  std::vector<std::string> ignored_tokenizer_files;
};

// Converts a checkpoint folder (config.json and model.safetensors, or
// pytorch_model.bin when there is no safetensors file; F32, F16 or BF16
// tensors) into the .nyf file out_path. Every tensor is checked against the
// configuration. The same folder and options give the same bytes.
NYSTROM_API ConvertResult convert_checkpoint(const std::string& folder, const std::string& out_path,
                                             const ConvertOptions& options = {});

// Writes a model file of this configuration whose weights are drawn from
// N(0, 0.02) by a generator seeded with `seed` (LayerNorm weights 1, biases
// 0; no tokenizer), its weight matrices stored as weight_type (q4_0 by the
// converter's default rule): a model of a given size without a checkpoint,
// for timing. Throws Error for an invalid configuration.
NYSTROM_API void write_random_model(const std::string& path, const ModelConfig& config, uint32_t seed = 1,
                                    format::DType weight_type = format::DType::F32);

}  // namespace nystrom
