// nystrom info: what a model file holds, which attention runs on it and
// why, and what a forward pass costs, plain and as JSON; and the attention
// line of --verbose and of the converter's summary.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli_support.h"
#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/convert.h"
#include "nystrom/nystrom.h"
#include "runtime/json.h"
#include "small_config.h"
#include "support.h"

namespace {

using clitest::converted;
using clitest::nystrom_cli;
using test::quote;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A model of the published checkpoints' kind: num_landmarks equal to
// segment_means_seq_len (so auto runs exact), 4096 positions; no tokenizer.
std::string published_like(const test::TempDir& dir) {
  nystrom::ModelConfig c = test::small_config(32);
  c.num_heads = 2;
  c.vocab_size = 64;
  c.max_positions = 4096;
  c.num_landmarks = 64;
  c.segment_means_len = 64;
  const std::string path = dir / "published.nyf";
  nystrom::write_random_model(path, c);
  return path;
}

}  // namespace

TEST_CASE("cli info: every config field, the head and labels, tensors by type, tokenizer and attention") {
  const std::string path = converted("small-cls");
  const test::RunResult r = nystrom_cli("info " + quote(path));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto model = nystrom::Model::open(path);
  const nystrom::ModelConfig& c = model->config();
  const std::vector<std::pair<std::string, uint32_t>> fields = {
      {"vocab_size", c.vocab_size},           {"hidden_size", c.hidden_size},
      {"num_layers", c.num_layers},           {"num_heads", c.num_heads},
      {"intermediate_size", c.intermediate_size}, {"max_positions", c.max_positions},
      {"type_vocab_size", c.type_vocab_size}, {"num_landmarks", c.num_landmarks},
      {"segment_means_len", c.segment_means_len}, {"conv_kernel", c.conv_kernel},
      {"position_offset", c.position_offset}};
  for (const auto& field : fields) {
    const std::string& name = field.first;  // plain names: clang 14 cannot capture bindings in CAPTURE
    const auto value = field.second;
    CAPTURE(name);
    bool found = false;
    for (const std::string& line : test::lines_of(r.out))
      if (line.find("  " + name + " ") == 0) found = line.substr(line.find_last_of(' ') + 1) == std::to_string(value);
    CHECK(found);
  }
  CHECK(has(r.out, "  activation           gelu_new\n"));
  CHECK(has(r.out, "head:        classifier, single_label_classification, 3 labels: LABEL_0, LABEL_1, LABEL_2\n"));
  CHECK(has(r.out, "tensors:     60, "));
  CHECK(has(r.out, "  f32      60 tensors"));
  CHECK(has(r.out, "tokenizer:   WordLevel, 1000 ids, mask [MASK], unknown [UNK], 2 special tokens per input\n"));
  CHECK(has(r.out, "attention:   nystrom with 16 landmarks: auto follows the checkpoint, whose num_landmarks (16) "
                   "differs from its segment_means_seq_len (256); inputs of at most 16 tokens run exact\n"));
  // Its longest input (256 < 512), the attention that runs and the other.
  CHECK(has(r.out, "       256  nystrom, m=16"));
  CHECK(has(r.out, "       256  exact"));
  CHECK(has(r.out, "(--attention exact)"));
  CHECK_FALSE(has(r.out, "  embeddings.word_embeddings.weight"));  // listed with --tensors only
  CHECK(has(nystrom_cli("info --tensors -m " + quote(path)).out, "  embeddings.word_embeddings.weight"));
}

TEST_CASE("cli info --json: all of it, with the cost of each length from forward_cost") {
  test::TempDir dir;
  const std::string path = published_like(dir);
  const test::RunResult r = nystrom_cli("info --json --threads 1 " + quote(path));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  REQUIRE(test::lines_of(r.out).size() == 1);
  const nystrom::JsonValue v = nystrom::parse_json(r.out, "info --json");
  auto model = nystrom::Model::open(path);
  const nystrom::ModelConfig& c = model->config();
  const nystrom::JsonValue* config = v.find("config");
  REQUIRE(config != nullptr);
  CHECK(config->find("max_positions")->as_int("") == 4096);
  CHECK(config->find("head")->as_string("") == "none");
  CHECK(config->find("problem_type")->is_null());
  CHECK(v.find("format_version")->as_int("") == model->file_version());
  CHECK(v.find("file_bytes")->as_int("") == (int64_t)test::slurp(path).size());
  CHECK(v.find("tokenizer")->is_null());
  const auto tensors = model->tensors();
  REQUIRE(v.find("tensors")->array.size() == tensors.size());
  CHECK(v.find("tensors")->array[0].find("name")->as_string("") == tensors[0].name);
  CHECK(v.find("tensors")->array[0].find("bytes")->as_int("") == (int64_t)tensors[0].bytes);

  const nystrom::JsonValue* attention = v.find("attention");
  CHECK(attention->find("exact")->type == nystrom::JsonValue::Type::Bool);
  CHECK(attention->find("reason")->as_string("").find(
            "exact: auto follows the checkpoint, whose num_landmarks (64) equals its segment_means_seq_len (64)") == 0);
  // 512 and 4096 (the model's longest), each exact (what runs) and Nystrom
  // with the checkpoint's 64 landmarks (for comparison).
  const auto& cost = v.find("cost")->array;
  REQUIRE(cost.size() == 4);
  size_t row = 0;
  for (size_t n : {512, 4096}) {
    for (bool exact : {true, false}) {
      CAPTURE(n);
      CAPTURE(exact);
      const nystrom::JsonValue& e = cost[row++];
      nystrom::RunOptions o;
      o.threads = 1;
      if (!exact) o.attention = nystrom::AttentionMode::Nystrom;
      const nystrom::ForwardCost f = nystrom::forward_cost(c, n, o);
      CHECK(e.find("n")->as_int("") == (int64_t)n);
      CHECK(e.find("attention")->as_string("") == (exact ? "exact" : "nystrom"));
      CHECK(e.find("landmarks")->as_int("") == (exact ? 0 : 64));
      CHECK(e.find("runs")->type == nystrom::JsonValue::Type::Bool);
      CHECK(e.find("flops")->as_number("") == doctest::Approx(f.flops).epsilon(1e-8));
      CHECK(e.find("work_bytes")->as_int("") == (int64_t)f.work_bytes);
      CHECK(e.find("output_bytes")->as_int("") == (int64_t)f.output_bytes);
    }
  }
  // The exact rows of 4096 tokens cost more than the Nystrom ones.
  CHECK(cost[2].find("work_bytes")->as_int("") > cost[3].find("work_bytes")->as_int(""));
  // --landmarks makes Nystrom the one that runs.
  const test::RunResult l = nystrom_cli("info --landmarks 32 " + quote(path));
  CHECK(has(l.out, "attention:   nystrom with 32 landmarks: a landmark count was given"));
  CHECK(has(l.out, "tokenizer:   none"));
}

