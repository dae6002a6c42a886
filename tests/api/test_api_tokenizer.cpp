// The tokenizer through the public C++ API (nystrom::Tokenizer from
// Model::tokenizer()) and the converter's side of it (read_hf_tokenizer):
// a model file converted with tokenizer files gives the tokenizer those
// files make, built once, lazily and thread-safely; a file without them has
// none; broken or oversized tokenizers are refused with one-line errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli_text_checkpoint.h"
#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/nystrom.h"
#include "support.h"
#include "text/tokenizer.h"

namespace {

using texttest::word_id;

}  // namespace

TEST_CASE("tokenizer api: a model converted with a tokenizer.json encodes text as that file says") {
  test::TempDir dir;
  const std::string json = texttest::tokenizer_json(1000);
  auto model = nystrom::Model::open(texttest::text_model(dir, "small-cls", json));
  CHECK(model->has_tokenizer());
  const nystrom::Tokenizer* tok = model->tokenizer();
  REQUIRE(tok != nullptr);
  CHECK(model->tokenizer() == tok);  // built once
  CHECK(std::string(tok->kind()) == "WordLevel");
  CHECK(tok->vocab_size() == 1000);
  CHECK(tok->mask_id() == texttest::kMask);
  CHECK(tok->unk_id() == texttest::kUnk);
  CHECK(tok->num_special_tokens() == 2);

  const std::vector<int32_t> ids = {texttest::kCls, word_id("the"), word_id("cat"), word_id("sat"), word_id("."),
                                    texttest::kSep};
  CHECK(tok->encode("The CAT sat.") == ids);
  CHECK(tok->encode("The CAT sat.", false) == std::vector<int32_t>(ids.begin() + 1, ids.end() - 1));
  CHECK(tok->encode("the zebra") == std::vector<int32_t>{texttest::kCls, word_id("the"), texttest::kUnk, texttest::kSep});
  CHECK(tok->encode("a [MASK] ran", false) == std::vector<int32_t>{word_id("a"), texttest::kMask, word_id("ran")});
  CHECK(tok->id_to_token(texttest::kMask) == "[MASK]");
  CHECK(tok->id_to_token(999) == "w999");
  CHECK(tok->token_to_id("dog") == word_id("dog"));
  CHECK_FALSE(tok->token_to_id("zebra").has_value());
  CHECK_ERROR(tok->id_to_token(1000), "1000");
  CHECK_ERROR(tok->id_to_token(-1), "-1");

  // The very tokenizer the files make (one code path for converter and engine).
  auto direct = nystrom::text::load_tokenizer({{"tokenizer.json", json}});
  REQUIRE(direct != nullptr);
  for (const char* text : {"", "the dog ran , and it was very good .", "\xff\xfe broken utf-8", "[MASK][MASK]"}) {
    CAPTURE(text);
    CHECK(tok->encode(text) == direct->encode(text, true));
    CHECK(tok->encode(text, false) == direct->encode(text, false));
    CHECK(tok->decode(tok->encode(text)) == direct->decode(direct->encode(text, true), true));
    CHECK(tok->decode(tok->encode(text), false) == direct->decode(direct->encode(text, true), false));
  }
}

TEST_CASE("tokenizer api: unk_id is the id that text the vocabulary cannot spell becomes, for every model kind") {
  // Each reference tokenizer's files; a byte-level BPE spells everything.
  const std::vector<std::pair<std::string, std::vector<std::string>>> kinds = {
      {"wordlevel", {"tokenizer.json"}},        {"wordpiece", {"tokenizer.json"}},
      {"bert_vocab_txt", {"vocab.txt"}},        {"unigram", {"tokenizer.json"}},
      {"albert_precompiled", {"spiece.model"}}, {"bpe_gpt2", {"tokenizer.json"}}};
  for (const auto& [kind, files] : kinds) {
    const std::string name = kind;
    CAPTURE(name);
    std::vector<nystrom::text::TokenizerFile> loaded;
    for (const std::string& f : files) loaded.push_back({f, test::slurp("tests/data/tokenizers/" + kind + "/" + f)});
    auto tok = nystrom::text::load_tokenizer(loaded);
    REQUIRE(tok != nullptr);
    const std::optional<int32_t> unk = tok->unknown_id();
    if (kind == "bpe_gpt2") {
      CHECK_FALSE(unk.has_value());
      continue;
    }
    REQUIRE(unk.has_value());
    // A character no test vocabulary holds.
    const std::vector<int32_t> ids = tok->encode("\xe2\x98\x83", false);
    CHECK(std::find(ids.begin(), ids.end(), *unk) != ids.end());
  }
}

TEST_CASE("tokenizer api: a model file without a tokenizer section has none") {
  test::TempDir dir;
  auto model = nystrom::Model::open(texttest::text_model(dir, "tiny-mlm", ""));
  CHECK_FALSE(model->has_tokenizer());
  CHECK(model->tokenizer() == nullptr);
}

