// Tokenizer pieces with hand-made vocabularies, where the reference cases
// have no trained counterpart: BPE subword prefix and word suffix, fused
// unknowns, Metaspace's "first" scheme around added tokens, the decoders,
// file precedence, the mask token, malformed files and threads. Expected
// values were taken from Hugging Face `tokenizers` (Node binding) on the same
// inputs.
#include <doctest/doctest.h>

#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "nystrom/format.h"
#include "runtime/json.h"
#include "test_tokenizer_support.h"
#include "text/decoder.h"

using ids = std::vector<int32_t>;
using test::error_of;
using toktest::from_json;

namespace {

// A tokenizer.json around a model object, with an optional pre-tokenizer
// and added tokens.
std::string tokenizer_json(const std::string& model, const std::string& pre_tokenizer = "null",
                           const std::string& added = "[]") {
  return R"({"version": "1.0", "added_tokens": )" + added + R"(, "normalizer": null, "pre_tokenizer": )" +
         pre_tokenizer + R"(, "post_processor": null, "decoder": null, "model": )" + model + "}";
}

const char* kBpeAffixes = R"({"type": "BPE", "unk_token": "<unk>", "continuing_subword_prefix": "##",
  "end_of_word_suffix": "</w>", "fuse_unk": false, "byte_fallback": false,
  "vocab": {"<unk>": 0, "a": 1, "##b": 2, "##c</w>": 3, "ab": 4, "abc</w>": 5, "##b</w>": 6, "b": 7,
            "a</w>": 8, "ab</w>": 9},
  "merges": [["a", "##b"], ["ab", "##c</w>"], ["a", "##b</w>"]]})";

std::vector<std::string> decode_with(const char* decoder_json, std::vector<std::string> tokens) {
  auto decoder = nystrom::text::decoder_from_json(nystrom::parse_json(decoder_json, "decoder"));
  return decoder->decode_chain(std::move(tokens));
}

std::string joined(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& p : parts) s += p;
  return s;
}

}  // namespace

TEST_CASE("tokenizer pipeline: BPE spells the subword prefix and word suffix into its symbols") {
  auto tok = from_json(tokenizer_json(kBpeAffixes, R"({"type": "WhitespaceSplit"})"));
  REQUIRE(tok);
  CHECK(tok->encode("abc", false) == ids{5});
  CHECK(tok->encode("abd", false) == ids{4, 0});
  CHECK(tok->encode("ab", false) == ids{9});
  CHECK(tok->encode("a", false) == ids{8});
  CHECK(tok->encode("xyz", false) == ids{0, 0, 0});
  CHECK(tok->encode("b a", false) == ids{0, 8});
}

TEST_CASE("tokenizer pipeline: BPE fuses a run of unknown characters into one <unk> when asked") {
  std::string model = kBpeAffixes;
  model.replace(model.find("\"fuse_unk\": false"), 17, "\"fuse_unk\": true");
  auto tok = from_json(tokenizer_json(model));
  CHECK(tok->encode("xyz", false) == ids{0});
  CHECK(tok->encode("axyz", false) == ids{1, 0});
}

TEST_CASE("tokenizer pipeline: BPE without an unknown token drops what it cannot spell") {
  auto tok = from_json(tokenizer_json(R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})"));
  CHECK(tok->encode("abxab", false) == ids{2, 2});
  CHECK(tok->encode("x", false).empty());
}

TEST_CASE("tokenizer pipeline: WordPiece gives [UNK] for a word too long or not coverable, and needs [UNK]") {
  const std::string model = R"({"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
    "max_input_chars_per_word": 5, "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4, "##b": 5}})";
  auto tok = from_json(tokenizer_json(model, R"({"type": "WhitespaceSplit"})"));
  CHECK(tok->encode("unaff ab", false) == ids{1, 2, 4, 5});
  CHECK(tok->encode("unable", false) == ids{0});   // six characters: over the limit
  CHECK(tok->encode("unab", false) == ids{0});     // "un" then no "##a...": the whole word is unknown
  std::string no_unk = model;
  no_unk.replace(no_unk.find("\"[UNK]\": 0, "), 12, "");
  auto broken = from_json(tokenizer_json(no_unk, R"({"type": "WhitespaceSplit"})"));
  CHECK(broken->encode("a", false) == ids{4});
  CHECK_ERROR(broken->encode("zz", false), "unknown token");
}

