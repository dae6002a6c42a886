// The SentencePiece tokenizer against SentencePiece itself: each test trains
// a small unigram model on tests/data/spm/corpus.txt with spm_train (Debian's
// `sentencepiece`, installed by tests/ensure_deps.sh), encodes every line of
// the corpus with spm_encode --output_format=id, and requires the engine to
// give the same ids on every line. The options vary what the engine must
// follow: normalization rules (nmt_nfkc, identity, NFKC with case folding),
// byte fallback, pieces spanning spaces, user-defined and control symbols,
// whitespace kept or used as a suffix.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nystrom/nystrom.h"
#include "support.h"
#include "text/protobuf.h"
#include "text/sentencepiece.h"
#include "test_tokenizer_support.h"

using nystrom::text::SentencePieceOptions;
using nystrom::text::Tokenizer;
using toktest::show;
using test::lines_of;

namespace {

const std::string kCorpus = "tests/data/spm/corpus.txt";

void require_spm() {
  static const bool found =
      test::run("{ command -v spm_train && command -v spm_encode && command -v spm_decode; }").exit_code == 0;
  REQUIRE_MESSAGE(found, "spm_train, spm_encode or spm_decode is missing: run tests/ensure_deps.sh "
                         "(it installs Debian's sentencepiece package)");
}

std::vector<int32_t> parse_ids(const std::string& line) {
  std::vector<int32_t> ids;
  std::istringstream in(line);
  for (int32_t id; in >> id;) ids.push_back(id);
  return ids;
}

// A model trained by spm_train in its own folder, and what spm made of the
// corpus with it.
struct SpmModel {
  test::TempDir dir;
  std::string bytes;                      // m.model
  std::vector<std::string> vocab;         // pieces by id, from m.vocab
  std::vector<std::string> lines;         // the corpus
  std::vector<std::vector<int32_t>> ids;  // spm_encode's ids per line

  explicit SpmModel(const std::string& flags) {
    require_spm();
    const std::string prefix = dir / "m";
    test::RunResult trained = test::run("spm_train --input=" + kCorpus + " --model_prefix='" + prefix +
                                        "' --model_type=unigram --random_seed=7 --num_threads=1 "
                                        "--hard_vocab_limit=false --minloglevel=2 " + flags);
    REQUIRE_MESSAGE(trained.exit_code == 0, "spm_train failed: ", trained.err);
    bytes = test::slurp(prefix + ".model");
    for (const std::string& row : lines_of(test::slurp(prefix + ".vocab"))) vocab.push_back(row.substr(0, row.find('\t')));
    lines = lines_of(test::slurp(kCorpus));
    test::RunResult encoded = test::run("spm_encode --model='" + prefix + ".model' --output_format=id < " + kCorpus);
    REQUIRE_MESSAGE(encoded.exit_code == 0, "spm_encode failed: ", encoded.err);
    for (const std::string& row : lines_of(encoded.out)) ids.push_back(parse_ids(row));
    REQUIRE(ids.size() == lines.size());
  }
};

// Every corpus line: the engine's ids are spm's (with the template around
// them when add_special).
void check_corpus(const SpmModel& spm, const Tokenizer& tok, const std::vector<int32_t>& prefix = {},
                  const std::vector<int32_t>& suffix = {}) {
  REQUIRE(spm.lines.size() >= 1000);
  size_t mismatches = 0;
  std::string first;
  for (size_t i = 0; i < spm.lines.size(); ++i) {
    std::vector<int32_t> expected = prefix;
    expected.insert(expected.end(), spm.ids[i].begin(), spm.ids[i].end());
    expected.insert(expected.end(), suffix.begin(), suffix.end());
    std::vector<int32_t> got = tok.encode(spm.lines[i], !prefix.empty() || !suffix.empty());
    if (got == expected) continue;
    if (mismatches++ == 0)
      first = "line " + std::to_string(i + 1) + ": spm " + show(expected) + ", engine " + show(got);
  }
  CHECK_MESSAGE(mismatches == 0, mismatches, " of ", spm.lines.size(), " lines differ; first ", first);
}

// The vocabulary both ways, as spm lists it in m.vocab.
void check_vocab(const SpmModel& spm, const Tokenizer& tok) {
  REQUIRE(tok.vocab_size() == static_cast<int32_t>(spm.vocab.size()));
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    CHECK(tok.id_to_token(id) == spm.vocab[id]);
    CHECK(tok.token_to_id(spm.vocab[id]) == id);
  }
  CHECK(std::string(tok.kind()) == "Unigram");
}

