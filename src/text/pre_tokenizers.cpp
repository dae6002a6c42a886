#include <algorithm>
#include <string_view>

#include "runtime/error.h"
#include "text/byte_level.h"
#include "text/json_fields.h"
#include "text/pre_tokenizer.h"
#include "text/simple_regex.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace nystrom::text {

void split_piece(const Piece& piece, const std::vector<Span>& spans, SplitBehavior behavior,
                 std::vector<Piece>& out) {
  // Merge the spans as the behavior says (each merged span keeps `match`
  // only to decide Removed), then cut.
  std::vector<Span> merged;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
    case SplitBehavior::Isolated:
      merged = spans;
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Span& s : spans) {
        if (s.match && !previous_match && !merged.empty())
          merged.back().end = s.end;
        else
          merged.push_back({s.begin, s.end, false});
        previous_match = s.match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (size_t k = spans.size(); k-- > 0;) {
        const Span& s = spans[k];
        if (s.match && !previous_match && !merged.empty())
          merged.back().begin = s.begin;
        else
          merged.push_back({s.begin, s.end, false});
        previous_match = s.match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    case SplitBehavior::Contiguous:
      for (const Span& s : spans) {
        if (s.match == previous_match && !merged.empty())
          merged.back().end = s.end;
        else
          merged.push_back({s.begin, s.end, false});
        previous_match = s.match;
      }
      break;
  }
  for (const Span& s : merged) {
    if (s.begin == s.end || (behavior == SplitBehavior::Removed && s.match)) continue;
    out.push_back({piece.text.substr(s.begin, s.end - s.begin), piece.at_start && s.begin == 0});
  }
}

std::vector<Span> char_spans(const std::u32string& text, const std::function<bool(char32_t)>& is_delimiter) {
  std::vector<Span> spans;
  size_t gap = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_delimiter(text[i])) continue;
    if (gap < i) spans.push_back({gap, i, false});
    spans.push_back({i, i + 1, true});
    gap = i + 1;
  }
  if (gap < text.size()) spans.push_back({gap, text.size(), false});
  return spans;
}

namespace {

// Pre-tokenizers that are one split of each piece.
class SplitPreTokenizer : public PreTokenizer {
 public:
  using SpanFn = std::function<std::vector<Span>(const std::u32string&)>;
  SplitPreTokenizer(SpanFn spans, SplitBehavior behavior, bool invert = false, bool cuts_at_spaces = false)
      : spans_(std::move(spans)), behavior_(behavior), invert_(invert), cuts_at_spaces_(cuts_at_spaces) {}
  void split(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    for (const Piece& p : pieces) {
      std::vector<Span> spans = spans_(p.text);
      if (invert_)
        for (Span& s : spans) s.match = !s.match;
      split_piece(p, spans, behavior_, out);
    }
    pieces = std::move(out);
  }
  bool cuts_at_spaces() const override { return cuts_at_spaces_; }