TEST_CASE("tokenizer pipeline: Metaspace 'first' prepends only at the start of the text") {
  const std::string model = R"({"type": "WordLevel", "unk_token": "[UNK]",
    "vocab": {"[UNK]": 0, "▁hello": 1, "▁world": 2, "[MASK]": 3, "hello": 4, "world": 5, "▁": 6}})";
  const std::string pre = R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true})";
  const std::string added = R"([{"id": 3, "content": "[MASK]", "single_word": false, "lstrip": false,
    "rstrip": false, "normalized": false, "special": true}])";
  auto tok = from_json(tokenizer_json(model, pre, added));
  CHECK(tok->encode("hello world", false) == ids{1, 2});
  CHECK(tok->encode("[MASK] hello", false) == ids{3, 1});
  CHECK(tok->encode("hello[MASK]world", false) == ids{1, 3, 5});
  CHECK(tok->encode(" hello", false) == ids{1});
  CHECK(tok->encode("[MASK]world", false) == ids{3, 5});
  CHECK(tok->mask_id() == 3);
}

TEST_CASE("tokenizer pipeline: decoders join tokens as Hugging Face's do") {
  CHECK(joined(decode_with(R"({"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": true})",
                           {"<pad>", "h", "h", "e", "<pad>", "l", "l", "<pad>", "l", "o", "|", "w", "o", "r", "l", "d",
                            "."})) == "hello world.");
  CHECK(joined(decode_with(R"({"type": "BPEDecoder", "suffix": "</w>"})", {"hel", "lo</w>", "wor", "ld</w>"})) ==
        "hello world");
  CHECK(joined(decode_with(R"({"type": "Strip", "content": "_", "start": 1, "stop": 2})", {"__a__", "_b", "c___"})) ==
        "_abc_");
  CHECK(joined(decode_with(R"({"type": "ByteFallback"})",
                           {"a", "<0xE2>", "<0x82>", "<0xAC>", "b", "<0xE2>", "<0x82>", "c", "<0x41>"})) ==
        "a\u20acb\ufffd\ufffdcA");
  CHECK(joined(decode_with(R"({"type": "WordPiece", "prefix": "##", "cleanup": true})",
                           {"i", "do", "not", "like", "it", ".", "they", "'", "re", "un", "##believ", "##able", "!"})) ==
        "i do not like it. they ' re unbelievable!");
  CHECK(joined(decode_with(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"})",
                           {"\u2581hello", "\u2581world"})) == "hello world");
  CHECK(joined(decode_with(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never"})",
                           {"\u2581hello", "\u2581world"})) == " hello world");
}

TEST_CASE("tokenizer pipeline: which files make the tokenizer") {
  const auto& names = nystrom::format::kTokenizerFileNames;
  REQUIRE(std::size(names) == 7);
  CHECK(std::string(names[0]) == "tokenizer.json");
  CHECK(std::string(names[1]) == "spiece.model");
  CHECK(std::string(names[2]) == "vocab.txt");
  const std::string json = tokenizer_json(R"({"type": "WordLevel", "unk_token": "x", "vocab": {"x": 0, "y": 1}})");
  // tokenizer.json wins over vocab.txt.
  auto tok = nystrom::text::load_tokenizer({{"vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n"}, {"tokenizer.json", json}});
  CHECK(std::string(tok->kind()) == "WordLevel");
  // The config files alone make no tokenizer; half a BPE pair is an error.
  CHECK(nystrom::text::load_tokenizer({{"tokenizer_config.json", "{}"}}) == nullptr);
  CHECK_ERROR(nystrom::text::load_tokenizer({{"vocab.json", "{}"}}), "merges.txt");
}

