// WordLevel: each pre-tokenized piece is one vocabulary entry, or the unknown
// token.
#pragma once
#include <memory>

#include "runtime/json.h"
#include "text/model.h"

namespace nystrom::text {

class WordLevelModel : public Model {
 public:
  WordLevelModel(Vocabulary vocab, std::string unk_token);
  void encode(const std::string& piece, std::vector<int32_t>& out) const override;
  const Vocabulary& vocabulary() const override { return vocab_; }
  const char* kind() const override { return "WordLevel"; }
  std::optional<int32_t> unknown_id() const override { return unk_id_; }

 private:
  Vocabulary vocab_;
  std::string unk_token_;
  std::optional<int32_t> unk_id_;
};

// From tokenizer.json's "model" object ({"type": "WordLevel", ...}).
std::unique_ptr<Model> word_level_from_json(const JsonValue& model);

// Reads a {"token": id, ...} object into a vocabulary.
Vocabulary vocabulary_from_json(const JsonValue& vocab, std::string_view what);

}  // namespace nystrom::text
