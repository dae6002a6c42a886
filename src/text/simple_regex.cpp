#include "text/simple_regex.h"

#include <algorithm>

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

// The matches a backtracking matcher finds (each atom greedy, giving back
// one character at a time), found without backtracking: for every start
// position at once, from the last atom back, the end of the match of atoms
// i.. from p (or none). Atom i can take k characters from p for k in
// [min, min(run, max)], run being how many characters from p it matches;
// the backtracker keeps the largest k whose rest matches, i.e. the last
// position in that window where atoms i+1.. match. So the time is the
// text's length times the pattern's, where backtracking took time growing
// with the text's length to the power of the atoms (" *a*b" on a long word).
std::vector<std::pair<size_t, size_t>> SimpleRegex::find_all(const std::u32string& text) const {
  std::vector<std::pair<size_t, size_t>> out;
  if (atoms_.empty()) return out;
  constexpr size_t kNone = SIZE_MAX;
  const size_t n = text.size();
  std::vector<size_t> end(n + 1), next(n + 1), last_match(n + 1), run(n + 1);
  for (size_t p = 0; p <= n; ++p) end[p] = p;  // after the last atom: matched, ending there
  for (size_t i = atoms_.size(); i-- > 0;) {
    const Atom& a = atoms_[i];
    for (size_t q = 0, last = kNone; q <= n; ++q) last_match[q] = last = end[q] != kNone ? q : last;
    run[n] = 0;
    for (size_t p = n; p-- > 0;) run[p] = a.matches(text[p]) ? run[p + 1] + 1 : 0;
    bool any = false;
    for (size_t p = 0; p <= n; ++p) {
      next[p] = kNone;
      const size_t longest = std::min(run[p], a.max);
      if (longest < a.min) continue;
      const size_t q = last_match[p + longest];
      if (q != kNone && q >= p + a.min) next[p] = end[q], any = true;
    }
    if (!any) return out;  // no position matches the rest of the pattern
    end.swap(next);
  }
  for (size_t pos = 0; pos < n;) {
    if (end[pos] != kNone && end[pos] > pos) {
      out.emplace_back(pos, end[pos]);
      pos = end[pos];
    } else {
      ++pos;
    }
  }
  return out;
}

}  // namespace nystrom::text
