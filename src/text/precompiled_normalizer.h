// SentencePiece's text normalizer: the precompiled character map (the
// `precompiled_charsmap` of a NormalizerSpec, also the "Precompiled"
// normalizer of tokenizer.json) and the whitespace rules around it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nystrom::text {

// A precompiled charsmap is a set of rewrite rules "UTF-8 source -> UTF-8
// replacement" (nmt_nfkc: NFKC plus a few clean-ups) in one blob:
//   uint32 little-endian n | n bytes: a Darts-clone double-array trie over
//   the sources' bytes | replacements, each terminated by '\0'
// A trie leaf's value is the byte offset of its replacement in that pool.
//
// The constructor checks the whole blob once (sizes, that every trie
// transition and every leaf value stays inside it, that the pool ends with
// '\0'), so lookups need no further checks; a corrupt blob throws
// nystrom::Error. An empty blob is valid and has no rules (identity).
class PrecompiledNormalizer {
 public:
  explicit PrecompiledNormalizer(std::string blob);

  struct Match {
    size_t length = 0;             // bytes of the input the rule's source covers
    std::string_view replacement;  // may be empty (the source is deleted)
  };

  // Every rule whose source is a prefix of `input`, shortest first.
  void prefix_matches(std::string_view input, std::vector<Match>& out) const;

  // SentencePiece's step (Normalizer::NormalizePrefix without user-defined
  // symbols): the longest rule matching the start of `input`; if none, the
  // first UTF-8 character copied as is; if that is malformed, one byte
  // consumed and U+FFFD produced. `input` must not be empty.
  Match normalize_prefix(std::string_view input) const;

  // normalize_prefix applied from start to end, replacements concatenated.
  // No whitespace handling (see SpmNormalizer for that).
  std::string normalize(std::string_view input) const;

  bool empty() const { return units_.empty(); }

 private:
  // Calls visit(Match) for each rule matching a prefix, shortest first.
  template <typename Visit>
  void walk(std::string_view input, Visit&& visit) const;

  std::string blob_;
  std::vector<uint32_t> units_;  // the double array, decoded from blob_
  std::string_view pool_;        // replacements, inside blob_
};

// SentencePiece's NormalizerSpec flags (and trainer_spec's
// treat_whitespace_as_suffix, which the normalizer also reads).
struct SpmWhitespace {
  bool add_dummy_prefix = true;          // a space before the text (after it when as suffix)
  bool remove_extra_whitespaces = true;  // drop leading/trailing spaces, collapse runs
  bool escape_whitespaces = true;        // ' ' -> U+2581 "▁"
  bool treat_whitespace_as_suffix = false;
};

// The whole of SentencePiece's Normalizer::Normalize, byte for byte:
//  1. The text is cut into steps from the start: a user-defined symbol (the
//     longest that `protected_prefix` reports, copied verbatim, never
//     rewritten), else PrecompiledNormalizer::normalize_prefix (or, without
//     a charsmap, one UTF-8 character, a malformed byte becoming U+FFFD).
//  2. With remove_extra_whitespaces, steps producing just " " are dropped at
//     the start, leading spaces of a step are dropped when the output so far
//     ends in a space, and trailing spaces are dropped at the end. Only the
//     ASCII space counts: other whitespace counts only if the charsmap turns
//     it into ' ' (nmt_nfkc does for tabs, NBSP, U+3000 and others).
//  3. add_dummy_prefix puts one space first (or last, as suffix) unless the
//     text was empty or all spaces; escape_whitespaces writes every space
//     as U+2581.
class SpmNormalizer {
 public:
  // Length of the user-defined symbol at the start of the text; 0 if none.
  using ProtectedPrefix = std::function<size_t(std::string_view)>;

  SpmNormalizer(std::optional<PrecompiledNormalizer> charsmap, SpmWhitespace whitespace,
                ProtectedPrefix protected_prefix = nullptr);

  std::string normalize(std::string_view input) const;

 private:
  PrecompiledNormalizer::Match step(std::string_view input) const;

  std::optional<PrecompiledNormalizer> charsmap_;
  SpmWhitespace whitespace_;
  ProtectedPrefix protected_prefix_;
};

}  // namespace nystrom::text
