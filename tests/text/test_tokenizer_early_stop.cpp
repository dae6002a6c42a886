// Tokenizing with a limit (Tokenizer::encode(text, special, max_text_ids),
// what the text commands use to stop on an over-long line): the ids it
// returns are exactly the first ids of the whole text's encoding, for every
// tokenizer kind, while the pipeline pre-tokenizes a long text part by part
// where its pre-tokenizer allows (cuts just before a space).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_tokenizer_support.h"

namespace {

// The whole reference corpus as one line: every awkward case (runs of
// spaces, tabs, no-break and ideographic spaces, added tokens, accents, long
// words) sits on both sides of the places a long text is cut.
std::string corpus_as_one_line() {
  std::string text;
  for (const std::string& line : test::lines_of(test::slurp("tests/data/tokenizers/corpus.txt")))
    text += line + (text.size() % 3 ? " " : "  ");
  return text;
}

std::unique_ptr<nystrom::text::Tokenizer> load(const std::string& kind, const std::vector<std::string>& files) {
  const std::string dir = "tests/data/tokenizers/" + kind + "/";
  std::vector<nystrom::text::TokenizerFile> loaded;
  for (const std::string& name : files) loaded.push_back({name, test::slurp(dir + name)});
  return nystrom::text::load_tokenizer(loaded);
}

// With limit `max`: all ids when they are at most max, else more than max of
// them, each the whole encoding's id at that place.
void check_limited(const nystrom::text::Tokenizer& tok, const std::string& text, bool special) {
  const std::vector<int32_t> full = tok.encode(text, special);
  const std::vector<int32_t> plain_full = special ? tok.encode(text, false) : full;
  const size_t specials = special ? (size_t)tok.num_special_tokens() : 0;
  REQUIRE(full.size() > 9000);  // far past one part (4096 code points)
  for (size_t max : {size_t(0), size_t(1), size_t(17), size_t(700), size_t(5000), full.size() - specials,
                     full.size() + 5}) {
    CAPTURE(max);
    const std::vector<int32_t> got = tok.encode(text, special, max);
    if (full.size() - specials <= max) {
      CHECK(got == full);
      continue;
    }
    REQUIRE(got.size() > max + specials);
    REQUIRE(got.size() <= full.size());
    if (!special) {
      CHECK(std::equal(got.begin(), got.end(), full.begin()));
    } else {  // the template's ids around the text's first ones
      const std::vector<int32_t> plain = tok.encode(text, false, max);
      CHECK(std::equal(plain.begin(), plain.end(), plain_full.begin()));
      CHECK(got.size() == plain.size() + specials);
      CHECK(std::search(got.begin(), got.end(), plain.begin(), plain.end()) != got.end());
    }
  }
}

}  // namespace

TEST_CASE("tokenizer early stop: a limited encoding is the start of the whole one, for every kind") {
  const std::string text = corpus_as_one_line();
  const std::vector<std::pair<std::string, std::vector<std::string>>> kinds = {
      {"wordpiece", {"tokenizer.json"}},        // BertPreTokenizer: parts
      {"wordpiece_cased", {"tokenizer.json"}},  // a Sequence
      {"bpe", {"tokenizer.json"}},              // ByteLevel, <mask> with lstrip: parts
      {"bpe_gpt2", {"tokenizer.json"}},
      {"bpe_chars", {"tokenizer.json"}},        // Whitespace: parts
      {"unigram", {"tokenizer.json"}},          // Metaspace: parts
      {"unigram_bytes", {"tokenizer.json"}},    // no pre-tokenizer: whole
      {"wordlevel", {"tokenizer.json"}},
      {"albert_precompiled", {"tokenizer.json"}},
      {"albert_precompiled", {"spiece.model"}},  // SentencePiece itself: whole
      {"bert_vocab_txt", {"vocab.txt"}},
      {"roberta_files", {"vocab.json", "merges.txt"}},
  };
  for (const auto& entry : kinds) {
    const std::string& kind = entry.first;  // plain names: clang 14 cannot capture bindings in CAPTURE
    const std::vector<std::string>& files = entry.second;
    CAPTURE(kind);
    CAPTURE(files.front());
    auto tok = load(kind, files);
    REQUIRE(tok);
    check_limited(*tok, text, false);
    check_limited(*tok, text, true);
  }
}
