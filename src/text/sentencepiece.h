// A tokenizer from a SentencePiece model file (`spiece.model`, a serialized
// sentencepiece.ModelProto), encoding exactly as `spm_encode
// --output_format=id` does: SentencePiece's normalizer (precompiled
// charsmap, whitespace rules, user-defined symbols kept whole), then the
// unigram model's Viterbi segmentation. Only UNIGRAM models are supported;
// BPE, WORD and CHAR models are refused with a message saying so.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace nystrom::text {

struct SentencePieceOptions {
  // Lower-case the text (full Unicode lower-casing) before SentencePiece
  // sees it, as ALBERT's tokenizer does with do_lower_case.
  bool lower_case = false;

  // The ids encode(text, true) puts before and after the text's ids. When
  // unset: the pieces "[CLS]" before and "[SEP]" after if the model has
  // both, else nothing.
  std::optional<std::vector<int32_t>> prefix_ids;
  std::optional<std::vector<int32_t>> suffix_ids;

  // The mask token's piece. When unset: "[MASK]", else "<mask>", if present.
  std::optional<std::string> mask_token;
};

// Throws nystrom::Error with a one-line message for a malformed or
// unsupported model (truncated protobuf, bad charsmap, no unknown piece,
// a non-unigram model type, template ids outside the vocabulary, a mask
// token the vocabulary lacks).
std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(std::string_view spiece_model_bytes,
                                                        const SentencePieceOptions& options);

}  // namespace nystrom::text
