#include "runtime/error.h"
#include "text/byte_level.h"
#include "text/decoder.h"
#include "text/growth_limit.h"
#include "text/json_fields.h"
#include "text/utf8.h"

namespace nystrom::text {

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  size_t done = 0;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, done)) {
    out.append(s, done, at - done);
    out += to;
    done = at + from.size();
    check_growth(s.size(), out.size(), "Replace decoder");
  }
  out.append(s, done, std::string::npos);
  s = std::move(out);
}

// Undoes the spaces BERT-style joining leaves before punctuation and
// English contractions.
void cleanup(std::string& s) {
  static const char* const pairs[][2] = {{" .", "."},     {" ?", "?"},     {" !", "!"},           {" ,", ","},
                                         {" ' ", "'"},    {" n't", "n't"}, {" 'm", "'m"},         {" do not", " don't"},
                                         {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& p : pairs) replace_all(s, p[0], p[1]);
}

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (!prefix_.empty() && t.compare(0, prefix_.size(), prefix_) == 0)
          t.erase(0, prefix_.size());
        else
          t.insert(0, " ");
      }
      if (cleanup_) cleanup(t);
    }
    return tokens;
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class ByteLevelDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      for (char32_t c : utf8_decode(t)) {
        const int b = char_to_byte(c);
        if (b >= 0)
          bytes.push_back((char)b);
        else
          utf8_append(c, bytes);  // not a byte-level character: kept as is
      }
    }
    return {utf8_lossy(bytes)};
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      replace_all(tokens[i], replacement_, " ");
      if (i == 0 && strip_first_ && !tokens[i].empty() && tokens[i][0] == ' ') tokens[i].erase(0, 1);
    }
    return tokens;
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
    return tokens;
  }

 private:
  std::string suffix_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::string pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::string& t : tokens) replace_all(t, pattern_, content_);
    return tokens;
  }

 private:
  std::string pattern_, content_;
};

// <0xAB> tokens: runs of them become their bytes when those are valid UTF-8,
// else one U+FFFD per byte.
class ByteFallbackDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    size_t count = 0;
    auto flush = [&]() {
      if (count == 0) return;
      if (utf8_encode(utf8_decode(bytes)) == bytes) {
        out.push_back(bytes);
      } else {
        for (size_t k = 0; k < count; ++k) out.push_back("\xEF\xBF\xBD");
      }
      bytes.clear();
      count = 0;
    };
    for (std::string& t : tokens) {
      int value = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') value = hex_byte(t[3], t[4]);
      if (value >= 0) {
        bytes.push_back((char)value);
        ++count;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    return out;
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }
  static int hex_byte(char hi, char lo) {
    const int h = hex_digit(hi), l = hex_digit(lo);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
  }
};

class FuseDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    return {all};
  }
};

// Removes up to `start` leading and `stop` trailing copies of a character.
class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::string& t : tokens) {
      std::u32string s = utf8_decode(t);
      size_t begin = 0, end = s.size();
      while (begin < start_ && begin < end && s[begin] == content_) ++begin;
      while (s.size() - end < stop_ && end > begin && s[end - 1] == content_) --end;
      t = utf8_encode(s.substr(begin, end - begin));
    }
    return tokens;
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

// Connectionist temporal classification output: repeats collapsed, the pad
// token dropped, the word delimiter read as a space.
class CtcDecoder : public Decoder {
 public:
  CtcDecoder(std::string pad, std::string delimiter, bool cleanup)
      : pad_(std::move(pad)), delimiter_(std::move(delimiter)), cleanup_(cleanup) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 && tokens[i] == tokens[i - 1]) continue;
      std::string t = tokens[i];
      replace_all(t, pad_, "");
      if (cleanup_) {
        cleanup(t);
        replace_all(t, delimiter_, " ");
      }
      if (!t.empty()) out.push_back(std::move(t));
    }
    return out;
  }

 private:
  std::string pad_, delimiter_;
  bool cleanup_;
};

size_t total_size(const std::vector<std::string>& tokens) {
  size_t n = 0;
  for (const std::string& t : tokens) n += t.size();
  return n;
}

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(splice_nested<SequenceDecoder>(std::move(steps), [](SequenceDecoder& s) -> auto& { return s.steps_; })) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    const size_t length = total_size(tokens);
    for (const auto& step : steps_) {
      tokens = step->decode_chain(std::move(tokens));
      check_growth(length, total_size(tokens), "decoder Sequence");
    }
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

constexpr const char* kWhat = "tokenizer.json: decoder";

size_t count_field(const JsonValue& json, const char* key) {
  const JsonValue* v = json.find(key);
  if (!v || v->is_null()) return 0;
  const int64_t n = v->as_int(std::string("tokenizer.json: decoder ") + key);
  if (n < 0) fail("tokenizer.json: decoder ", key, " must not be negative");
  return (size_t)n;
}

}  // namespace

std::unique_ptr<Decoder> make_wordpiece_decoder(std::string prefix, bool cleanup) {
  return std::make_unique<WordPieceDecoder>(std::move(prefix), cleanup);
}

std::unique_ptr<Decoder> make_byte_level_decoder() { return std::make_unique<ByteLevelDecoder>(); }

std::unique_ptr<Decoder> make_metaspace_decoder(bool strip_first_space) {
  return std::make_unique<MetaspaceDecoder>("\xE2\x96\x81", strip_first_space);
}

std::unique_ptr<Decoder> decoder_from_json(const JsonValue& json) {
  if (json.is_null()) return nullptr;
  const std::string& type = type_of(json, kWhat);
  if (type == "Sequence")
    return std::make_unique<SequenceDecoder>(sequence_of<Decoder>(json, "decoders", kWhat, decoder_from_json));
  if (type == "WordPiece")
    return make_wordpiece_decoder(string_field(json, "prefix", "##", kWhat), bool_field(json, "cleanup", true, kWhat));
  if (type == "ByteLevel") return make_byte_level_decoder();
  if (type == "Metaspace") {
    bool strip = bool_field(json, "add_prefix_space", true, kWhat);
    if (const JsonValue* s = json.find("prepend_scheme"); s && !s->is_null())
      strip = s->as_string("tokenizer.json: decoder prepend_scheme") != "never";
    return std::make_unique<MetaspaceDecoder>(string_field(json, "replacement", "\xE2\x96\x81", kWhat), strip);
  }
  if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(string_field(json, "suffix", "</w>", kWhat));
  if (type == "Replace") {
    const JsonValue* pattern = json.find("pattern");
    const JsonValue* literal = pattern ? pattern->find("String") : nullptr;
    if (!literal) fail("tokenizer.json: Replace decoder needs a \"String\" pattern");
    return std::make_unique<ReplaceDecoder>(literal->as_string("tokenizer.json: decoder pattern"),
                                            string_field(json, "content", "", kWhat));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::u32string content = utf8_decode(string_field(json, "content", " ", kWhat));
    if (content.size() != 1) fail("tokenizer.json: Strip decoder content must be one character");
    return std::make_unique<StripDecoder>(content[0], count_field(json, "start"), count_field(json, "stop"));
  }
  if (type == "CTC")
    return std::make_unique<CtcDecoder>(string_field(json, "pad_token", "<pad>", kWhat),
                                        string_field(json, "word_delimiter_token", "|", kWhat), bool_field(json, "cleanup", true, kWhat));
  fail("tokenizer.json: decoder type '", type, "' is not supported");
}

}  // namespace nystrom::text
