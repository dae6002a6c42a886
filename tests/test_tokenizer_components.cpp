// Every normalizer and pre-tokenizer configuration against the Hugging Face
// `tokenizers` library: tests/tokenizers/components.json holds each one as
// tokenizer.json writes it and the library's output on edge texts (empty,
// blank, the corpus's edge lines, a 100000-character word), made by
// tools/text/make_tokenizer_cases.mjs.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "format/json.h"
#include "test_tokenizer_support.h"
#include "text/normalizer.h"
#include "text/pre_tokenizer.h"
#include "text/utf8.h"

using nystrom::JsonValue;
namespace text = nystrom::text;

namespace {

struct Components {
  JsonValue json;
  std::vector<std::string> strings;  // the long word last
};

const Components& components() {
  static const Components c = [] {
    Components out;
    out.json = nystrom::parse_json(toktest::read_file("tests/tokenizers/components.json"), "components.json");
    for (const JsonValue& s : out.json.find("strings")->array) out.strings.push_back(s.string);
    const JsonValue& word = *out.json.find("long_word");
    std::string longest;
    for (int64_t k = 0; k < word.find("count")->integer; ++k) longest += word.find("unit")->string;
    out.strings.push_back(longest + word.find("tail")->string);
    return out;
  }();
  return c;
}

// The stored form of a long result: {"length": n, "fnv1a": "hex"}.
std::string fnv1a(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char b : bytes) h = (h ^ b) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  return hex;
}

std::string digest(size_t length, const std::string& bytes) { return std::to_string(length) + ":" + fnv1a(bytes); }

std::string expected_digest(const JsonValue& v) {
  return std::to_string(v.find("length")->integer) + ":" + v.find("fnv1a")->string;
}

}  // namespace

TEST_CASE("tokenizer components: normalizers give what Hugging Face's give") {
  const Components& c = components();
  const JsonValue& list = *c.json.find("normalizers");
  REQUIRE(list.array.size() >= 15);
  for (const JsonValue& entry : list.array) {
    const JsonValue& config = *entry.find("config");
    const std::string type = config.find("type")->string;
    auto normalizer = text::normalizer_from_json(config);
    REQUIRE(normalizer);
    const JsonValue& out = *entry.find("out");
    REQUIRE(out.array.size() == c.strings.size());
    for (size_t i = 0; i < c.strings.size(); ++i) {
      const std::u32string got = normalizer->normalize(text::utf8_decode(c.strings[i]));
      const std::string got_bytes = text::utf8_encode(got);
      INFO(type << " on string " << i << ": '" << c.strings[i].substr(0, 80) << "'");
      if (out.array[i].is_string())
        CHECK(got_bytes == out.array[i].string);
      else
        CHECK(digest(got.size(), got_bytes) == expected_digest(out.array[i]));
    }
  }
}

TEST_CASE("tokenizer components: pre-tokenizers split as Hugging Face's do") {
  const Components& c = components();
  const JsonValue& list = *c.json.find("pre_tokenizers");
  REQUIRE(list.array.size() >= 20);
  for (const JsonValue& entry : list.array) {
    const JsonValue& config = *entry.find("config");
    const std::string type = config.find("type")->string;
    auto pre = text::pre_tokenizer_from_json(config);
    REQUIRE(pre);
    const JsonValue& out = *entry.find("out");
    REQUIRE(out.array.size() == c.strings.size());
    for (size_t i = 0; i < c.strings.size(); ++i) {
      std::vector<text::Piece> pieces = {{text::utf8_decode(c.strings[i]), true}};
      pre->split(pieces);
      std::vector<std::string> got;
      std::string joined;
      for (const text::Piece& p : pieces) {
        got.push_back(text::utf8_encode(p.text));
        joined += got.back() + std::string(1, '\0');
      }
      INFO(type << " on string " << i << ": '" << c.strings[i].substr(0, 80) << "'");
      if (out.array[i].is_array()) {
        std::vector<std::string> expected;
        for (const JsonValue& piece : out.array[i].array) expected.push_back(piece.string);
        CHECK(got == expected);
      } else {
        CHECK(digest(got.size(), joined) == expected_digest(out.array[i]));
      }
    }
  }
}
