// Every normalizer and pre-tokenizer configuration against the Hugging Face
// `tokenizers` library: tests/data/tokenizers/components.json holds each one as
// tokenizer.json writes it and the library's output on edge texts (empty,
// blank, the corpus's edge lines, a 100000-character word), made by
// tools/text/make_tokenizer_cases.mjs.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/json.h"
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
    out.json = nystrom::parse_json(test::slurp("tests/data/tokenizers/components.json"), "components.json");
    for (const JsonValue& s : out.json.find("strings")->array) out.strings.push_back(s.string);
    const JsonValue& word = *out.json.find("long_word");
    std::string longest;
    for (int64_t k = 0; k < word.find("count")->integer; ++k) longest += word.find("unit")->string;
    out.strings.push_back(longest + word.find("tail")->string);
    return out;
  }();
  return c;
}

// A long result as stored: {"length": n, "fnv1a": "hex"}.
std::string digest(size_t length, const std::string& bytes) {
  return std::to_string(length) + ":" + toktest::fnv1a(bytes);
}

std::string expected_digest(const JsonValue& v) {
  return std::to_string(v.find("length")->integer) + ":" + v.find("fnv1a")->string;
}

// For every configuration of the list (built by `build`) and every string,
// check(component, input, expected result).
template <typename Build, typename Check>
void each_result(const char* list_name, size_t at_least, Build build, Check check) {
  const Components& c = components();
  const JsonValue& list = *c.json.find(list_name);
  REQUIRE(list.array.size() >= at_least);
  for (const JsonValue& entry : list.array) {
    const JsonValue& config = *entry.find("config");
    auto component = build(config);
    REQUIRE(component);
    const JsonValue& out = *entry.find("out");
    REQUIRE(out.array.size() == c.strings.size());
    for (size_t i = 0; i < c.strings.size(); ++i) {
      INFO(config.find("type")->string << " on string " << i << ": '" << c.strings[i].substr(0, 80) << "'");
      check(*component, c.strings[i], out.array[i]);
    }
  }
}

}  // namespace

TEST_CASE("tokenizer components: normalizers give what Hugging Face's give") {
  each_result("normalizers", 15, text::normalizer_from_json,
              [](const text::Normalizer& normalizer, const std::string& input, const JsonValue& expected) {
                const std::u32string got = normalizer.normalize(text::utf8_decode(input));
                const std::string bytes = text::utf8_encode(got);
                if (expected.is_string())
                  CHECK(bytes == expected.string);
                else
                  CHECK(digest(got.size(), bytes) == expected_digest(expected));
              });
}

TEST_CASE("tokenizer components: pre-tokenizers split as Hugging Face's do") {
  each_result("pre_tokenizers", 20, text::pre_tokenizer_from_json,
              [](const text::PreTokenizer& pre, const std::string& input, const JsonValue& expected) {
                std::vector<text::Piece> pieces = {{text::utf8_decode(input), true}};
                pre.split(pieces);
                std::vector<std::string> got;
                std::string joined;  // each piece followed by a 0 byte
                for (const text::Piece& p : pieces) {
                  got.push_back(text::utf8_encode(p.text));
                  joined += got.back() + std::string(1, '\0');
                }
                if (expected.is_array()) {
                  std::vector<std::string> want;
                  for (const JsonValue& piece : expected.array) want.push_back(piece.string);
                  CHECK(got == want);
                } else {
                  CHECK(digest(got.size(), joined) == expected_digest(expected));
                }
              });
}
