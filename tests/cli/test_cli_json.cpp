// JSON Lines from every command (Hugging Face pipelines' field names),
// embed's formats and --normalize, run --ids, tokenize --verbose's unknown
// tokens, multi-label and regression classifiers, and each command's help
// and usage errors. Outputs are checked against the C++ API.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli_support.h"
#include "cli_text_checkpoint.h"
#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "runtime/json.h"
#include "support.h"

namespace {

using clitest::check_error;
using clitest::converted;
using clitest::nystrom_cli;
using test::lines_of;
using test::quote;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string write_lines(const test::TempDir& dir, const std::vector<std::string>& lines, const char* name = "in.txt") {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  test::write_file(dir / name, text);
  return dir / name;
}

std::vector<float> floats_of(const nystrom::JsonValue& array) {
  std::vector<float> v;
  for (const nystrom::JsonValue& x : array.array) v.push_back((float)x.as_number("number"));
  return v;
}

std::vector<float> rows_of(const nystrom::JsonValue& rows) {
  std::vector<float> v;
  for (const nystrom::JsonValue& r : rows.array) {
    const std::vector<float> row = floats_of(r);
    v.insert(v.end(), row.begin(), row.end());
  }
  return v;
}

std::string ids_line(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

// small-cls with its config.json changed by edit, converted by the tool.
template <typename Edit>
std::string classifier_variant(const test::TempDir& dir, Edit edit) {
  const std::string folder = texttest::text_checkpoint(dir, "small-cls", texttest::tokenizer_json(1000));
  std::string config = test::slurp(folder + "/config.json");
  edit(config);
  test::write_file(folder + "/config.json", config);
  const test::RunResult r = test::convert(folder, dir / "variant.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return dir / "variant.nyf";
}

void add_problem_type(std::string& config, const std::string& kind) {
  config.insert(config.find('{') + 1, "\n  \"problem_type\": \"" + kind + "\",");
}

const std::vector<std::string> kTexts = {"the cat sat on the mat .", "a very good movie", "it was not bad"};

}  // namespace

TEST_CASE("cli json: tokenize --json gives ids and tokens; --verbose counts unknown tokens per input and in all") {
  const std::string path = converted("small-cls");
  test::TempDir dir;
  const std::string in = write_lines(dir, {"the cat purred loudly", "a good movie", "zzz"});
  const test::RunResult r = nystrom_cli("tokenize --json --verbose --threads 1 -m " + quote(path) + " -f " + quote(in));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto model = nystrom::Model::open(path);
  const nystrom::Tokenizer* tok = model->tokenizer();
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 3);
  const std::vector<std::string> texts = {"the cat purred loudly", "a good movie", "zzz"};
  for (size_t i = 0; i < 3; ++i) {
    const nystrom::JsonValue v = nystrom::parse_json(lines[i], "tokenize --json");
    const std::vector<int32_t> ids = tok->encode(texts[i]);
    REQUIRE(v.find("ids")->array.size() == ids.size());
    REQUIRE(v.find("tokens")->array.size() == ids.size());
    for (size_t t = 0; t < ids.size(); ++t) {
      CHECK(v.find("ids")->array[t].as_int("id") == ids[t]);
      CHECK(v.find("tokens")->array[t].as_string("token") == tok->id_to_token(ids[t]));
    }
  }
  CHECK(has(r.err, "in.txt line 1: 2 unknown tokens\n"));
  CHECK_FALSE(has(r.err, "in.txt line 2:"));
  CHECK(has(r.err, "in.txt line 3: 1 unknown token\n"));
  CHECK(has(r.err, "unknown:     3 tokens ([UNK], id 1) in 2 of 3 inputs\n"));
  // Without --verbose, stderr stays empty.
  CHECK(nystrom_cli("tokenize -m " + quote(path) + " -f " + quote(in)).err.empty());
}

TEST_CASE("cli json: the text commands take the shared run options, tokenize included") {
  const std::string path = converted("small-cls");
  const std::string plain = nystrom_cli("tokenize -m " + quote(path) + " 'the cat'").out;
  const test::RunResult r = nystrom_cli("tokenize -m " + quote(path) +
                                        " --threads 1 --attention exact --landmarks 4 --no-verify 'the cat'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == plain);
}

TEST_CASE("cli json: embed writes JSON Lines by default, .npy with -o; --normalize gives unit rows") {
  const std::string path = converted("small-cls");
  test::TempDir dir;
  const std::string in = write_lines(dir, kTexts);
  auto model = nystrom::Model::open(path);
  nystrom::Session session(model);
  for (const char* pool : {"cls", "mean"}) {
    CAPTURE(pool);
    const nystrom::Pooling how = pool[0] == 'c' ? nystrom::Pooling::First : nystrom::Pooling::Mean;
    const test::RunResult j = nystrom_cli("embed -m " + quote(path) + " --pool " + pool + " -f " + quote(in));
    REQUIRE_MESSAGE(j.exit_code == 0, j.err);
    const test::RunResult n =
        nystrom_cli("embed --json --normalize -m " + quote(path) + " --pool " + pool + " -f " + quote(in));
    REQUIRE_MESSAGE(n.exit_code == 0, n.err);
    const test::RunResult npy = nystrom_cli("embed --normalize -m " + quote(path) + " --pool " + pool + " -f " +
                                            quote(in) + " -o " + quote(dir / "e.npy"));
    REQUIRE_MESSAGE(npy.exit_code == 0, npy.err);
    CHECK(has(npy.out, "[3, 128] (pool " + std::string(pool) + ", normalized)"));
    const std::vector<float> rows = nystrom::read_npy_f32(dir / "e.npy");
    const auto lines = lines_of(j.out), unit_lines = lines_of(n.out);
    REQUIRE(lines.size() == 3);
    REQUIRE(unit_lines.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      const std::vector<float> e = nystrom::pool_embedding(session.run(model->tokenizer()->encode(kTexts[i])), how);
      const nystrom::JsonValue v = nystrom::parse_json(lines[i], "embed");
      CHECK(floats_of(*v.find("embedding")) == e);  // 9 digits read back bit for bit
      double sum = 0;
      for (float x : e) sum += (double)x * x;
      std::vector<float> unit(e.size());
      for (size_t k = 0; k < e.size(); ++k) unit[k] = (float)(e[k] / std::sqrt(sum));
      CHECK(floats_of(*nystrom::parse_json(unit_lines[i], "embed").find("embedding")) == unit);
      CHECK(std::vector<float>(rows.begin() + i * 128, rows.begin() + (i + 1) * 128) == unit);
    }
  }
  // Usage: npy needs a file, JSON Lines go to standard output.
  for (const std::string& args : {std::string("--format npy"), "--format jsonl -o " + quote(dir / "x.jsonl"),
                                  "--json --format npy -o " + quote(dir / "x.npy"), std::string("--format csv")}) {
    CAPTURE(args);
    const test::RunResult r = nystrom_cli("embed -m " + quote(path) + " " + args + " 'the cat'");
    CHECK(r.exit_code == 2);
    CHECK(has(r.err, "(see nystrom embed --help)"));
    CHECK(r.out.empty());
  }
}

TEST_CASE("cli json: --normalize leaves a zero embedding zero") {
  // A final LayerNorm of zero weight and bias: every hidden row is zero.
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", texttest::tokenizer_json(512));
  nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(folder);
  const nystrom::CheckpointTokenizer tok = nystrom::read_hf_tokenizer(folder, ck.config);
  int zeroed = 0;
  for (nystrom::TensorData& t : ck.tensors)
    if (t.name.find("encoder.layer." + std::to_string(ck.config.num_layers - 1) + ".output.LayerNorm.") == 0) {
      std::fill(t.bytes.begin(), t.bytes.end(), 0);
      ++zeroed;
    }
  REQUIRE(zeroed == 2);
  nystrom::write_model_file(dir / "zero.nyf", ck.config, ck.tensors, tok.views());
  const test::RunResult r = nystrom_cli("embed --normalize -m " + quote(dir / "zero.nyf") + " 'the cat'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::vector<float> e = floats_of(*nystrom::parse_json(r.out, "embed").find("embedding"));
  CHECK(e == std::vector<float>(64, 0.0f));
}

TEST_CASE("cli json: run --ids takes ids as text, one run per line, as JSON Lines equal to the session's") {
  const std::string path = converted("small-cls");
  test::TempDir dir;
  auto model = nystrom::Model::open(path);
  const nystrom::Tokenizer* tok = model->tokenizer();
  std::vector<std::string> id_lines;
  for (const std::string& t : kTexts) id_lines.push_back(ids_line(tok->encode(t)));
  id_lines[1] = "  " + id_lines[1] + "\t ";  // spaces and tabs around are fine
  const test::RunResult r = nystrom_cli("run -m " + quote(path) + " --ids " + quote(write_lines(dir, id_lines)) +
                                        " --json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 3);
  nystrom::Session session(model);
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const nystrom::Output out = session.run(tok->encode(kTexts[i]));
    const nystrom::JsonValue v = nystrom::parse_json(lines[i], "run --json");
    CHECK(v.find("n")->as_int("n") == (int64_t)out.n);
    CHECK(v.find("attention")->as_string("") == (out.exact_attention ? "exact" : "nystrom"));
    CHECK(v.find("landmarks")->as_int("") == out.landmarks);
    CHECK(rows_of(*v.find("last_hidden_state")) == out.last_hidden_state);
    CHECK(floats_of(*v.find("logits")) == out.logits);
  }
  // --out-dir takes one line and writes what --ids-npy writes.
  const std::vector<int32_t> ids = tok->encode(kTexts[0]);
  std::vector<int64_t> ids64(ids.begin(), ids.end());
  nystrom::write_npy(dir / "ids.npy", "<i8", {ids64.size()}, ids64.data());
  REQUIRE(nystrom_cli("run -m " + quote(path) + " --ids-npy " + quote(dir / "ids.npy") + " --out-dir " +
                      quote(dir / "a")).exit_code == 0);
  const test::RunResult b = test::run("echo '" + ids_line(ids) + "' | " + test::tool("nystrom") + " run -m " +
                                      quote(path) + " --ids - --out-dir " + quote(dir / "b"));
  REQUIRE_MESSAGE(b.exit_code == 0, b.err);
  CHECK(has(b.out, "n=" + std::to_string(ids.size()) + " attention="));
  for (const char* f : {"/last_hidden_state.npy", "/logits.npy"})
    CHECK(test::slurp(dir / "a" + f) == test::slurp(dir / "b" + f));
  // --ids-npy with --json: the one object.
  const test::RunResult j = nystrom_cli("run -m " + quote(path) + " --ids-npy " + quote(dir / "ids.npy") + " --json");
  REQUIRE_MESSAGE(j.exit_code == 0, j.err);
  CHECK(j.out == lines[0] + "\n");
}

TEST_CASE("cli json: bad ids are one-line errors naming the line") {
  const std::string path = converted("small-cls");  // 1000 ids, 256 positions
  test::TempDir dir;
  std::string long_line;
  for (int i = 0; i < 257; ++i) long_line += "5 ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2 5 x 3", "ids.txt line 2: 'x' is not a token id"},
      {"2 5 -1 3", "ids.txt line 2: '-1' is not a token id"},
      {"2 5 1000 3", "ids.txt line 2: token id 1000 is outside the vocabulary (0..999)"},
      {"2 99999999999999999999999 3", "ids.txt line 2: token id 99999999999999999999... is outside the vocabulary"},
      {long_line, "ids.txt line 2: more ids than the model's 256 positions"},
      {" ", "ids.txt line 2: blank line"}};
  for (const auto& c : cases) {
    const std::string& bad = c.first;  // plain names: clang 14 cannot capture bindings in CAPTURE
    const std::string& message = c.second;
    CAPTURE(bad);
    const std::string file = write_lines(dir, {"2 5 3", bad, "2 6 3"}, "ids.txt");
    const test::RunResult r = nystrom_cli("run -m " + quote(path) + " --ids " + quote(file) + " --json");
    // Line 1 was answered before line 2 was read; then one line of error.
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(has(r.err, message));
    CHECK(lines_of(r.err).size() == 1);
    CHECK(lines_of(r.out).size() == (bad == " " ? 0u : 1u));  // a file's blank line is found as it is read
  }
  check_error(nystrom_cli("run -m " + quote(path) + " --ids " + quote(write_lines(dir, {"2 5 3", "2 6 3"}, "two.txt")) +
                          " --out-dir " + quote(dir / "o")),
              "two.txt line 2: --out-dir holds the outputs of one sequence; give --json for several lines");
  CHECK_FALSE(test::exists(dir / "o"));
  for (const char* args : {"--json", "--ids x --ids-npy y --json", "--ids x", "--ids x --json --out-dir y"}) {
    CAPTURE(args);
    const test::RunResult r = nystrom_cli("run -m " + quote(path) + " " + std::string(args));
    CHECK(r.exit_code == 2);
    CHECK(has(r.err, "(see nystrom run --help)"));
  }
}

TEST_CASE("cli json: every line is valid JSON, even for a label that is not UTF-8") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "small-cls", texttest::tokenizer_json(1000));
  nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(folder);
  const nystrom::CheckpointTokenizer tok = nystrom::read_hf_tokenizer(folder, ck.config);
  // Latin-1, a lone continuation byte, a truncated sequence, a surrogate, an overlong '/'.
  ck.config.labels = {"caf\xe9", "\x80x\xe2\x82", "\xed\xa0\x80\xc0\xaf \xe2\x82\xac"};
  nystrom::write_model_file(dir / "m.nyf", ck.config, ck.tensors, tok.views());
  const test::RunResult r = nystrom_cli("classify --json -m " + quote(dir / "m.nyf") + " 'the cat'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const nystrom::JsonValue v = nystrom::parse_json(r.out, "classify");  // throws on invalid UTF-8
  const std::string bad = "\xef\xbf\xbd";                                // U+FFFD
  CHECK(v.find("scores")->find("caf" + bad) != nullptr);
  CHECK(v.find("scores")->find(bad + "x" + bad + bad) != nullptr);
  CHECK(v.find("scores")->find(bad + bad + bad + bad + bad + " \xe2\x82\xac") != nullptr);  // the euro sign kept
}

