#include "text/precompiled_normalizer.h"

#include <utility>

#include "runtime/error.h"
#include "text/growth_limit.h"

namespace nystrom::text {

namespace {

// Darts-clone double-array units. A node unit holds a label byte (bits
// 0-7), a has-leaf flag (bit 8) and the XOR offset of its children (bits
// 10-31, scaled by 256 when bit 9 is set); a value unit has bit 31 set and
// the value in bits 0-30, so its label never equals a byte.
constexpr uint32_t kValueBit = 0x80000000u;
uint32_t unit_label(uint32_t unit) { return unit & (kValueBit | 0xffu); }
bool unit_has_leaf(uint32_t unit) { return (unit >> 8) & 1u; }
uint32_t unit_offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }
uint32_t unit_value(uint32_t unit) { return unit & ~kValueBit; }

// Length of the well-formed UTF-8 character at the start of `s`, or 0 if
// it is malformed (truncated, overlong, a surrogate, above U+10FFFF).
size_t utf8_char_length(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  auto trail = [&](size_t i) { return i < s.size() && (byte(i) & 0xc0) == 0x80; };
  uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return trail(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    if (!trail(1) || !trail(2)) return 0;
    uint32_t cp = ((lead & 0x0fu) << 12) | ((byte(1) & 0x3fu) << 6);
    return cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (!trail(1) || !trail(2) || !trail(3)) return 0;
    uint32_t cp = ((lead & 0x07u) << 18) | ((byte(1) & 0x3fu) << 12);
    return cp >= 0x10000 && cp <= 0x10ffff ? 4 : 0;
  }
  return 0;
}

constexpr std::string_view kReplacementChar = "\xef\xbf\xbd";  // U+FFFD
constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";      // U+2581

// One character copied as is, or one malformed byte read as U+FFFD.
PrecompiledNormalizer::Match copy_one_char(std::string_view input) {
  size_t length = utf8_char_length(input);
  if (length == 0) return {1, kReplacementChar};
  return {length, input.substr(0, length)};
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

PrecompiledNormalizer::PrecompiledNormalizer(std::string blob) : blob_(std::move(blob)) {
  if (blob_.empty()) return;
  auto bad = [](const auto&... why) { fail("precompiled charsmap: ", why...); };
  if (blob_.size() < 4) bad("blob of ", blob_.size(), " bytes is too short");
  uint32_t trie_bytes = 0;
  for (int i = 3; i >= 0; --i) trie_bytes = (trie_bytes << 8) | static_cast<uint8_t>(blob_[i]);
  if (trie_bytes > blob_.size() - 4) bad("trie of ", trie_bytes, " bytes exceeds the blob of ", blob_.size());
  if (trie_bytes == 0 || trie_bytes % 4 != 0) bad("trie size ", trie_bytes, " is not a positive multiple of 4");
  units_.resize(trie_bytes / 4);
  for (size_t i = 0; i < units_.size(); ++i) {
    uint32_t unit = 0;
    for (int b = 3; b >= 0; --b) unit = (unit << 8) | static_cast<uint8_t>(blob_[4 + 4 * i + b]);
    units_[i] = unit;
  }
  pool_ = std::string_view(blob_).substr(4 + trie_bytes);
  if (pool_.empty() || pool_.back() != '\0') bad("replacement strings do not end with a null byte");

  // A node's children lie at (its index ^ its offset) ^ label for labels
  // 0..255, so that whole block must exist; its leaf value (label 0) must
  // name a replacement in the pool. Then no lookup can leave the blob.
  const size_t n = units_.size();
  if (units_[0] & kValueBit) bad("the trie's root is a value");
  for (size_t i = 0; i < n; ++i) {
    uint32_t unit = units_[i];
    if (unit & kValueBit) continue;
    size_t base = i ^ unit_offset(unit);
    if ((base | 0xff) >= n) bad("unit ", i, " points outside the trie");
    if (!unit_has_leaf(unit)) continue;
    uint32_t leaf = units_[base];
    if (!(leaf & kValueBit) || unit_value(leaf) >= pool_.size())
      bad("unit ", i, " has a replacement offset outside the blob");
  }
}

template <typename Visit>
void PrecompiledNormalizer::walk(std::string_view input, Visit&& visit) const {
  if (units_.empty()) return;
  size_t pos = unit_offset(units_[0]);
  for (size_t i = 0; i < input.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(input[i]);
    pos ^= c;
    uint32_t unit = units_[pos];
    if (unit_label(unit) != c) return;
    pos ^= unit_offset(unit);
    if (unit_has_leaf(unit)) visit(Match{i + 1, pool_.data() + unit_value(units_[pos])});
  }
}

void PrecompiledNormalizer::prefix_matches(std::string_view input, std::vector<Match>& out) const {
  out.clear();
  walk(input, [&](const Match& m) { out.push_back(m); });
}

PrecompiledNormalizer::Match PrecompiledNormalizer::normalize_prefix(std::string_view input) const {
  Match longest;
  walk(input, [&](const Match& m) { longest = m; });
  if (longest.length > 0) return longest;
  return copy_one_char(input);
}

std::string PrecompiledNormalizer::normalize(std::string_view input) const {
  std::string out;
  out.reserve(input.size());
  while (!input.empty()) {
    Match m = normalize_prefix(input);
    out += m.replacement;
    input.remove_prefix(m.length);
  }
  return out;
}

SpmNormalizer::SpmNormalizer(std::optional<PrecompiledNormalizer> charsmap, SpmWhitespace whitespace,
                             ProtectedPrefix protected_prefix)
    : charsmap_(std::move(charsmap)), whitespace_(whitespace), protected_prefix_(std::move(protected_prefix)) {}

PrecompiledNormalizer::Match SpmNormalizer::step(std::string_view input) const {
  if (protected_prefix_) {
    size_t length = protected_prefix_(input);
    if (length > 0) return {length, input.substr(0, length)};
  }
  if (charsmap_) return charsmap_->normalize_prefix(input);
  return copy_one_char(input);
}

std::string SpmNormalizer::normalize(std::string_view input) const {
  const SpmWhitespace& ws = whitespace_;
  const size_t length = input.size();
  if (ws.remove_extra_whitespaces) {
    while (!input.empty()) {
      PrecompiledNormalizer::Match m = step(input);
      if (m.replacement != " ") break;
      input.remove_prefix(m.length);
    }
  }
  std::string out;
  if (input.empty()) return out;
  out.reserve(input.size() + 8);
  const std::string_view space = ws.escape_whitespaces ? kSpaceSymbol : " ";
  if (ws.add_dummy_prefix && !ws.treat_whitespace_as_suffix) out += space;

  bool prev_space = ws.remove_extra_whitespaces;
  while (!input.empty()) {
    PrecompiledNormalizer::Match m = step(input);
    std::string_view piece = m.replacement;
    if (prev_space)
      while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    if (!piece.empty()) {
      for (char ch : piece) {
        if (ch == ' ')
          out += space;
        else
          out += ch;
      }
      prev_space = piece.back() == ' ';
      check_growth(length, out.size(), "spiece.model normalizer");
    }
    input.remove_prefix(m.length);
    if (!ws.remove_extra_whitespaces) prev_space = false;
  }
  if (ws.remove_extra_whitespaces)
    while (ends_with(out, space)) out.resize(out.size() - space.size());
  if (ws.add_dummy_prefix && ws.treat_whitespace_as_suffix) out += space;
  return out;
}

}  // namespace nystrom::text
