// Added tokens (special tokens such as [CLS] and [MASK], and tokens a user
// added): found in the text before the model runs, as Hugging Face's
// AddedVocabulary does. Tokens with normalized=false are matched in the raw
// text, before normalization (so "[MASK]" typed in the text is the mask
// token even under a lower-casing normalizer); those with normalized=true in
// the normalized text.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/json.h"

namespace nystrom::text {

class Normalizer;

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool single_word = false;  // only where no word character touches it
  bool lstrip = false;       // also swallows the whitespace before it
  bool rstrip = false;       // ... and after it
  bool normalized = false;
  bool special = false;
};

// tokenizer.json's "added_tokens" entries.
std::vector<AddedToken> added_tokens_from_json(const JsonValue& list);

class AddedVocabulary {
 public:
  // Patterns of normalized tokens are the content after `normalizer` (may be
  // null), as the text they are matched in.
  void add(const AddedToken& token, const Normalizer* normalizer);

  // A stretch [begin, end) of the text: an added token's id, or -1 for text
  // to tokenize.
  struct Segment {
    size_t begin, end;
    int32_t id;
  };
  // Cuts text at the leftmost-longest matches of the raw (normalized=false)
  // or the normalized tokens.
  std::vector<Segment> split(const std::u32string& text, bool normalized) const;

  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Trie {
    struct Node {
      std::map<char32_t, int> next;
      int token = -1;  // index into tokens_
    };
    std::vector<Node> nodes{Node{}};
  };
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;  // first token given wins
  std::unordered_map<std::string, size_t> by_content_;
  Trie raw_, normalized_;
};

}  // namespace nystrom::text
