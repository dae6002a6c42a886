// WordLevel tokenizers from tokenizer.json: the ListOps vocabulary over
// whitespace-split words, the unknown token and the [CLS] template.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test_tokenizer_support.h"

using nystrom::text::load_tokenizer;
using nystrom::text::Tokenizer;

namespace {

// The shape of the ListOps tokenizer.json: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3,
// digits 4..13, operators 14..17, "]" 18; template "[CLS] $A".
const char* kListOps = R"({
  "version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [
    {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": null,
  "pre_tokenizer": {"type": "WhitespaceSplit"},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
    "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
             {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}}},
  "decoder": null,
  "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": {
    "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "0": 4, "1": 5, "2": 6, "3": 7, "4": 8, "5": 9, "6": 10,
    "7": 11, "8": 12, "9": 13, "[MAX": 14, "[MIN": 15, "[MED": 16, "[SM": 17, "]": 18}}
})";

std::unique_ptr<Tokenizer> listops() {
  auto tok = load_tokenizer({{"tokenizer.json", kListOps}});
  REQUIRE(tok);
  return tok;
}

}  // namespace

TEST_CASE("tokenizer wordlevel: ListOps expression with and without [CLS]") {
  auto tok = listops();
  CHECK(std::string(tok->kind()) == "WordLevel");
  CHECK(tok->vocab_size() == 19);
  CHECK(tok->num_special_tokens() == 1);
  CHECK(tok->encode("[MAX 2 9 [MIN 4 7 ] 0 ]", true) == std::vector<int32_t>{2, 14, 6, 13, 15, 8, 11, 18, 4, 18});
  CHECK(tok->encode("[MAX 2 9 [MIN 4 7 ] 0 ]", false) == std::vector<int32_t>{14, 6, 13, 15, 8, 11, 18, 4, 18});
}

TEST_CASE("tokenizer wordlevel: any whitespace separates words, unknown words become [UNK]") {
  auto tok = listops();
  CHECK(tok->encode("  [SM\t1\n\n 2\xC2\xA0]  ", false) == std::vector<int32_t>{17, 5, 6, 18});
  CHECK(tok->encode("[MAX 12 x ]", false) == std::vector<int32_t>{14, 1, 1, 18});
  CHECK(tok->encode("", true) == std::vector<int32_t>{2});
  CHECK(tok->encode(" \t ", false).empty());
  CHECK(tok->encode("\xFF 3", false) == std::vector<int32_t>{1, 7});
}

TEST_CASE("tokenizer wordlevel: special tokens written in the text are matched whole") {
  auto tok = listops();
  CHECK(tok->encode("[CLS][SEP] 1[PAD]", false) == std::vector<int32_t>{2, 3, 5, 0});
}

TEST_CASE("tokenizer wordlevel: ids, tokens and decoding") {
  auto tok = listops();
  CHECK(tok->id_to_token(14) == "[MAX");
  CHECK(tok->token_to_id("]") == 18);
  CHECK(!tok->token_to_id("[MAXX"));
  CHECK(!tok->mask_id());
  CHECK(tok->decode({2, 14, 6, 18}, true) == "[MAX 2 ]");
  CHECK(tok->decode({2, 14, 6, 18}, false) == "[CLS] [MAX 2 ]");
  CHECK_ERROR(tok->id_to_token(19), "outside the vocabulary");
  CHECK_ERROR(tok->id_to_token(-1), "outside the vocabulary");
}

TEST_CASE("tokenizer wordlevel: a missing unknown token is an error only when needed") {
  std::string json = kListOps;
  json.replace(json.find("\"unk_token\": \"[UNK]\""), 20, "\"unk_token\": \"<unk>\"");
  auto tok = load_tokenizer({{"tokenizer.json", json}});
  CHECK(tok->encode("[MAX 1 ]", false) == std::vector<int32_t>{14, 5, 18});
  CHECK_ERROR(tok->encode("[MAX 10 ]", false), "not in the vocabulary");
}

TEST_CASE("tokenizer wordlevel: no model file gives no tokenizer; malformed ones throw") {
  CHECK(load_tokenizer({}) == nullptr);
  CHECK(load_tokenizer({{"config.json", "{}"}}) == nullptr);
  CHECK_ERROR(load_tokenizer({{"tokenizer.json", "{"}}), "tokenizer.json");
  CHECK_ERROR(load_tokenizer({{"tokenizer.json", "{}"}}), "no \"model\"");
  CHECK_ERROR(load_tokenizer({{"tokenizer.json", R"({"model": {"type": "WordLevel", "vocab": {"a": -1}}})"}}),
              "out of range");
  CHECK_ERROR(load_tokenizer({{"tokenizer.json", R"({"model": {"type": "Magic", "vocab": {}}})"}}), "not supported");
}
