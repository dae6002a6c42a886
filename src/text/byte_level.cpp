#include "text/byte_level.h"

#include <array>

#include "text/unicode.h"
#include "text/utf8.h"

namespace nystrom::text {

namespace {

struct ByteTables {
  std::array<char32_t, 256> to_char{};
  std::array<int, 324> to_byte{};  // U+0000..U+0143
  ByteTables() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? (char32_t)b : next++;
      to_byte[to_char[b]] = b;
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

bool is_space(char32_t c) { return unicode::is_white_space(c); }
bool is_other(char32_t c) { return !is_space(c) && !unicode::is_letter(c) && !unicode::is_number(c); }

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
size_t contraction_at(const std::u32string& s, size_t i) {
  if (s[i] != '\'' || i + 1 >= s.size()) return 0;
  const char32_t a = s[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 < s.size()) {
    const char32_t b = s[i + 2];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  return 0;
}

// End of the run of code points from i that pass pred.
template <typename Pred>
size_t run_end(const std::u32string& s, size_t i, Pred pred) {
  while (i < s.size() && pred(s[i])) ++i;
  return i;
}

// End of the match starting at i (i < s.size()).
size_t gpt2_match_end(const std::u32string& s, size_t i) {
  if (size_t n = contraction_at(s, i)) return i + n;
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the optional space, then
  // a run of one class, tried in that order.
  const size_t j = (s[i] == ' ' && i + 1 < s.size()) ? i + 1 : i;
  for (size_t start : {j, i}) {
    const char32_t c = s[start];
    if (unicode::is_letter(c)) return run_end(s, start, unicode::is_letter);
    if (unicode::is_number(c)) return run_end(s, start, unicode::is_number);
    if (is_other(c)) return run_end(s, start, is_other);
    if (start == i) break;
  }
  // `\s+(?!\S)` keeps the last space for the next word; `\s+` otherwise.
  const size_t k = run_end(s, i, is_space);
  if (k == s.size() || k - i == 1) return k;
  return k - 1;
}

}  // namespace

char32_t byte_to_char(unsigned char byte) { return tables().to_char[byte]; }

int char_to_byte(char32_t c) { return c < tables().to_byte.size() ? tables().to_byte[c] : -1; }

std::u32string to_byte_level(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::string bytes;
  for (char32_t c : text) {
    bytes.clear();
    utf8_append(c, bytes);
    for (unsigned char b : bytes) out.push_back(byte_to_char(b));
  }
  return out;
}

std::vector<Span> gpt2_spans(const std::u32string& text) {
  std::vector<Span> spans;
  for (size_t i = 0; i < text.size();) {
    const size_t end = gpt2_match_end(text, i);
    spans.push_back({i, end, true});
    i = end;
  }
  return spans;
}

}  // namespace nystrom::text
