#include "text/simple_regex.h"

#include "runtime/error.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace nystrom::text {

namespace {

bool escape_matches(char e, char32_t c) {
  switch (e) {
    case 's': return unicode::is_white_space(c);
    case 'S': return !unicode::is_white_space(c);
    case 'd': return unicode::category(c) == unicode::Category::Nd;
    case 'D': return unicode::category(c) != unicode::Category::Nd;
    case 'w': return unicode::is_word_char(c);
    case 'W': return !unicode::is_word_char(c);
  }
  return false;
}

bool is_class_escape(char32_t e) { return e == 's' || e == 'S' || e == 'd' || e == 'D' || e == 'w' || e == 'W'; }

// The code point an escaped symbol stands for (\n, \t, \., \\ ...).
char32_t escaped_literal(char32_t e, const std::string& source) {
  if (e == 'n') return '\n';
  if (e == 't') return '\t';
  if (e == 'r') return '\r';
  if (e < 0x80 && ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')))
    fail("tokenizer.json: regex '", source, "': escape \\", (char)e, " is not supported");
  return e;
}

}  // namespace

bool SimpleRegex::Atom::matches(char32_t c) const {
  bool hit;
  switch (kind) {
    case Literal: return c == ch;
    case Any: return c != '\n';
    case Class:
      hit = false;
      for (const ClassRange& r : ranges) hit = hit || (c >= r.lo && c <= r.hi);
      for (char e : escapes) hit = hit || escape_matches(e, c);
      return hit != negated;
  }
  return false;
}

SimpleRegex SimpleRegex::literal(std::u32string text) {
  SimpleRegex re;
  for (char32_t c : text) {
    Atom a;
    a.ch = c;
    re.atoms_.push_back(a);
  }
  re.source_ = utf8_encode(text);
  return re;
}

SimpleRegex SimpleRegex::parse(std::string_view pattern) {
  SimpleRegex re;
  re.source_ = std::string(pattern);
  const std::u32string p = utf8_decode(pattern);
  auto unsupported = [&](const char* what) {
    fail("tokenizer.json: regex '", re.source_, "' uses ", what, ", which is not supported");
  };
  size_t i = 0;
  auto read_number = [&]() {
    size_t n = 0, digits = 0;
    while (i < p.size() && p[i] >= '0' && p[i] <= '9' && digits < 6) n = n * 10 + (p[i++] - '0'), ++digits;
    if (digits == 0) unsupported("a malformed {} quantifier");
    return n;
  };
  while (i < p.size()) {
    Atom a;
    const char32_t c = p[i++];
    if (c == '(' || c == ')' || c == '|') unsupported("groups or alternation");
    if (c == '^' || c == '$') unsupported("anchors");
    if (c == '*' || c == '+' || c == '?' || c == '{') unsupported("a quantifier without an atom");
    if (c == '.') {
      a.kind = Atom::Any;
    } else if (c == '\\') {
      if (i >= p.size()) unsupported("a trailing backslash");
      const char32_t e = p[i++];
      if (is_class_escape(e)) {
        a.kind = Atom::Class;
        a.escapes.push_back((char)e);
      } else {
        a.ch = escaped_literal(e, re.source_);
      }
    } else if (c == '[') {
      a.kind = Atom::Class;
      if (i < p.size() && p[i] == '^') a.negated = true, ++i;
      bool first = true;
      while (i < p.size() && (p[i] != ']' || first)) {
        first = false;
        char32_t lo = p[i++];
        if (lo == '[') unsupported("nested classes");
        if (lo == '\\') {
          if (i >= p.size()) unsupported("a trailing backslash");
          const char32_t e = p[i++];
          if (is_class_escape(e)) {
            a.escapes.push_back((char)e);
            continue;
          }
          lo = escaped_literal(e, re.source_);
        }
        char32_t hi = lo;
        if (i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
          hi = p[i + 1];
          i += 2;
          if (hi == '\\') {
            if (i >= p.size()) unsupported("a trailing backslash");
            hi = escaped_literal(p[i++], re.source_);
          }
          if (hi < lo) unsupported("a reversed range");
        }
        a.ranges.push_back({lo, hi});
      }
      if (i >= p.size()) unsupported("an unclosed [");
      ++i;  // ']'
    } else {
      a.ch = c;
    }
    if (i < p.size()) {
      const char32_t q = p[i];
      if (q == '?') a.min = 0, a.max = 1, ++i;
      else if (q == '*') a.min = 0, a.max = SIZE_MAX, ++i;
      else if (q == '+') a.min = 1, a.max = SIZE_MAX, ++i;
      else if (q == '{') {
        ++i;
        a.min = read_number();
        a.max = a.min;
        if (i < p.size() && p[i] == ',') {
          ++i;
          a.max = (i < p.size() && p[i] == '}') ? SIZE_MAX : read_number();
        }
        if (i >= p.size() || p[i] != '}' || a.max < a.min) unsupported("a malformed {} quantifier");
        ++i;
      }
      if (i < p.size() && (p[i] == '?' || p[i] == '+' || p[i] == '*')) unsupported("lazy or possessive quantifiers");
    }
    re.atoms_.push_back(std::move(a));
  }
  return re;
}

// Greedy with backtracking: atoms are never nested, so this stays
// polynomial in the text length.
bool SimpleRegex::match_at(const std::u32string& text, size_t pos, size_t atom, size_t& end) const {
  if (atom == atoms_.size()) {
    end = pos;
    return true;
  }
  const Atom& a = atoms_[atom];
  size_t count = 0;
  while (count < a.max && pos + count < text.size() && a.matches(text[pos + count])) ++count;
  if (count < a.min) return false;
  for (size_t k = count + 1; k-- > a.min;)
    if (match_at(text, pos + k, atom + 1, end)) return true;
  return false;
}

std::vector<std::pair<size_t, size_t>> SimpleRegex::find_all(const std::u32string& text) const {
  std::vector<std::pair<size_t, size_t>> out;
  if (atoms_.empty()) return out;
  for (size_t pos = 0; pos < text.size();) {
    size_t end;
    if (match_at(text, pos, 0, end) && end > pos) {
      out.emplace_back(pos, end);
      pos = end;
    } else {
      ++pos;
    }
  }
  return out;
}

}  // namespace nystrom::text