 private:
  SpanFn spans_;
  SplitBehavior behavior_;
  bool invert_;
  bool cuts_at_spaces_;
};

std::unique_ptr<PreTokenizer> char_split(std::function<bool(char32_t)> pred, SplitBehavior behavior,
                                         bool cuts_at_spaces = false) {
  return std::make_unique<SplitPreTokenizer>(
      [pred = std::move(pred)](const std::u32string& text) { return char_spans(text, pred); }, behavior, false,
      cuts_at_spaces);
}

// Removing every white-space code point: no piece holds one, so a cut at one
// is a cut between pieces.
std::unique_ptr<PreTokenizer> white_space_split() {
  return char_split(unicode::is_white_space, SplitBehavior::Removed, true);
}

// Hugging Face's punctuation test: ASCII punctuation or category P*.
bool is_bert_punctuation(char32_t c) {
  const bool ascii = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return ascii || unicode::is_punctuation(c);
}

// The matches of \w+|[^\w\s]+ (the Whitespace pre-tokenizer's pattern).
std::vector<Span> word_spans(const std::u32string& text) {
  std::vector<Span> spans;
  auto kind = [](char32_t c) { return unicode::is_word_char(c) ? 1 : unicode::is_white_space(c) ? 0 : 2; };
  for (size_t i = 0; i < text.size();) {
    const int k = kind(text[i]);
    size_t j = i + 1;
    while (j < text.size() && kind(text[j]) == k) ++j;
    spans.push_back({i, j, k != 0});
    i = j;
  }
  return spans;
}

// Spans covering text from its pattern matches (ordered, not overlapping).
std::vector<Span> match_spans(const std::u32string& text, const std::vector<std::pair<size_t, size_t>>& matches) {
  std::vector<Span> spans;
  size_t gap = 0;
  for (const auto& [begin, end] : matches) {
    if (gap < begin) spans.push_back({gap, begin, false});
    spans.push_back({begin, end, true});
    gap = end;
  }
  if (gap < text.size()) spans.push_back({gap, text.size(), false});
  return spans;
}

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void split(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) step->split(pieces);
  }
  // The later steps split each piece on its own, so the first decides.
  bool cuts_at_spaces() const override { return !steps_.empty() && steps_.front()->cuts_at_spaces(); }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {}
  void split(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    for (Piece& p : pieces) {
      // As Hugging Face's prepend: nothing is added to an empty piece.
      if (add_prefix_space_ && !p.text.empty() && p.text[0] != ' ') p.text.insert(p.text.begin(), U' ');
      if (use_regex_)
        split_piece(p, gpt2_spans(p.text), SplitBehavior::Isolated, out);
      else if (!p.text.empty())
        out.push_back(std::move(p));
    }
    for (Piece& p : out) p.text = to_byte_level(p.text);
    pieces = std::move(out);
  }
  // No GPT-2 match runs from a non-space into white space (only " ?" leads
  // a match), \s+(?!\S) looks right only, and a part that starts with a
  // space gets no prefix space.
  bool cuts_at_spaces() const override { return use_regex_; }

 private:
  bool add_prefix_space_, use_regex_;
};

enum class PrependScheme { Always, First, Never };

// Metaspace: spaces become the replacement (U+2581 "▁"), which is prepended
// as the scheme says, then each piece starts at a replacement.
class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement), scheme_(scheme), split_(split) {}
  void split(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    for (Piece& p : pieces) {
      for (char32_t& c : p.text)
        if (c == ' ') c = replacement_;
      const bool prepend = scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && p.at_start);
      if (prepend && !p.text.empty() && p.text[0] != replacement_) p.text.insert(p.text.begin(), replacement_);
      if (split_)
        split_piece(p, char_spans(p.text, [r = replacement_](char32_t c) { return c == r; }),
                    SplitBehavior::MergedWithNext, out);
      else if (!p.text.empty())
        out.push_back(std::move(p));
    }
    pieces = std::move(out);
  }
  // The space becomes the replacement, before which a piece starts anyway,
  // and a part that starts with it gets nothing prepended.
  bool cuts_at_spaces() const override { return split_; }

 private:
  char32_t replacement_;
  PrependScheme scheme_;
  bool split_;
};

constexpr const char* kWhat = "tokenizer.json: pre_tokenizer";

SplitBehavior behavior_field(const JsonValue& json, SplitBehavior fallback) {
  const JsonValue* v = json.find("behavior");
  if (!v || v->is_null()) return fallback;
  const std::string& name = v->as_string("tokenizer.json: pre_tokenizer behavior");
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  fail("tokenizer.json: unknown split behavior '", name, "'");
}

// One code point from a JSON string field (Metaspace's replacement,
// CharDelimiterSplit's delimiter).
char32_t char_field(const JsonValue& json, const char* key, char32_t fallback) {
  const JsonValue* v = json.find(key);
  if (!v || v->is_null()) return fallback;
  const std::u32string s = utf8_decode(v->as_string(std::string("tokenizer.json: pre_tokenizer ") + key));
  if (s.size() != 1) fail("tokenizer.json: pre_tokenizer ", key, " must be one character");
  return s[0];
}

// The regular expressions of Hugging Face's own pre-tokenizers, which a
// Split may spell out, are matched by hand; others by SimpleRegex.
constexpr std::string_view kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