TEST_CASE("cli json: a multi-label classifier scores each label with a sigmoid") {
  test::TempDir dir;
  const std::string path =
      classifier_variant(dir, [](std::string& c) { add_problem_type(c, "multi_label_classification"); });
  auto model = nystrom::Model::open(path);
  REQUIRE(model->config().problem_type == nystrom::ProblemType::MultiLabel);
  const std::string in = write_lines(dir, kTexts);
  const test::RunResult r = nystrom_cli("classify -m " + quote(path) + " -f " + quote(in));
  const test::RunResult j = nystrom_cli("classify --json -m " + quote(path) + " -f " + quote(in));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  REQUIRE_MESSAGE(j.exit_code == 0, j.err);
  REQUIRE(lines_of(r.out).size() == 3);
  nystrom::Session session(model);
  const auto& labels = model->config().labels;
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(kTexts[i]);
    const nystrom::Output out = session.run(model->tokenizer()->encode(kTexts[i]));
    std::vector<double> s(out.logits.size());
    for (size_t k = 0; k < s.size(); ++k) s[k] = 1.0 / (1.0 + std::exp(-(double)out.logits[k]));
    std::vector<size_t> order = {0, 1, 2};
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
    std::string expected;
    std::vector<std::string> chosen;
    for (size_t k : order) {
      if (s[k] < 0.5 && !expected.empty()) break;
      char p[16];
      std::snprintf(p, sizeof p, "%.4f", s[k]);
      expected += (expected.empty() ? "" : "\t") + labels[k] + "\t" + p;
      if (s[k] >= 0.5) chosen.push_back(labels[k]);
    }
    CHECK(lines_of(r.out)[i] == expected);
    const nystrom::JsonValue v = nystrom::parse_json(lines_of(j.out)[i], "classify");
    CHECK(v.find("label")->as_string("") == labels[order[0]]);
    CHECK(v.find("score")->as_number("") == doctest::Approx(s[order[0]]).epsilon(1e-8));
    for (size_t k = 0; k < 3; ++k)
      CHECK(v.find("scores")->find(labels[k])->as_number("") == doctest::Approx(s[k]).epsilon(1e-8));
    REQUIRE(v.find("labels")->array.size() == chosen.size());
    for (size_t k = 0; k < chosen.size(); ++k) CHECK(v.find("labels")->array[k].as_string("") == chosen[k]);
  }
}