TEST_CASE("tokenizer api: concurrent first calls build one tokenizer, which encodes on many threads") {
  test::TempDir dir;
  const std::string path = texttest::text_model(dir, "tiny-mlm", texttest::tokenizer_json(512));
  const std::string text = "the dog ran , and the cat sat on a very good mat .";
  for (int round = 0; round < 3; ++round) {
    auto model = nystrom::Model::open(path);  // fresh: nothing built yet
    std::vector<const nystrom::Tokenizer*> got(8, nullptr);
    std::vector<std::vector<int32_t>> ids(got.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i)
      threads.emplace_back([&, i] {
        got[i] = model->tokenizer();
        for (int k = 0; k < 50; ++k) ids[i] = got[i]->encode(text);
      });
    for (std::thread& t : threads) t.join();
    REQUIRE(got[0] != nullptr);
    CHECK(ids[0].size() == 16);
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i] == got[0]);
      CHECK(ids[i] == ids[0]);
    }
  }
}

TEST_CASE("tokenizer api: broken tokenizer files in a model file fail tokenizer(), not open, every time") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", "");
  const nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(folder);
  const std::string path = dir / "m.nyf";
  std::string phrase;
  SUBCASE("a tokenizer.json that is not JSON") {
    nystrom::write_model_file(path, ck.config, ck.tensors, {{"tokenizer.json", "{\"model\": "}});
    phrase = "tokenizer.json";
  }
  SUBCASE("more ids than the model's vocabulary") {
    nystrom::write_model_file(path, ck.config, ck.tensors, {{"tokenizer.json", texttest::tokenizer_json(600)}});
    phrase = "600 ids";
  }
  SUBCASE("no tokenizer model file, only its configuration") {
    nystrom::write_model_file(path, ck.config, ck.tensors, {{"tokenizer_config.json", "{}"}});
    phrase = "no tokenizer model file";
  }
  auto model = nystrom::Model::open(path);  // the runs on ids still work
  CHECK(model->has_tokenizer());
  for (int call = 0; call < 2; ++call) {
    CHECK_ERROR(model->tokenizer(), phrase.c_str());
    CHECK_ERROR(model->tokenizer(), path.c_str());
  }
  nystrom::Session session(model);
  CHECK(session.run({texttest::kCls, texttest::kSep}).n == 2);
}

TEST_CASE("tokenizer api: read_hf_tokenizer reads every known file of the folder and checks the tokenizer") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "small-cls", "");
  const nystrom::ModelConfig config = nystrom::read_hf_checkpoint(folder).config;
  SUBCASE("no tokenizer files: nothing") {
    nystrom::CheckpointTokenizer t = nystrom::read_hf_tokenizer(folder, config);
    CHECK(t.files.empty());
    CHECK(t.tokenizer == nullptr);
    CHECK(t.ignored.empty());
  }
  SUBCASE("tokenizer.json and its companions, in the order of format::kTokenizerFileNames") {
    test::write_file(folder + "/special_tokens_map.json", "{\"mask_token\": \"[MASK]\"}");
    test::write_file(folder + "/tokenizer.json", texttest::tokenizer_json(1000));
    test::write_file(folder + "/README.md", "not a tokenizer file");
    nystrom::CheckpointTokenizer t = nystrom::read_hf_tokenizer(folder, config);
    REQUIRE(t.tokenizer != nullptr);
    CHECK(t.tokenizer->vocab_size() == 1000);
    REQUIRE(t.files.size() == 2);
    std::vector<std::string> expected;
    for (const std::string name : nystrom::format::kTokenizerFileNames)
      if (name == "tokenizer.json" || name == "special_tokens_map.json") expected.push_back(name);
    CHECK(t.files[0].name == expected[0]);
    CHECK(t.files[1].name == expected[1]);
    CHECK(test::slurp(folder + "/" + t.files[0].name) == t.files[0].bytes);
  }
  SUBCASE("only a tokenizer_config.json: left out, and said so") {
    test::write_file(folder + "/tokenizer_config.json", "{\"do_lower_case\": true}");
    nystrom::CheckpointTokenizer t = nystrom::read_hf_tokenizer(folder, config);
    CHECK(t.files.empty());
    CHECK(t.tokenizer == nullptr);
    CHECK(t.ignored == std::vector<std::string>{"tokenizer_config.json"});
  }
  SUBCASE("a broken tokenizer.json fails, naming it") {
    test::write_file(folder + "/tokenizer.json", "{\"model\": {\"type\": \"WordLevel\"}");
    CHECK_ERROR(nystrom::read_hf_tokenizer(folder, config), "tokenizer.json");
  }
  SUBCASE("more ids than config.json's vocab_size fails") {
    test::write_file(folder + "/tokenizer.json", texttest::tokenizer_json(1001));
    CHECK_ERROR(nystrom::read_hf_tokenizer(folder, config), "1001 ids but config.json's vocab_size is 1000");
  }
}
