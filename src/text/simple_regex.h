// The small regular expressions tokenizer.json files use in Replace
// normalizers and Split pre-tokenizers (" {2,}", "\s+", "[0-9]"): a sequence
// of atoms, each a literal, an escape (\s \S \d \D \w \W, or an escaped
// symbol), "." or a bracket class, each with an optional greedy quantifier
// (? * + {n} {n,} {n,m}). Groups, alternation and look-around are rejected
// with nystrom::Error, so a pattern is either matched exactly or refused.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nystrom::text {

class SimpleRegex {
 public:
  static SimpleRegex parse(std::string_view pattern);
  static SimpleRegex literal(std::u32string text);

  // The leftmost-first, non-overlapping, non-empty matches as [begin, end),
  // in time linear in the text's length times the pattern's.
  std::vector<std::pair<size_t, size_t>> find_all(const std::u32string& text) const;

 private:
  struct ClassRange {
    char32_t lo, hi;
  };
  struct Atom {
    enum Kind { Literal, Any, Class } kind = Literal;
    char32_t ch = 0;
    std::vector<ClassRange> ranges;  // Class: literal ranges
    std::vector<char> escapes;       // Class: s S d D w W inside or as the atom
    bool negated = false;
    size_t min = 1, max = 1;
    bool matches(char32_t c) const;
  };

  std::vector<Atom> atoms_;
  std::string source_;
};

}  // namespace nystrom::text