TEST_CASE("cli json: a regression model's outputs are its raw values") {
  test::TempDir dir;
  const std::string path = classifier_variant(dir, [](std::string& c) { add_problem_type(c, "regression"); });
  auto model = nystrom::Model::open(path);
  REQUIRE(model->config().problem_type == nystrom::ProblemType::Regression);
  const test::RunResult r = nystrom_cli("classify -m " + quote(path) + " " + quote(kTexts[1]));
  const test::RunResult j = nystrom_cli("classify --json -m " + quote(path) + " " + quote(kTexts[1]));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  REQUIRE_MESSAGE(j.exit_code == 0, j.err);
  nystrom::Session session(model);
  const nystrom::Output out = session.run(model->tokenizer()->encode(kTexts[1]));
  std::string expected;
  for (size_t k = 0; k < 3; ++k) {
    char v[32];
    std::snprintf(v, sizeof v, "%.6g", out.logits[k]);
    expected += (k ? "\t" : "") + model->config().labels[k] + "\t" + v;
  }
  CHECK(r.out == expected + "\n");
  const nystrom::JsonValue v = nystrom::parse_json(j.out, "classify");
  const size_t best = std::max_element(out.logits.begin(), out.logits.end()) - out.logits.begin();
  CHECK(v.find("label")->as_string("") == model->config().labels[best]);
  CHECK((float)v.find("score")->as_number("") == out.logits[best]);
  for (size_t k = 0; k < 3; ++k)
    CHECK((float)v.find("scores")->find(model->config().labels[k])->as_number("") == out.logits[k]);
  CHECK(v.find("labels") == nullptr);
}

