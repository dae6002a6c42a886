// Every tokenizer kind against the Hugging Face `tokenizers` library: the
// tokenizer.json files and expected ids in tests/data/tokenizers/<kind>/ were made
// by the library itself (tools/text/make_tokenizer_cases.mjs) from the corpus
// tests/data/tokenizers/corpus.txt, and the ids must be equal on every line.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/json.h"
#include "test_tokenizer_support.h"

namespace {

const char* const kCorpus = "tests/data/tokenizers/corpus.txt";

struct Edge {
  std::string name, text;
  std::string ids;  // as written: the ids, or "#<count> <FNV-1a of the ids' text>"
};

struct Expected {
  std::vector<int32_t> before, after;  // the template around the text's ids
  std::vector<std::pair<size_t, std::vector<int32_t>>> lines;
  std::vector<Edge> edges;
};

// An edge text: a JSON string, or the long word's recipe
// {"unit": u, "count": n, "tail": t} (u repeated n times, then t).
std::string edge_text(const std::string& json) {
  const nystrom::JsonValue v = nystrom::parse_json(json, "edge text");
  if (v.is_string()) return v.string;
  std::string text;
  for (int64_t k = 0; k < v.find("count")->integer; ++k) text += v.find("unit")->string;
  return text + v.find("tail")->string;
}

// Ids written as the case files write them.
std::string written_ids(const std::vector<int32_t>& ids) {
  std::string text;
  for (int32_t id : ids) text += (text.empty() ? "" : " ") + std::to_string(id);
  if (ids.size() <= 1000) return text;
  return "#" + std::to_string(ids.size()) + " " + toktest::fnv1a(text);
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) ids.push_back((int32_t)std::stol(word));
  return ids;
}

Expected read_expected(const std::string& path) {
  Expected e;
  const std::vector<std::string> rows = test::lines_of(test::slurp(path));
  REQUIRE(!rows.empty());
  REQUIRE(rows[0].rfind("template ", 0) == 0);
  std::istringstream t(rows[0].substr(9));
  std::string word;
  bool after = false;
  while (t >> word) {
    if (word == "$A")
      after = true;
    else
      (after ? e.after : e.before).push_back((int32_t)std::stol(word));
  }
  for (size_t r = 1; r < rows.size(); ++r) {
    const size_t tab = rows[r].find('\t');
    REQUIRE(tab != std::string::npos);
    const std::string key = rows[r].substr(0, tab);
    if (key[0] >= '0' && key[0] <= '9') {
      e.lines.emplace_back(std::stoul(key), parse_ids(rows[r].substr(tab + 1)));
    } else {
      const size_t tab2 = rows[r].find('\t', tab + 1);
      REQUIRE(tab2 != std::string::npos);
      e.edges.push_back({key, edge_text(rows[r].substr(tab2 + 1)), rows[r].substr(tab + 1, tab2 - tab - 1)});
    }
  }
  return e;
}

// Loads tests/data/tokenizers/<kind>/ from `files` (tokenizer.json by default)
// and checks every expected line and decoding.
void check_kind(const std::string& kind, const char* model_kind,
                const std::vector<std::string>& files = {"tokenizer.json"}) {
  const std::string dir = "tests/data/tokenizers/" + kind + "/";
  const std::vector<std::string> corpus = test::lines_of(test::slurp(kCorpus));
  std::vector<nystrom::text::TokenizerFile> loaded;
  for (const std::string& name : files) loaded.push_back({name, test::slurp(dir + name)});
  auto tok = nystrom::text::load_tokenizer(loaded);
  REQUIRE(tok);
  CHECK(std::string(tok->kind()) == model_kind);
  const Expected expected = read_expected(dir + "expected.txt");
  CHECK(tok->num_special_tokens() == (int)(expected.before.size() + expected.after.size()));
  REQUIRE(expected.lines.size() > 100);

  size_t mismatches = 0;
  for (const auto& line : expected.lines) {
    // Plain names, not a structured binding: clang 14 cannot capture those in INFO's lambda.
    const auto& n = line.first;
    const auto& ids = line.second;
    REQUIRE(n < corpus.size());
    std::vector<int32_t> full = expected.before;
    full.insert(full.end(), ids.begin(), ids.end());
    full.insert(full.end(), expected.after.begin(), expected.after.end());
    const std::vector<int32_t> got = tok->encode(corpus[n], false);
    const std::vector<int32_t> got_full = tok->encode(corpus[n], true);
    if (got != ids || got_full != full) {
      // The first few differences in full; all of them counted.
      if (++mismatches <= 5) {
        INFO(kind << " line " << n << ": '" << corpus[n] << "'\n got      " << toktest::show(got) << "\n expected "
                  << toktest::show(ids));
        CHECK(got == ids);
        CHECK(got_full == full);
      }
    }
  }
  INFO(kind << ": " << mismatches << " of " << expected.lines.size() << " lines differ");
  CHECK(mismatches == 0);

  // Empty and blank text, a 100000-character word, nothing but special
  // tokens; and invalid UTF-8, read as one U+FFFD per bad byte.
  REQUIRE(expected.edges.size() == 5);
  for (const Edge& edge : expected.edges) {
    INFO(kind << " edge text " << edge.name);
    CHECK(written_ids(tok->encode(edge.text, false)) == edge.ids);
  }
  CHECK(tok->encode("a\xFF\xC3(b\xED\xA0\x80\xF4\x90\x80\x80", false) ==
        tok->encode("a\uFFFD\uFFFD(b\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD", false));

  // decode(ids with special tokens, skip_special) as the library decodes.
  const nystrom::JsonValue decoded = nystrom::parse_json(test::slurp(dir + "decoded.json"), "decoded.json");
  REQUIRE(decoded.is_array());
  size_t checked = 0;
  for (const nystrom::JsonValue& entry : decoded.array) {
    const size_t n = (size_t)entry.array.at(0).as_int("line");
    const std::string& text = entry.array.at(1).as_string("text");
    INFO(kind << " decode of line " << n << ": '" << corpus.at(n) << "'");
    CHECK(tok->decode(tok->encode(corpus[n], true), true) == text);
    ++checked;
  }
  CHECK(checked > 10);
}

}  // namespace