TEST_CASE("cli: --verbose and the converter's summary say which attention runs and why") {
  const std::string path = converted("tiny-exact");
  const test::RunResult v = nystrom_cli("tokenize -m " + quote(path) + " --verbose 'the cat'");
  REQUIRE_MESSAGE(v.exit_code == 0, v.err);
  CHECK_FALSE(has(v.err, "attention:"));  // tokenize runs no model
  const test::RunResult e = nystrom_cli("embed -m " + quote(path) + " --verbose 'the cat'");
  REQUIRE_MESSAGE(e.exit_code == 0, e.err);
  CHECK(has(e.err, "attention:   exact: auto follows the checkpoint, whose num_landmarks (32) equals its "
                   "segment_means_seq_len (32)"));
  const test::RunResult n = nystrom_cli("embed -m " + quote(path) + " --verbose --attention nystrom --landmarks 8 'cat'");
  CHECK(has(n.err, "attention:   nystrom with 8 landmarks: asked for; inputs of at most 8 tokens run exact\n"));
  // 32 positions, 32 landmarks: no input of this model is long enough for Nystrom.
  const test::RunResult all = nystrom_cli("embed -m " + quote(path) + " --verbose --attention nystrom 'the cat'");
  CHECK(has(all.err, "attention:   exact: 32 tokens are no more than the 32 landmarks"));

  test::TempDir dir;
  test::write_file(dir / "ids.txt", "2 5 6 3\n");
  const test::RunResult r = nystrom_cli("run -v -m " + quote(path) + " --ids " + quote(dir / "ids.txt") + " --json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(has(r.err, "attention:   exact: auto follows the checkpoint"));

  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", texttest::tokenizer_json(512));
  const test::RunResult c = test::convert(folder, dir / "m.nyf");
  REQUIRE_MESSAGE(c.exit_code == 0, c.err);
  CHECK(has(c.out, "  head: masked LM\n"));
  CHECK(has(c.out, "  attention under auto: nystrom with 8 landmarks: auto follows the checkpoint, whose "
                   "num_landmarks (8) differs from its segment_means_seq_len (64)"));
}

TEST_CASE("cli info: a tokenizer section that does not build is shown as such, and the rest still is") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", "");
  const nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(folder);
  nystrom::write_model_file(dir / "m.nyf", ck.config, ck.tensors, {{"tokenizer.json", "{\"model\": "}});
  const test::RunResult r = nystrom_cli("info " + quote(dir / "m.nyf"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(has(r.out, "tokenizer:   unusable: "));
  CHECK(has(r.out, "head:        masked_lm\n"));
  const test::RunResult j = nystrom_cli("info --json " + quote(dir / "m.nyf"));
  REQUIRE_MESSAGE(j.exit_code == 0, j.err);
  const nystrom::JsonValue v = nystrom::parse_json(j.out, "info --json");
  CHECK(v.find("tokenizer")->find("error")->as_string("").find("tokenizer.json") != std::string::npos);
}

TEST_CASE("cli info: a usage error points to info's help; a missing file is a one-line error") {
  const test::RunResult u = nystrom_cli("info");
  CHECK(u.exit_code == 2);
  CHECK(has(u.err, "(see nystrom info --help)"));
  clitest::check_error(nystrom_cli("info /nonexistent/m.nyf"), "/nonexistent/m.nyf");
}

TEST_CASE("cli: nystrom-convert --type q8_c writes per-channel weights, and info names the type") {
  test::TempDir dir;
  const std::string out = dir / "m.nyf";
  const test::RunResult conv = test::run(test::tool("nystrom-convert") + " " +
                                         quote(test::testdata_dir() + "/small-cls") + " -o " + quote(out) +
                                         " --type q8_c --quiet");
  REQUIRE_MESSAGE(conv.exit_code == 0, conv.err);
  const test::RunResult r = nystrom_cli("info " + quote(out) + " --tensors");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  bool listed = false;
  for (const std::string& line : test::lines_of(r.out))
    listed = listed || (has(line, "encoder.layer.0.attention.self.query.weight") && has(line, "q8_c"));
  CHECK_MESSAGE(listed, r.out);
  const test::RunResult bad = test::run(test::tool("nystrom-convert") + " " +
                                        quote(test::testdata_dir() + "/small-cls") + " -o " + quote(out + "2") +
                                        " --type q8c");
  CHECK(bad.exit_code == 2);
  CHECK(has(bad.err, "q8_c"));
}