std::unique_ptr<PreTokenizer> split_from_json(const JsonValue& json) {
  const JsonValue* pattern = json.find("pattern");
  if (!pattern || !pattern->is_object()) fail("tokenizer.json: Split pre_tokenizer without a \"pattern\" object");
  const SplitBehavior behavior = behavior_field(json, SplitBehavior::Isolated);
  const bool invert = bool_field(json, "invert", false, kWhat);
  if (const JsonValue* s = pattern->find("String")) {
    auto re = std::make_shared<SimpleRegex>(
        SimpleRegex::literal(utf8_decode(s->as_string("tokenizer.json: Split pattern"))));
    return std::make_unique<SplitPreTokenizer>(
        [re](const std::u32string& text) { return match_spans(text, re->find_all(text)); }, behavior, invert);
  }
  if (const JsonValue* r = pattern->find("Regex")) {
    const std::string& regex = r->as_string("tokenizer.json: Split pattern");
    if (regex == kGpt2Pattern)  // as ByteLevel's own split, when the matches are the pieces
      return std::make_unique<SplitPreTokenizer>(gpt2_spans, behavior, invert,
                                                 behavior == SplitBehavior::Isolated && !invert);
    if (regex == "\\w+|[^\\w\\s]+") return std::make_unique<SplitPreTokenizer>(word_spans, behavior, invert);
    auto re = std::make_shared<SimpleRegex>(SimpleRegex::parse(regex));
    return std::make_unique<SplitPreTokenizer>(
        [re](const std::u32string& text) { return match_spans(text, re->find_all(text)); }, behavior, invert);
  }
  fail("tokenizer.json: Split pattern must hold \"String\" or \"Regex\"");
}

}  // namespace

size_t next_space_cut(const std::u32string& text, size_t from, size_t to) {
  to = std::min(to, text.size());
  for (size_t i = std::max<size_t>(from, 1); i < to; ++i)
    if (text[i] == U' ' && !unicode::is_white_space(text[i - 1])) return i;
  return to;
}

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer() {
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  steps.push_back(white_space_split());
  steps.push_back(char_split(is_bert_punctuation, SplitBehavior::Isolated));
  return std::make_unique<SequencePreTokenizer>(std::move(steps));
}

std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const JsonValue& json) {
  if (json.is_null()) return nullptr;
  const std::string& type = type_of(json, kWhat);
  if (type == "Sequence")
    return std::make_unique<SequencePreTokenizer>(
        sequence_of<PreTokenizer>(json, "pretokenizers", kWhat, pre_tokenizer_from_json));
  if (type == "WhitespaceSplit") return white_space_split();
  if (type == "Whitespace")  // the regex matches are what is kept, as Hugging Face inverts them;
    // no match holds white space
    return std::make_unique<SplitPreTokenizer>(word_spans, SplitBehavior::Removed, true, true);
  if (type == "BertPreTokenizer") return make_bert_pre_tokenizer();
  if (type == "Punctuation")
    return char_split(is_bert_punctuation, behavior_field(json, SplitBehavior::Isolated));
  if (type == "Digits") {
    const bool individual = bool_field(json, "individual_digits", false, kWhat);
    return char_split(unicode::is_number, individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
  }
  if (type == "CharDelimiterSplit") {
    const char32_t delimiter = char_field(json, "delimiter", 0);
    if (!delimiter) fail("tokenizer.json: CharDelimiterSplit without a \"delimiter\"");
    return char_split([delimiter](char32_t c) { return c == delimiter; }, SplitBehavior::Removed);
  }
  if (type == "Split") return split_from_json(json);
  if (type == "ByteLevel")
    return make_byte_level_pre_tokenizer(bool_field(json, "add_prefix_space", true, kWhat), bool_field(json, "use_regex", true, kWhat));
  if (type == "Metaspace") {
    const char32_t replacement = char_field(json, "replacement", U'\u2581');
    PrependScheme scheme = bool_field(json, "add_prefix_space", true, kWhat) ? PrependScheme::Always : PrependScheme::Never;
    if (const JsonValue* s = json.find("prepend_scheme"); s && !s->is_null()) {
      const std::string& name = s->as_string("tokenizer.json: Metaspace prepend_scheme");
      if (name == "always") scheme = PrependScheme::Always;
      else if (name == "first") scheme = PrependScheme::First;
      else if (name == "never") scheme = PrependScheme::Never;
      else fail("tokenizer.json: unknown Metaspace prepend_scheme '", name, "'");
    }
    return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, bool_field(json, "split", true, kWhat));
  }
  fail("tokenizer.json: pre_tokenizer type '", type, "' is not supported");
}

}  // namespace nystrom::text