// decode(ids) is spm_decode's text, on the lines spm encodes without <unk>
// (which spm_decode writes as " ⁇ ").
void check_decode(const SpmModel& spm, const Tokenizer& tok, int32_t unk_id) {
  std::string ids_text;
  std::vector<size_t> chosen;
  for (size_t i = 0; i < spm.ids.size(); ++i) {
    bool has_unk = false;
    for (int32_t id : spm.ids[i]) has_unk |= id == unk_id;
    if (has_unk || spm.ids[i].empty()) continue;
    chosen.push_back(i);
    std::string row = show(spm.ids[i]);
    ids_text += row.substr(1, row.size() - 2) + "\n";
  }
  REQUIRE(chosen.size() > 500);
  std::ofstream(spm.dir / "ids.txt") << ids_text;
  test::RunResult decoded =
      test::run("spm_decode --model='" + (spm.dir / "m.model") + "' --input_format=id < '" + (spm.dir / "ids.txt") + "'");
  REQUIRE_MESSAGE(decoded.exit_code == 0, decoded.err);
  std::vector<std::string> texts = lines_of(decoded.out);
  REQUIRE(texts.size() == chosen.size());
  size_t mismatches = 0;
  std::string first;
  for (size_t k = 0; k < chosen.size(); ++k) {
    std::string got = tok.decode(spm.ids[chosen[k]], true);
    if (got == texts[k]) continue;
    if (mismatches++ == 0) first = "line " + std::to_string(chosen[k] + 1) + ": spm '" + texts[k] + "', engine '" + got + "'";
  }
  CHECK_MESSAGE(mismatches == 0, mismatches, " of ", chosen.size(), " lines decode differently; first ", first);
}

// The nmt_nfkc model with 1000 pieces, trained once for the tests that
// need one such model.
const SpmModel& default_model() {
  static const SpmModel model("--vocab_size=1000");
  return model;
}

std::unique_ptr<Tokenizer> load(const SpmModel& spm, const SentencePieceOptions& options = {}) {
  return nystrom::text::make_sentencepiece_tokenizer(spm.bytes, options);
}

}  // namespace

TEST_CASE("sentencepiece vs spm: nmt_nfkc model, every corpus line, vocabulary and decoding") {
  const SpmModel& spm = default_model();
  auto tok = load(spm);
  check_corpus(spm, *tok);
  check_vocab(spm, *tok);
  check_decode(spm, *tok, 0);
  CHECK(tok->num_special_tokens() == 0);  // no [CLS]/[SEP]: no template
  CHECK(tok->encode("hello", true) == tok->encode("hello", false));
  CHECK_FALSE(tok->mask_id().has_value());
}

TEST_CASE("sentencepiece vs spm: identity normalization") {
  SpmModel spm("--vocab_size=800 --normalization_rule_name=identity");
  check_corpus(spm, *load(spm));
}

TEST_CASE("sentencepiece vs spm: byte fallback, with nmt_nfkc and with identity") {
  SpmModel nfkc("--vocab_size=1000 --byte_fallback=true");
  auto tok = load(nfkc);
  check_corpus(nfkc, *tok);
  check_decode(nfkc, *tok, 0);
  SpmModel identity("--vocab_size=900 --byte_fallback=true --normalization_rule_name=identity --character_coverage=0.99");
  check_corpus(identity, *load(identity));
}

