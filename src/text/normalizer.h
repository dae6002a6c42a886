// The normalizer stage: rewrites the text before it is split (Unicode
// normalization forms, lower-casing, accent stripping, BERT's clean-up,
// SentencePiece's precompiled map), as tokenizer.json's "normalizer" says.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "runtime/json.h"

namespace nystrom::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::u32string normalize(std::u32string text) const = 0;
};

// From tokenizer.json's "normalizer" object; nullptr for JSON null.
std::unique_ptr<Normalizer> normalizer_from_json(const JsonValue& json);

// Hugging Face's BertNormalizer. strip_accents unset follows lowercase.
std::unique_ptr<Normalizer> make_bert_normalizer(bool clean_text, bool handle_chinese_chars,
                                                 std::optional<bool> strip_accents, bool lowercase);

// The ideograph blocks BERT surrounds with spaces.
bool is_cjk_ideograph(char32_t c);

}  // namespace nystrom::text
