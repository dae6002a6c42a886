#include "text/unicode.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace nystrom::text::unicode {

namespace {
#include "text/unicode_tables.inc"

// Hangul syllables, composed and decomposed arithmetically (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

// The value of the run holding c in a table of (first << shift) | value runs.
uint32_t run_value(const uint32_t* runs, size_t n, int shift, char32_t c) {
  const uint32_t key = ((uint32_t)c << shift) | ((1u << shift) - 1);
  const uint32_t* it = std::upper_bound(runs, runs + n, key);
  return it == runs ? 0 : (it[-1] & ((1u << shift) - 1));
}

bool in_ranges(const uint32_t* ranges, size_t n_values, char32_t c) {
  for (size_t i = 0; i + 1 < n_values; i += 2)
    if (c >= ranges[i] && c <= ranges[i + 1]) return true;
  return false;
}

// Finds c in an index of {code point, (offset << 5) | length} pairs.
const uint32_t* find_pair(const uint32_t* index, size_t n_values, char32_t c) {
  size_t lo = 0, hi = n_values / 2;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (index[2 * mid] < c)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n_values / 2 && index[2 * lo] == c ? index + 2 * lo : nullptr;
}

void append_decomposition(char32_t c, bool compat, std::u32string& out) {
  if (c >= kSBase && c < kSBase + kSCount) {
    const char32_t s = c - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  const uint32_t* entry = compat ? find_pair(kCompatibilityIndex, std::size(kCompatibilityIndex), c) : nullptr;
  if (!entry) entry = find_pair(kCanonicalIndex, std::size(kCanonicalIndex), c);
  if (!entry) {
    out.push_back(c);
    return;
  }
  const uint32_t offset = entry[1] >> 5, length = entry[1] & 31;
  out.append(kDecompositionData + offset, kDecompositionData + offset + length);
}

std::u32string decompose(std::u32string_view s, bool compat) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) append_decomposition(c, compat, out);
  // Canonical ordering: a stable sort by combining class of each run of
  // non-starters.
  size_t i = 0;
  while (i < out.size()) {
    if (combining_class(out[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < out.size() && combining_class(out[j]) != 0) ++j;
    if (j - i > 1)
      std::stable_sort(out.begin() + i, out.begin() + j,
                       [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  return out;
}

// The primary composite of (a, b), or 0.
char32_t compose_pair(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  size_t lo = 0, hi = std::size(kCompositions) / 3;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    const uint32_t* t = kCompositions + 3 * mid;
    if (t[0] < a || (t[0] == a && t[1] < b))
      lo = mid + 1;
    else
      hi = mid;
  }
  const uint32_t* t = kCompositions + 3 * lo;
  return lo < std::size(kCompositions) / 3 && t[0] == a && t[1] == b ? t[2] : 0;
}

// Canonical composition of a decomposed string (UAX #15 section 1.3).
std::u32string compose(std::u32string s) {
  if (s.empty()) return s;
  size_t starter = std::u32string::npos;  // index of the last starter in out
  std::u32string out;
  out.reserve(s.size());
  int last_class = -1;
  for (char32_t c : s) {
    const int cc = combining_class(c);
    if (starter != std::u32string::npos) {
      // Blocked when a character between has a class of 0 or >= cc.
      const bool blocked = last_class != -1 && (last_class == 0 || last_class >= cc);
      if (!blocked) {
        if (char32_t composite = compose_pair(out[starter], c)) {
          out[starter] = composite;
          continue;
        }
      }
    }
    if (cc == 0) {
      starter = out.size();
      last_class = -1;
    } else {
      last_class = cc;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

Category category(char32_t c) {
  if (c > 0x10FFFF) return Category::Cn;
  return (Category)run_value(kCategoryRuns, std::size(kCategoryRuns), 5, c);
}

bool is_letter(char32_t c) { return category(c) <= Category::Lo; }

bool is_mark(char32_t c) {
  const Category k = category(c);
  return k >= Category::Mn && k <= Category::Me;
}

bool is_number(char32_t c) {
  const Category k = category(c);
  return k >= Category::Nd && k <= Category::No;
}

bool is_punctuation(char32_t c) {
  const Category k = category(c);
  return k >= Category::Pc && k <= Category::Po;
}

bool is_other(char32_t c) { return category(c) >= Category::Cc; }

bool is_white_space(char32_t c) { return in_ranges(kWhiteSpaceRanges, std::size(kWhiteSpaceRanges), c); }

bool is_alphabetic(char32_t c) {
  const Category k = category(c);
  if (k <= Category::Lo || k == Category::Nl) return true;
  // Other_Alphabetic: many marks and a few symbols.
  if (k == Category::So) return in_ranges(kOtherAlphabeticSymbols, std::size(kOtherAlphabeticSymbols), c);
  return false;
}

bool is_alphanumeric(char32_t c) { return is_alphabetic(c) || is_number(c); }

bool is_word_char(char32_t c) {
  const Category k = category(c);
  return is_alphabetic(c) || (k >= Category::Mn && k <= Category::Me) || k == Category::Nd ||
         k == Category::Pc || c == 0x200C || c == 0x200D;
}

int combining_class(char32_t c) {
  if (c > 0x10FFFF) return 0;
  return (int)run_value(kCombiningRuns, std::size(kCombiningRuns), 8, c);
}

std::u32string nfd(std::u32string_view s) { return decompose(s, false); }
std::u32string nfkd(std::u32string_view s) { return decompose(s, true); }
std::u32string nfc(std::u32string_view s) { return compose(decompose(s, false)); }
std::u32string nfkc(std::u32string_view s) { return compose(decompose(s, true)); }

namespace {

enum class Gcb { Other, CR, LF, Control, Extend, ZWJ, SpacingMark, Prepend };

Gcb grapheme_break(char32_t c) {
  if (c == '\r') return Gcb::CR;
  if (c == '\n') return Gcb::LF;
  if (c == 0x200D) return Gcb::ZWJ;
  if (in_ranges(kGraphemePrepend, std::size(kGraphemePrepend), c)) return Gcb::Prepend;
  const Category k = category(c);
  if (k == Category::Mn || k == Category::Me || in_ranges(kGraphemeExtendExtra, std::size(kGraphemeExtendExtra), c))
    return Gcb::Extend;
  if ((k == Category::Mc || c == 0x0E33 || c == 0x0EB3) &&
      !in_ranges(kSpacingMarkExcluded, std::size(kSpacingMarkExcluded), c))
    return Gcb::SpacingMark;
  if (k == Category::Cc || k == Category::Cf || k == Category::Zl || k == Category::Zp) return Gcb::Control;
  // Unassigned default-ignorable code points count as controls too.
  if (k == Category::Cn && (c == 0x2065 || (c >= 0xFFF0 && c <= 0xFFF8) || (c >= 0xE0000 && c <= 0xE0FFF)))
    return Gcb::Control;
  return Gcb::Other;
}

bool is_control_break(Gcb g) { return g == Gcb::CR || g == Gcb::LF || g == Gcb::Control; }

}  // namespace

size_t grapheme_end(std::u32string_view s, size_t i) {
  Gcb before = grapheme_break(s[i]);
  size_t j = i + 1;
  for (; j < s.size(); ++j) {
    const Gcb after = grapheme_break(s[j]);
    const bool join = (before == Gcb::CR && after == Gcb::LF) ||
                      (!is_control_break(before) && !is_control_break(after) &&
                       (after == Gcb::Extend || after == Gcb::ZWJ || after == Gcb::SpacingMark || before == Gcb::Prepend));
    if (!join) break;
    before = after;
  }
  return j;
}

void append_lower(char32_t c, std::u32string& out) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  const uint32_t* entry = find_pair(kLowerIndex, std::size(kLowerIndex), c);
  if (!entry) {
    out.push_back(c);
  } else if (entry[1] & 0x80000000u) {
    const uint32_t offset = (entry[1] & 0x7FFFFFFFu) >> 5, length = entry[1] & 31;
    out.append(kLowerData + offset, kLowerData + offset + length);
  } else {
    out.push_back(entry[1]);
  }
}

std::u32string lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) append_lower(c, out);
  return out;
}

}  // namespace nystrom::text::unicode