TEST_CASE("tokenizer pipeline: vocab.txt follows tokenizer_config.json and special_tokens_map.json") {
  const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n<m>\nhello\n##s\n\u00e9t\u00e9\nete\n";
  auto uncased = nystrom::text::load_tokenizer({{"vocab.txt", vocab}});
  CHECK(uncased->encode("HELLOs \u00c9T\u00c9 [MASK]", true) == ids{2, 6, 7, 9, 4, 3});
  CHECK(uncased->mask_id() == 4);
  CHECK(uncased->decode({2, 6, 7, 9, 4, 3}, true) == "hellos ete");
  auto cased = nystrom::text::load_tokenizer(
      {{"vocab.txt", vocab}, {"tokenizer_config.json", R"({"do_lower_case": false, "strip_accents": false})"},
       {"special_tokens_map.json", R"({"mask_token": {"content": "<m>", "lstrip": false}})"}});
  CHECK(cased->encode("hellos \u00e9t\u00e9 HELLO <m>", false) == ids{6, 7, 8, 1, 5});
  CHECK(cased->mask_id() == 5);
  CHECK_ERROR(nystrom::text::load_tokenizer({{"vocab.txt", "a\nb\n"}}), "not in the vocabulary");
}

TEST_CASE("tokenizer pipeline: malformed tokenizer.json parts are one-line errors") {
  const std::string model = R"({"type": "WordLevel", "unk_token": "x", "vocab": {"x": 0}})";
  auto message = [&](const std::string& json) { return error_of([&] { from_json(json); }); };
  auto replace = [&](const char* key, const char* value) {
    std::string json = tokenizer_json(model);
    const size_t at = json.find(std::string("\"") + key + "\": null");
    json.replace(at, std::string(key).size() + 8, std::string("\"") + key + "\": " + value);
    return message(json);
  };
  CHECK_CONTAINS(replace("normalizer", R"({"type": "Magic"})"), "normalizer type 'Magic'");
  CHECK_CONTAINS(
      replace("pre_tokenizer", R"j({"type": "Split", "pattern": {"Regex": "(a|b)"}, "behavior": "Isolated"})j"),
      "not supported");
  CHECK_CONTAINS(replace("pre_tokenizer", R"({"type": "Split", "pattern": {"String": "a"}, "behavior": "Sideways"})"),
                 "Sideways");
  CHECK_CONTAINS(replace("post_processor", R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]"}},
    {"Sequence": {"id": "A"}}], "special_tokens": {}})"),
                 "'[X]'");
  CHECK_CONTAINS(replace("post_processor", R"({"type": "BertProcessing", "sep": ["[SEP]", 7], "cls": ["[CLS]", 0]})"),
                 "outside the vocabulary");
  CHECK_CONTAINS(replace("decoder", R"({"type": "Strip", "content": "ab"})"), "one character");
  CHECK_CONTAINS(message(tokenizer_json(R"({"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]})")), "'b'");
  CHECK_CONTAINS(message(tokenizer_json(model, "null", R"([{"id": -3, "content": "z"}])")), "out of range");
  CHECK_CONTAINS(message(tokenizer_json(R"({"type": "Unigram", "unk_id": 5, "vocab": [["a", -1.0]]})")), "unk_id");
  for (const std::string& m :
       {replace("normalizer", R"({"type": "Replace", "pattern": {"Regex": "[a"}, "content": "\n"})"),
        message("{\"model\": \n 7}")})
    CHECK(m.find('\n') == std::string::npos);
}

TEST_CASE("tokenizer pipeline: Replace and Split take simple regular expressions") {
  const std::string model = R"({"type": "WordLevel", "unk_token": "?", "vocab": {"?": 0, "a b": 1, "c": 2, "a": 3}})";
  std::string json = tokenizer_json(model, R"({"type": "Split", "pattern": {"Regex": "\\s*[,;]\\s*"},
    "behavior": "Removed", "invert": false})");
  json.replace(json.find("\"normalizer\": null"), 18,
               R"("normalizer": {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})");
  auto tok = from_json(json);
  CHECK(tok->encode("a    b ,c;  a", false) == ids{1, 2, 3});
}

TEST_CASE("tokenizer pipeline: one tokenizer encodes from many threads at once") {
  const std::string dir = "tests/data/tokenizers/bpe/";
  auto tok = from_json(test::slurp(dir + "tokenizer.json"));
  const std::vector<std::string> lines = test::lines_of(test::slurp("tests/data/tokenizers/corpus.txt"));
  std::vector<ids> expected;
  for (size_t i = 0; i < 200; ++i) expected.push_back(tok->encode(lines[i], true));
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < 200; ++i) wrong[t] += tok->encode(lines[(i * 7 + t) % 200], true) != expected[(i * 7 + t) % 200];
    });
  for (std::thread& th : threads) th.join();
  CHECK(wrong == std::vector<int>(4, 0));
}
