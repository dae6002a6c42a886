// nystrom compare-attention: the figures it prints for an input are those of
// `nystrom run` with --attention exact and with Nystrom attention of the same
// landmarks, read back from their .npy files; an input of at most M tokens
// runs exact attention both times (difference 0, cosine exactly 1).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cli_support.h"
#include "nystrom/io.h"
#include "runtime/json.h"
#include "support.h"

namespace {

using clitest::converted;
using clitest::nystrom_cli;
using test::quote;

// The first held-out ListOps expression: over a thousand tokens, far more
// than the model's 64 landmarks.
std::string long_listops_expression() { return test::lines_of(test::slurp("tests/data/listops/heldout.txt"))[0]; }

std::vector<nystrom::JsonValue> json_lines(const std::string& out) {
  std::vector<nystrom::JsonValue> objects;
  for (const std::string& line : test::lines_of(out)) objects.push_back(nystrom::parse_json(line, "output line"));
  return objects;
}

// What `nystrom run` writes for these ids with the given attention options.
struct RunOutputs {
  std::vector<float> hidden, logits;
};
RunOutputs run_tool(const std::string& model, const std::vector<int32_t>& ids, const std::string& options) {
  test::TempDir dir;
  const std::vector<int64_t> ids64(ids.begin(), ids.end());
  nystrom::write_npy(dir / "ids.npy", "<i8", {ids64.size()}, ids64.data());
  const test::RunResult r = nystrom_cli("run -m " + quote(model) + " --ids-npy " + quote(dir / "ids.npy") +
                                        " --out-dir " + quote(dir / "out") + " " + options);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return {nystrom::read_npy_f32(dir / "out/last_hidden_state.npy"), nystrom::read_npy_f32(dir / "out/logits.npy")};
}

// ||n - e|| / ||e|| and the cosine, in double.
double relative_l2(const std::vector<float>& e, const std::vector<float>& n) {
  double dd = 0, ee = 0;
  for (size_t i = 0; i < e.size(); ++i) dd += ((double)n[i] - e[i]) * ((double)n[i] - e[i]), ee += (double)e[i] * e[i];
  return std::sqrt(dd / ee);
}

size_t argmax(const float* x, size_t n) { return (size_t)(std::max_element(x, x + n) - x); }

}  // namespace

TEST_CASE("compare-attention: a long ListOps expression, figures equal to run's exact and Nystrom outputs") {
  const std::string model = "models/listops.nyf";
  const std::string text = long_listops_expression();
  const std::vector<int32_t> ids = nystrom::Model::open(model)->tokenizer()->encode(text);
  REQUIRE(ids.size() > 256);

  for (const uint32_t m : {64u, 32u}) {
    CAPTURE(m);
    const test::RunResult r =
        nystrom_cli("compare-attention -m " + model + " --json --landmarks " + std::to_string(m) + " " + quote(text));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = json_lines(r.out);
    REQUIRE(out.size() == 1);
    const nystrom::JsonValue& o = out[0];

    const RunOutputs exact = run_tool(model, ids, "--attention exact");
    const RunOutputs nys = run_tool(model, ids, "--attention nystrom --landmarks " + std::to_string(m));
    const double want_rel = relative_l2(exact.hidden, nys.hidden), want_cos = test::cosine(exact.hidden, nys.hidden);

    CHECK(o.find("tokens")->as_int("tokens") == (int64_t)ids.size());
    CHECK(o.find("landmarks")->as_int("landmarks") == m);
    CHECK_FALSE(o.find("nystrom_ran_exact")->as_bool("nystrom_ran_exact"));
    const double rel = o.find("relative_l2")->as_number("relative_l2");
    const double cos = o.find("cosine")->as_number("cosine");
    // In range, and an approximation: not exact attention under another name.
    CHECK(rel > 0);
    CHECK(rel < 0.5);
    CHECK(cos < 1);
    CHECK(cos > 0.9);
    CHECK(rel == doctest::Approx(want_rel).epsilon(1e-6));
    CHECK(cos == doctest::Approx(want_cos).epsilon(1e-8));
    // ListOps labels are the digits 0-9 in id order.
    const nystrom::JsonValue *e = o.find("exact"), *n = o.find("nystrom");
    CHECK(e->find("prediction")->as_string("p") == std::to_string(argmax(exact.logits.data(), exact.logits.size())));
    CHECK(n->find("prediction")->as_string("p") == std::to_string(argmax(nys.logits.data(), nys.logits.size())));
    CHECK(o.find("same_prediction")->as_bool("s") ==
          (e->find("prediction")->as_string("p") == n->find("prediction")->as_string("p")));
    CHECK(e->find("ms")->as_number("ms") > 0);
    CHECK(n->find("ms")->as_number("ms") > 0);
  }
}

