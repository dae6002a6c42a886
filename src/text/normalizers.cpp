#include <vector>

#include "runtime/error.h"
#include "text/byte_level.h"
#include "text/growth_limit.h"
#include "text/json_fields.h"
#include "text/normalizer.h"
#include "text/precompiled_normalizer.h"
#include "text/simple_regex.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace nystrom::text {

bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

namespace {

std::u32string strip_nonspacing_marks(const std::u32string& text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text)
    if (unicode::category(c) != unicode::Category::Mn) out.push_back(c);
  return out;
}

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(chinese), strip_accents_(strip_accents), lowercase_(lowercase) {}

  std::u32string normalize(std::u32string text) const override {
    if (clean_text_) {
      // Drop NUL, U+FFFD and control characters (tab and line breaks count
      // as whitespace instead); every whitespace becomes a plain space.
      std::u32string kept;
      kept.reserve(text.size());
      for (char32_t c : text) {
        const bool line = c == '\t' || c == '\n' || c == '\r';
        if (c == 0 || c == 0xFFFD || (!line && unicode::is_other(c))) continue;
        kept.push_back(line || unicode::is_white_space(c) ? U' ' : c);
      }
      text = std::move(kept);
    }
    if (chinese_) {
      std::u32string spaced;
      spaced.reserve(text.size());
      for (char32_t c : text) {
        if (is_cjk_ideograph(c)) {
          spaced.push_back(' ');
          spaced.push_back(c);
          spaced.push_back(' ');
        } else {
          spaced.push_back(c);
        }
      }
      text = std::move(spaced);
    }
    if (strip_accents_) text = strip_nonspacing_marks(unicode::nfd(text));
    if (lowercase_) text = unicode::lower(text);
    return text;
  }

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

// The normalizers that are one function of the text.
class FunctionNormalizer : public Normalizer {
 public:
  using Fn = std::u32string (*)(std::u32string_view);
  explicit FunctionNormalizer(Fn fn) : fn_(fn) {}
  std::u32string normalize(std::u32string text) const override { return fn_(text); }

 private:
  Fn fn_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(splice_nested<SequenceNormalizer>(std::move(steps),
                                                 [](SequenceNormalizer& s) -> auto& { return s.steps_; })) {}
  std::u32string normalize(std::u32string text) const override {
    const size_t length = text.size();
    for (const auto& step : steps_) {
      text = step->normalize(std::move(text));
      check_growth(length, text.size(), "normalizer Sequence");
    }
    return text;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(SimpleRegex pattern, std::u32string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::u32string normalize(std::u32string text) const override {
    const auto matches = pattern_.find_all(text);
    size_t removed = 0;
    for (const auto& [begin, end] : matches) removed += end - begin;
    check_growth(text.size(), text.size() - removed + matches.size() * content_.size(), "Replace normalizer");
    std::u32string out;
    size_t done = 0;
    for (const auto& [begin, end] : matches) {
      out.append(text, done, begin - done);
      out += content_;
      done = end;
    }
    out.append(text, done, std::u32string::npos);
    return out;
  }

 private:
  SimpleRegex pattern_;
  std::u32string content_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::u32string normalize(std::u32string text) const override {
    size_t begin = 0, end = text.size();
    if (left_)
      while (begin < end && unicode::is_white_space(text[begin])) ++begin;
    if (right_)
      while (end > begin && unicode::is_white_space(text[end - 1])) --end;
    return text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::u32string prefix) : prefix_(std::move(prefix)) {}
  std::u32string normalize(std::u32string text) const override {
    return text.empty() ? text : prefix_ + text;
  }

 private:
  std::u32string prefix_;
};

// tokenizer.json's "Precompiled" normalizer: SentencePiece's rewrite rules
// applied the way Hugging Face applies them, which is not SentencePiece's
// longest match over the text: a grapheme cluster shorter than 6 UTF-8
// bytes that starts with a rule's source is replaced whole by the shortest
// such rule's replacement (so a mark after a rewritten character can be
// lost); any other cluster is rewritten one character at a time. A rule
// never applies across clusters.
class PrecompiledHfNormalizer : public Normalizer {
 public:
  explicit PrecompiledHfNormalizer(std::string blob) : map_(std::move(blob)) {}
  std::u32string normalize(std::u32string text) const override {
    std::u32string out;
    out.reserve(text.size());
    std::vector<PrecompiledNormalizer::Match> matches;
    std::string bytes;
    auto rule_for = [&](std::u32string_view chars) -> const PrecompiledNormalizer::Match* {
      bytes = utf8_encode(chars);
      matches.clear();
      map_.prefix_matches(bytes, matches);
      return matches.empty() ? nullptr : &matches.front();
    };
    for (size_t i = 0; i < text.size();) {
      const size_t end = unicode::grapheme_end(text, i);
      const std::u32string_view cluster(text.data() + i, end - i);
      const PrecompiledNormalizer::Match* whole = nullptr;
      if (utf8_encode(cluster).size() < 6) whole = rule_for(cluster);
      if (whole) {
        out += utf8_decode(whole->replacement);
      } else {
        for (size_t k = 0; k < cluster.size(); ++k) {
          const PrecompiledNormalizer::Match* m = rule_for(cluster.substr(k, 1));
          if (m && m->length == bytes.size())
            out += utf8_decode(m->replacement);
          else
            out.push_back(cluster[k]);
        }
      }
      check_growth(text.size(), out.size(), "Precompiled normalizer");
      i = end;
    }
    return out;
  }

 private:
  PrecompiledNormalizer map_;
};

// Hugging Face's Nmt normalizer: control characters dropped, a few
// invisible or separator characters turned into spaces.
std::u32string nmt(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if ((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F)
      continue;
    const bool space = c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1680 || (c >= 0x200B && c <= 0x200F) ||
                       c == 0x2028 || c == 0x2029 || c == 0x2581 || c == 0xFEFF || c == 0xFFFD;
    out.push_back(space ? U' ' : c);
  }
  return out;
}

// The StripAccents normalizer drops every mark (Mn, Mc, Me), unlike
// BertNormalizer's accent stripping, which drops only Mn.
std::u32string strip_marks(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text)
    if (!unicode::is_mark(c)) out.push_back(c);
  return out;
}

// Decodes standard base64 (padding optional, no line breaks).
std::string base64_decode(std::string_view text, std::string_view what) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else if (ch == '=') break;
    else fail(what, " is not valid base64");
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back((char)((acc >> bits) & 0xFF));
    }
  }
  return out;
}