TEST_CASE("cli json: the converter records problem_type as transformers infers it; old files read single-label") {
  test::TempDir dir;
  CHECK(nystrom::Model::open(converted("small-cls"))->config().problem_type == nystrom::ProblemType::SingleLabel);
  auto type_of = [&](const std::string& json) {
    return nystrom::parse_hf_config(nystrom::parse_json(json, "config"), "config.json").problem_type;
  };
  const std::string head = "{\"architectures\": [\"NystromformerForSequenceClassification\"], ";
  CHECK(type_of(head + "\"num_labels\": 1}") == nystrom::ProblemType::Regression);
  CHECK(type_of(head + "\"num_labels\": 3}") == nystrom::ProblemType::SingleLabel);
  CHECK(type_of(head + "\"id2label\": {\"0\": \"score\"}}") == nystrom::ProblemType::Regression);
  CHECK(type_of(head + "\"num_labels\": 1, \"problem_type\": \"multi_label_classification\"}") ==
        nystrom::ProblemType::MultiLabel);
  CHECK(type_of(head + "\"num_labels\": 3, \"problem_type\": null}") == nystrom::ProblemType::SingleLabel);
  CHECK(test::error_of([&] { type_of(head + "\"problem_type\": \"ranking\"}"); })
            .find("unsupported problem_type 'ranking'") != std::string::npos);
  // The test checkpoints still load.
  for (const char* name : {"tiny-mlm", "tiny-exact", "small-cls"})
    CHECK(nystrom::Model::open(converted(name))->config().problem_type == nystrom::ProblemType::SingleLabel);
}

TEST_CASE("cli: each command's help ends with examples") {
  for (const char* cmd : {"info", "run", "tokenize", "classify", "fill-mask", "embed", "compare-attention"}) {
    const std::string name = cmd;
    CAPTURE(name);
    const test::RunResult r = nystrom_cli(std::string(cmd) + " --help");
    REQUIRE(r.exit_code == 0);
    const size_t at = r.out.rfind("\nexamples:\n");
    REQUIRE(at != std::string::npos);
    const auto examples = lines_of(r.out.substr(at + 11));
    CHECK_FALSE(examples.empty());
    for (const std::string& line : examples) CHECK(line.find("nystrom ") != std::string::npos);
    CHECK(has(r.out.substr(at), std::string("nystrom ") + cmd));
  }
}