TEST_CASE("compare-attention: an input of at most M tokens runs exact both times: difference 0, cosine exactly 1") {
  const std::string text = "[MAX 2 9 [MIN 4 7 ] 0 ]";
  const test::RunResult r = nystrom_cli("compare-attention -m models/listops.nyf --json " + quote(text));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto out = json_lines(r.out);
  REQUIRE(out.size() == 1);
  const nystrom::ModelConfig c = nystrom::Model::open("models/listops.nyf")->config();
  REQUIRE(c.num_landmarks != c.segment_means_len);  // Nystrom-configured
  CHECK(out[0].find("landmarks")->as_int("m") == c.num_landmarks);
  CHECK(out[0].find("nystrom_ran_exact")->as_bool("x"));
  CHECK(out[0].find("relative_l2")->as_number("r") == 0);
  CHECK(out[0].find("cosine")->as_number("c") == 1);
  CHECK(out[0].find("same_prediction")->as_bool("s"));

  // Plain: tokens, difference, cosine, two labels, two times, what ran.
  const test::RunResult p = nystrom_cli("compare-attention -m models/listops.nyf " + quote(text));
  REQUIRE_MESSAGE(p.exit_code == 0, p.err);
  const auto lines = test::lines_of(p.out);
  REQUIRE(lines.size() == 1);
  std::vector<std::string> fields;
  for (size_t start = 0;;) {
    const size_t tab = lines[0].find('\t', start);
    fields.push_back(lines[0].substr(start, tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  REQUIRE(fields.size() == 8);
  CHECK(fields[1] == "0");
  CHECK(fields[2] == "1.000000");
  CHECK(fields[3] == fields[4]);
  CHECK(fields[7] == "exact(n<=m)");
}

TEST_CASE("compare-attention: a masked LM's top token at each mask under each attention, as run's logits say") {
  const std::string model = converted("tiny-mlm");  // 8 landmarks
  const auto m = nystrom::Model::open(model);
  const nystrom::Tokenizer* tok = m->tokenizer();
  const size_t V = m->config().vocab_size;
  const std::string long_text = "the [MASK] sat on the [MASK] . the dog ran and the cat sat on a mat";
  const std::vector<int32_t> ids = tok->encode(long_text);
  REQUIRE(ids.size() > 8);

  const test::TempFile inputs(long_text + "\nthe [MASK]\nthe cat\n");
  const test::RunResult r = nystrom_cli("compare-attention -m " + quote(model) + " --json -f " + quote(inputs.path));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto out = json_lines(r.out);
  REQUIRE(out.size() == 3);

  const RunOutputs exact = run_tool(model, ids, "--attention exact");
  const RunOutputs nys = run_tool(model, ids, "--attention nystrom --landmarks 8");
  auto top_at_masks = [&](const RunOutputs& o) {
    std::vector<std::string> tokens;
    for (size_t t = 0; t < ids.size(); ++t)
      if (ids[t] == *tok->mask_id()) tokens.push_back(tok->id_to_token((int32_t)argmax(o.logits.data() + t * V, V)));
    return tokens;
  };
  auto listed = [](const nystrom::JsonValue& v) {
    std::vector<std::string> tokens;
    for (const nystrom::JsonValue& t : v.array) tokens.push_back(t.as_string("token"));
    return tokens;
  };
  CHECK(listed(*out[0].find("exact")->find("prediction")) == top_at_masks(exact));
  CHECK(listed(*out[0].find("nystrom")->find("prediction")) == top_at_masks(nys));
  CHECK(top_at_masks(exact).size() == 2);
  CHECK(out[0].find("cosine")->as_number("c") == doctest::Approx(test::cosine(exact.hidden, nys.hidden)).epsilon(1e-8));
  CHECK(out[0].find("cosine")->as_number("c") < 1);

  // "the [MASK]" is 4 tokens: exact both times, one mask.
  CHECK(out[1].find("nystrom_ran_exact")->as_bool("x"));
  CHECK(out[1].find("cosine")->as_number("c") == 1);
  CHECK(out[1].find("exact")->find("prediction")->array.size() == 1);
  // No mask: an empty list (JSON), "-" (plain).
  CHECK(out[2].find("exact")->find("prediction")->array.empty());
  const test::RunResult p = nystrom_cli("compare-attention -m " + quote(model) + " 'the cat'");
  REQUIRE_MESSAGE(p.exit_code == 0, p.err);
  CHECK(p.out.find("\t-\t-\t") != std::string::npos);
}

TEST_CASE("compare-attention: a dense-configured checkpoint is compared at 64 landmarks by default") {
  // tiny-exact: num_landmarks == segment_means_seq_len == 32 (exact attention by its config).
  const test::RunResult r = nystrom_cli("compare-attention -m " + quote(converted("tiny-exact")) + " --json 'the cat sat'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto out = json_lines(r.out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].find("landmarks")->as_int("m") == 64);
  CHECK(out[0].find("exact")->find("prediction")->is_null());  // a bare encoder: no prediction
}

TEST_CASE("compare-attention: --attention is a usage error; so is a landmark count out of range") {
  for (const char* bad : {"--attention exact", "--landmarks 0"}) {
    CAPTURE(bad);
    const test::RunResult r = nystrom_cli(std::string("compare-attention -m models/listops.nyf ") + bad + " '[MAX 1 ]'");
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(test::lines_of(r.err).size() == 1);
  }
}
