// A checkpoint folder with a tokenizer, for the tokenizer API and text CLI
// tests: a reference checkpoint's config.json and model.safetensors
// (testdata/hf) plus a WordLevel tokenizer.json written here, in the layout
// Hugging Face `tokenizers` saves: lower-casing, whitespace pre-tokenizer,
// [CLS] text [SEP] template, special tokens as added tokens.
//
// Vocabulary, sized to the model's vocab_size: 0 [PAD], 1 [UNK], 2 [CLS],
// 3 [SEP], 4 [MASK], then the words of text_words() from id 5 on, then
// "w<id>" fillers up to vocab_size - 1.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nystrom/convert.h"
#include "support.h"

namespace texttest {

inline const std::vector<std::string>& text_words() {
  static const std::vector<std::string> words = {"the", "cat", "sat", "on", "mat", "a", "dog", "ran", "good",
                                                 "bad", "movie", "was", "very", "not", "and", "it", ".", ","};
  return words;
}
constexpr int32_t kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4;

// The id of one of text_words().
inline int32_t word_id(const std::string& w) {
  const auto& words = text_words();
  for (size_t i = 0; i < words.size(); ++i)
    if (words[i] == w) return (int32_t)(5 + i);
  throw std::runtime_error("not a test word: " + w);
}

inline std::string tokenizer_json(uint32_t vocab_size) {
  const std::vector<std::string> specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::string added, vocab;
  for (size_t i = 0; i < specials.size(); ++i)
    added += std::string(i ? ",\n    " : "") + "{\"id\": " + std::to_string(i) + ", \"content\": \"" + specials[i] +
             "\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
             "\"special\": true}";
  for (uint32_t id = 0; id < vocab_size; ++id) {
    std::string token = id < 5 ? specials[id]
                        : id - 5 < text_words().size() ? text_words()[id - 5]
                                                        : "w" + std::to_string(id);
    vocab += std::string(id ? ", " : "") + "\"" + token + "\": " + std::to_string(id);
  }
  auto special = [](const char* token, int id) {
    return std::string("\"") + token + "\": {\"id\": \"" + token + "\", \"ids\": [" + std::to_string(id) +
           "], \"tokens\": [\"" + token + "\"]}";
  };
  return "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [\n    " +
         added +
         "\n  ],\n  \"normalizer\": {\"type\": \"Lowercase\"},\n  \"pre_tokenizer\": {\"type\": \"Whitespace\"},\n"
         "  \"post_processor\": {\"type\": \"TemplateProcessing\",\n"
         "    \"single\": [{\"SpecialToken\": {\"id\": \"[CLS]\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", "
         "\"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}],\n"
         "    \"pair\": [{\"SpecialToken\": {\"id\": \"[CLS]\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", "
         "\"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", "
         "\"type_id\": 1}}, {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 1}}],\n"
         "    \"special_tokens\": {" +
         special("[CLS]", kCls) + ", " + special("[SEP]", kSep) +
         "}},\n  \"decoder\": null,\n  \"model\": {\"type\": \"WordLevel\", \"unk_token\": \"[UNK]\", \"vocab\": {" +
         vocab + "}}\n}\n";
}

// dir/<name>: testdata/hf/<name>'s config.json and model.safetensors, plus
// tokenizer.json when it is not empty. Returns the folder.
inline std::string text_checkpoint(const test::TempDir& dir, const std::string& name, const std::string& tokenizer) {
  const std::string src = test::testdata_dir() + "/" + name, dst = dir / name;
  if (!test::exists(src + "/config.json")) throw std::runtime_error("test data missing at " + src);
  ::mkdir(dst.c_str(), 0777);
  for (const char* f : {"config.json", "model.safetensors"})
    test::write_file(dst + "/" + f, test::slurp(src + "/" + f));
  if (!tokenizer.empty()) test::write_file(dst + "/tokenizer.json", tokenizer);
  return dst;
}

// dir/<name>.nyf converted through the library (as nystrom-convert does)
// from testdata/hf/<name> with this tokenizer.json (none when empty).
inline std::string text_model(const test::TempDir& dir, const std::string& name, const std::string& tokenizer) {
  const std::string path = dir / (name + ".nyf");
  nystrom::convert_checkpoint(text_checkpoint(dir, name, tokenizer), path);
  return path;
}

}  // namespace texttest