TEST_CASE("sentencepiece vs spm: pieces across spaces, NFKC with case folding") {
  SpmModel spm("--vocab_size=1000 --split_by_whitespace=false --normalization_rule_name=nmt_nfkc_cf");
  check_corpus(spm, *load(spm));
}

TEST_CASE("sentencepiece vs spm: ALBERT-style ids, control and user-defined symbols, [CLS] text [SEP]") {
  // As ALBERT's spiece.model: <pad>=0 <unk>=1 [CLS]=2 [SEP]=3 [MASK]=4, then
  // user-defined symbols, which spm keeps whole whatever the normalizer and
  // the scores say (the space and "ﬁ" among them, which nmt_nfkc rewrites).
  SpmModel spm("--vocab_size=1200 --pad_id=0 --unk_id=1 --bos_id=-1 --eos_id=-1 "
               "'--control_symbols=[CLS],[SEP],[MASK]' '--user_defined_symbols=(,),-,.,–,€,://,ab,abc,ﬁ, ,▁x'");
  REQUIRE(spm.vocab.size() > 5);
  CHECK(spm.vocab[2] == "[CLS]");
  auto tok = load(spm);
  check_corpus(spm, *tok, {2}, {3});
  check_vocab(spm, *tok);
  CHECK(tok->num_special_tokens() == 2);
  CHECK(tok->mask_id() == 4);
  CHECK(tok->decode({2, 4, 3}, true) == "");
}

TEST_CASE("sentencepiece vs spm: whitespace kept, no dummy prefix, the space marker as a suffix") {
  SpmModel spm("--vocab_size=700 --treat_whitespace_as_suffix=true --remove_extra_whitespaces=false "
               "--add_dummy_prefix=false");
  check_corpus(spm, *load(spm));
}

TEST_CASE("sentencepiece vs spm: lower_case lower-cases before SentencePiece sees the text") {
  const SpmModel& spm = default_model();
  SentencePieceOptions options;
  options.lower_case = true;
  auto lower = load(spm, options);
  auto plain = load(spm);
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"THE Quick BROWN Fox", "the quick brown fox"},
      {"ÉCOLE Ångström ÜBER", "école ångström über"},
      {"ΑΘΗΝΑ Москва ЁЛКА", "αθηνα москва ёлка"},
      {"ＡＢＣ Ⅻ", "ａｂｃ ⅻ"},
  };
  for (const auto& pair : pairs) {
    // Plain names, not a structured binding: clang 14 cannot capture those in INFO's lambda.
    const std::string& upper = pair.first;
    const std::string& lowered = pair.second;
    INFO(upper);
    CHECK(lower->encode(upper, false) == plain->encode(lowered, false));
    CHECK(lower->encode(upper, false) != plain->encode(upper, false));
  }
}

TEST_CASE("sentencepiece vs spm: a truncated or corrupted real model is an error, not a crash") {
  const SpmModel& spm = default_model();
  const std::string& model = spm.bytes;
  for (size_t cut : {model.size() / 3, model.size() / 2, model.size() - 1}) {
    INFO("cut at ", cut);
    CHECK_THROWS_AS(nystrom::text::make_sentencepiece_tokenizer(std::string_view(model).substr(0, cut), {}),
                    nystrom::Error);
  }

  // The charsmap's root sent far outside its trie.
  std::string_view charsmap;
  nystrom::text::ProtoReader r(model, "m.model");
  while (r.next()) {
    if (r.field() != 3) continue;
    nystrom::text::ProtoReader spec(r.bytes(), "normalizer_spec");
    while (spec.next())
      if (spec.field() == 2) charsmap = spec.bytes();
  }
  REQUIRE(charsmap.size() > 1000);
  std::string corrupt = model;
  size_t root = static_cast<size_t>(charsmap.data() - model.data()) + 4;
  corrupt.replace(root, 4, std::string("\x00\xfc\xff\x7f", 4));
  CHECK_THROWS_WITH_AS(nystrom::text::make_sentencepiece_tokenizer(corrupt, {}),
                       "precompiled charsmap: unit 0 points outside the trie", nystrom::Error);
}