constexpr const char* kWhat = "tokenizer.json: normalizer";

}  // namespace

std::unique_ptr<Normalizer> make_bert_normalizer(bool clean_text, bool handle_chinese_chars,
                                                 std::optional<bool> strip_accents, bool lowercase) {
  return std::make_unique<BertNormalizer>(clean_text, handle_chinese_chars, strip_accents.value_or(lowercase),
                                          lowercase);
}

std::unique_ptr<Normalizer> normalizer_from_json(const JsonValue& json) {
  if (json.is_null()) return nullptr;
  const std::string& type = type_of(json, kWhat);
  if (type == "Sequence")
    return std::make_unique<SequenceNormalizer>(
        sequence_of<Normalizer>(json, "normalizers", kWhat, normalizer_from_json));
  if (type == "BertNormalizer") {
    std::optional<bool> strip;
    if (const JsonValue* s = json.find("strip_accents"); s && !s->is_null())
      strip = s->as_bool("tokenizer.json: BertNormalizer strip_accents");
    return make_bert_normalizer(bool_field(json, "clean_text", true, kWhat), bool_field(json, "handle_chinese_chars", true, kWhat),
                                strip, bool_field(json, "lowercase", true, kWhat));
  }
  if (type == "NFD") return std::make_unique<FunctionNormalizer>(unicode::nfd);
  if (type == "NFKD") return std::make_unique<FunctionNormalizer>(unicode::nfkd);
  if (type == "NFC") return std::make_unique<FunctionNormalizer>(unicode::nfc);
  if (type == "NFKC") return std::make_unique<FunctionNormalizer>(unicode::nfkc);
  if (type == "Lowercase") return std::make_unique<FunctionNormalizer>(unicode::lower);
  if (type == "StripAccents") return std::make_unique<FunctionNormalizer>(strip_marks);
  if (type == "Nmt") return std::make_unique<FunctionNormalizer>(nmt);
  if (type == "ByteLevel") return std::make_unique<FunctionNormalizer>(to_byte_level);
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(bool_field(json, "strip_left", true, kWhat), bool_field(json, "strip_right", true, kWhat));
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(utf8_decode(required_string(json, "prepend", kWhat)));
  if (type == "Replace") {
    const JsonValue* pattern = json.find("pattern");
    if (!pattern || !pattern->is_object()) fail("tokenizer.json: Replace normalizer without a \"pattern\" object");
    std::u32string content = utf8_decode(required_string(json, "content", kWhat));
    if (const JsonValue* s = pattern->find("String"))
      return std::make_unique<ReplaceNormalizer>(SimpleRegex::literal(utf8_decode(s->as_string("Replace pattern"))),
                                                 std::move(content));
    if (const JsonValue* r = pattern->find("Regex"))
      return std::make_unique<ReplaceNormalizer>(SimpleRegex::parse(r->as_string("Replace pattern")), std::move(content));
    fail("tokenizer.json: Replace pattern must hold \"String\" or \"Regex\"");
  }
  if (type == "Precompiled") {
    const JsonValue* map = json.find("precompiled_charsmap");
    if (!map || map->is_null()) return nullptr;  // an empty map: no rules
    return std::make_unique<PrecompiledHfNormalizer>(
        base64_decode(map->as_string("Precompiled charsmap"), "tokenizer.json: precompiled_charsmap"));
  }
  fail("tokenizer.json: normalizer type '", type, "' is not supported");
}

}  // namespace nystrom::text
