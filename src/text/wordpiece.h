// WordPiece (BERT): each word is cut greedily into the longest vocabulary
// entries from its start, pieces after the first spelled with the
// continuing-subword prefix ("##"); a word with an uncoverable rest, or
// longer than max_input_chars_per_word, is the unknown token as a whole.
#pragma once
#include <memory>

#include "runtime/json.h"
#include "text/model.h"
#include "text/unigram.h"

namespace nystrom::text {

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

class WordPieceModel : public Model {
 public:
  WordPieceModel(Vocabulary vocab, WordPieceOptions options);
  void encode(const std::string& piece, std::vector<int32_t>& out) const override;
  const Vocabulary& vocabulary() const override { return vocab_; }
  const char* kind() const override { return "WordPiece"; }
  std::optional<int32_t> unknown_id() const override { return vocab_.find(options_.unk_token); }

 private:
  int32_t unk_id(const std::string& piece) const;

  Vocabulary vocab_;
  WordPieceOptions options_;
  // The tokens by their bytes, and the prefixed ones by what follows the
  // prefix: the longest match at each position is one walk down a trie.
  PieceTrie words_, subwords_;
};

std::unique_ptr<Model> wordpiece_from_json(const JsonValue& model);

// vocab.txt: one token per line, the line number its id.
Vocabulary vocabulary_from_lines(std::string_view text, std::string_view source);

}  // namespace nystrom::text
