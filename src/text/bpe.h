// Byte-pair encoding: a word starts as its characters (each a vocabulary
// entry, else bytes via "<0xNN>" or the unknown token), then the adjacent
// pair with the best (lowest) merge rank is merged, leftmost first, until no
// listed merge applies -- Hugging Face's BPE model without dropout.
#pragma once
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "runtime/json.h"
#include "text/model.h"

namespace nystrom::text {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;  // spelled before every non-first character
  std::string end_of_word_suffix;         // spelled after the last character
  bool fuse_unk = false;                  // a run of unknown characters is one unknown token
  bool byte_fallback = false;             // unknown characters as their "<0xNN>" byte tokens
  bool ignore_merges = false;             // a word in the vocabulary is taken whole
};

using MergeList = std::vector<std::pair<std::string, std::string>>;

class BpeModel : public Model {
 public:
  // Throws when a merge names a token (or makes one) the vocabulary lacks.
  BpeModel(Vocabulary vocab, const MergeList& merges, BpeOptions options);
  void encode(const std::string& piece, std::vector<int32_t>& out) const override;
  const Vocabulary& vocabulary() const override { return vocab_; }
  const char* kind() const override { return "BPE"; }
  std::optional<int32_t> unknown_id() const override {
    return options_.unk_token ? vocab_.find(*options_.unk_token) : std::nullopt;
  }

 private:
  struct Merge {
    uint32_t rank;
    int32_t id;
  };
  const Merge* find_merge(int32_t a, int32_t b) const;
  std::optional<int32_t> unk_id() const;

  Vocabulary vocab_;
  BpeOptions options_;
  std::unordered_map<uint64_t, Merge> merges_;  // key: (left id << 32) | right id
};

std::unique_ptr<Model> bpe_from_json(const JsonValue& model);

// merges.txt: "a b" per line; a "#version" line and empty lines are skipped.
MergeList merges_from_text(std::string_view text, std::string_view source);

}  // namespace nystrom::text