TEST_CASE("tokenizer reference: BERT uncased WordPiece (BertNormalizer, BertPreTokenizer, added tokens)") {
  check_kind("wordpiece", "WordPiece");
}

TEST_CASE("tokenizer reference: cased WordPiece (NFC, punctuation and digit splits, BertProcessing)") {
  check_kind("wordpiece_cased", "WordPiece");
}

TEST_CASE("tokenizer reference: RoBERTa byte-level BPE (<mask> with lstrip)") { check_kind("bpe", "BPE"); }

TEST_CASE("tokenizer reference: GPT-2 style BPE (NFKC, Split with the GPT-2 regex, prefix space, ignore_merges)") {
  check_kind("bpe_gpt2", "BPE");
}

TEST_CASE("tokenizer reference: character BPE (NFKD, accents stripped, fused <unk>, partial byte fallback)") {
  check_kind("bpe_chars", "BPE");
}

TEST_CASE("tokenizer reference: ALBERT-style Unigram (replacements, NFKD, Metaspace)") {
  check_kind("unigram", "Unigram");
}

TEST_CASE("tokenizer reference: Llama-style Unigram (Prepend, Replace, byte fallback, decoder chain)") {
  check_kind("unigram_bytes", "Unigram");
}

TEST_CASE("tokenizer reference: WordLevel (NFD, Whitespace and Digits)") { check_kind("wordlevel", "WordLevel"); }

TEST_CASE("tokenizer reference: vocab.txt alone is BERT uncased WordPiece") {
  check_kind("bert_vocab_txt", "WordPiece", {"vocab.txt"});
}

TEST_CASE("tokenizer reference: vocab.txt with tokenizer_config.json (cased, accents stripped, no CJK spacing)") {
  check_kind("bert_cased_files", "WordPiece", {"vocab.txt", "tokenizer_config.json"});
}

TEST_CASE("tokenizer reference: vocab.json and merges.txt are RoBERTa byte-level BPE") {
  check_kind("roberta_files", "BPE", {"vocab.json", "merges.txt"});
}

TEST_CASE("tokenizer reference: ALBERT as transformers converts it (SentencePiece map as Precompiled, [MASK] lstrip)") {
  check_kind("albert_precompiled", "Unigram");
}

TEST_CASE("tokenizer reference: spiece.model alone, through SentencePiece, agrees with the converted ALBERT") {
  // Without tokenizer.json the text goes through SentencePiece itself, as
  // transformers' slow AlbertTokenizer does, while the converted (fast)
  // tokenizer of the tokenizer.json above applies the map per grapheme
  // cluster, keeps a "▁" for spaces next to special tokens and at the ends,
  // and scores in double precision. They agree but for such lines; the
  // special tokens, accents and case must agree.
  const std::string dir = "tests/data/tokenizers/albert_precompiled/";
  const std::vector<std::string> corpus = test::lines_of(test::slurp(kCorpus));
  auto tok = nystrom::text::load_tokenizer({{"spiece.model", test::slurp(dir + "spiece.model")}});
  REQUIRE(tok);
  CHECK(std::string(tok->kind()) == "Unigram");
  const Expected expected = read_expected(dir + "expected.txt");
  CHECK(tok->num_special_tokens() == 2);
  CHECK(tok->mask_id() == 4);
  size_t same = 0;
  for (const auto& [n, ids] : expected.lines) same += tok->encode(corpus[n], false) == ids;
  CHECK(same >= expected.lines.size() * 85 / 100);
  for (size_t n : {0, 1, 2, 8, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 23}) {
    INFO("line " << n << ": '" << corpus[n] << "'");
    REQUIRE(expected.lines[n].first == n);
    CHECK(tok->encode(corpus[n], false) == expected.lines[n].second);
    CHECK(tok->encode(corpus[n], true).front() == 2);
  }
  CHECK(tok->encode("", true) == std::vector<int32_t>{2, 3});
  CHECK(tok->encode("[CLS][SEP][MASK]<pad><unk>", false) == std::vector<int32_t>{2, 3, 4, 0, 1});
  CHECK(tok->encode("a  [MASK] b", false) == tok->encode("a[MASK] b", false));  // [MASK] takes the spaces before it
}
