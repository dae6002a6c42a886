// The text commands of the CLI (tokenize, classify, fill-mask, embed) and the
// converter's tokenizer embedding, through the built tools: small-cls (a
// classifier, 3 labels) and tiny-mlm (masked LM) with the WordLevel
// tokenizer.json of cli_text_checkpoint.h, converted by nystrom-convert.
// Outputs are checked against the C++ API on the same ids.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli_support.h"
#include "cli_text_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "runtime/json.h"
#include "support.h"

namespace {

using test::lines_of;
using test::quote;
using texttest::word_id;

using clitest::check_error;
using clitest::converted;
using clitest::nystrom_cli;

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> f;
  size_t start = 0;
  for (;;) {
    size_t end = line.find('\t', start);
    f.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return f;
    start = end + 1;
  }
}

std::string ids_line(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

std::string fixed4(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", p);
  return buf;
}

std::vector<double> softmax(const float* x, size_t n) {
  double top = x[0], sum = 0;
  for (size_t i = 0; i < n; ++i) top = std::max(top, (double)x[i]);
  std::vector<double> p(n);
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(x[i] - top);
  for (double& v : p) v /= sum;
  return p;
}

const std::vector<std::string> kLines = {"the cat sat on the mat .", "a very good movie", "it was not bad , and the dog ran"};

// kLines in a file; the path.
std::string lines_file(const test::TempDir& dir, const std::vector<std::string>& lines = kLines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  test::write_file(dir / "input.txt", text);
  return dir / "input.txt";
}

}  // namespace

TEST_CASE("cli text: the converter embeds the tokenizer, says so, and writes version 3") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "small-cls", texttest::tokenizer_json(1000));
  const test::RunResult r = test::convert(folder, dir / "m.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("tokenizer: WordLevel, 1000 ids, mask [MASK] (tokenizer.json") != std::string::npos);
  nystrom::ModelFile f(dir / "m.nyf");
  CHECK(f.version() == 3);
  REQUIRE(f.tokenizer_files().size() == 1);
  CHECK(std::string(f.tokenizer_files()[0].bytes) == texttest::tokenizer_json(1000));
}

TEST_CASE("cli text: without tokenizer files, or with --no-tokenizer, the file is the one converted before") {
  test::TempDir dir;
  const std::string plain = texttest::text_checkpoint(dir, "small-cls", "");
  const test::RunResult a = test::convert(plain, dir / "a.nyf");
  REQUIRE_MESSAGE(a.exit_code == 0, a.err);
  CHECK(a.out.find("tokenizer: none") != std::string::npos);
  CHECK(nystrom::ModelFile(dir / "a.nyf").version() == 1);

  test::TempDir dir2;
  const std::string with = texttest::text_checkpoint(dir2, "small-cls", texttest::tokenizer_json(1000));
  const test::RunResult b =
      test::run(test::tool("nystrom-convert") + " " + quote(with) + " --no-tokenizer -o " + quote(dir / "b.nyf"));
  REQUIRE_MESSAGE(b.exit_code == 0, b.err);
  const std::string a_bytes = test::slurp(dir / "a.nyf");
  CHECK(a_bytes == test::slurp(dir / "b.nyf"));
  // With the tokenizer, the same bytes after the header, then the section.
  CHECK(test::slurp(converted("small-cls")).substr(256, a_bytes.size() - 256) == a_bytes.substr(256));

  // Text commands on it say what is missing.
  for (const char* cmd : {"tokenize", "classify", "fill-mask", "embed -o x.npy"}) {
    CAPTURE(cmd);
    const test::RunResult r = nystrom_cli(std::string(cmd) + " -m " + quote(dir / "a.nyf") + " 'the cat'");
    check_error(r, dir / "a.nyf has no tokenizer (convert the checkpoint with its tokenizer files)");
  }
}

TEST_CASE("cli text: a broken tokenizer file fails the conversion; --no-tokenizer converts without it") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", "{\"model\": {\"type\": \"WordLevel\", ");
  const test::RunResult r = test::convert(folder, dir / "m.nyf");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("tokenizer.json") != std::string::npos);
  CHECK(lines_of(r.err).size() == 1);
  CHECK_FALSE(test::exists(dir / "m.nyf"));
  const test::RunResult ok =
      test::run(test::tool("nystrom-convert") + " " + quote(folder) + " --no-tokenizer -o " + quote(dir / "m.nyf"));
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
  CHECK(nystrom::ModelFile(dir / "m.nyf").tokenizer_files().empty());
}

TEST_CASE("cli text: tokenize prints one line of ids per input, with or without the special tokens") {
  const std::string model = converted("small-cls");
  const std::vector<int32_t> body = {word_id("the"), word_id("cat"), texttest::kUnk, word_id(".")};
  const test::RunResult r = nystrom_cli("tokenize -m " + quote(model) + " 'The cat purred.'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<int32_t> with = body;
  with.insert(with.begin(), texttest::kCls);
  with.push_back(texttest::kSep);
  CHECK(r.out == ids_line(with) + "\n");
  CHECK(nystrom_cli("tokenize --no-special -m " + quote(model) + " 'The cat purred.'").out == ids_line(body) + "\n");

  test::TempDir dir;
  const test::RunResult f = nystrom_cli("tokenize -m " + quote(model) + " -f " + quote(lines_file(dir)));
  REQUIRE_MESSAGE(f.exit_code == 0, f.err);
  const auto opened = nystrom::Model::open(model);
  const nystrom::Tokenizer* tok = opened->tokenizer();
  std::string expected;
  for (const std::string& l : kLines) expected += ids_line(tok->encode(l)) + "\n";
  CHECK(f.out == expected);
  CHECK(f.err.empty());  // stderr is not a terminal: no progress
  // Standard input, CRLF line ends and a last line without one.
  test::write_file(dir / "crlf.txt", kLines[0] + "\r\n" + kLines[1] + "\r\n" + kLines[2]);
  CHECK(nystrom_cli("tokenize -m " + quote(model) + " -f - < " + quote(dir / "crlf.txt")).out == expected);
}

TEST_CASE("cli text: classify prints the config's label and its probability for each input, or JSON Lines with "
          "the pipeline's names") {
  const std::string model_path = converted("small-cls");
  test::TempDir dir;
  const test::RunResult r = nystrom_cli("classify -m " + quote(model_path) + " -f " + quote(lines_file(dir)));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const test::RunResult j = nystrom_cli("classify --json -m " + quote(model_path) + " -f " + quote(dir / "input.txt"));
  REQUIRE_MESSAGE(j.exit_code == 0, j.err);
  const auto lines = lines_of(r.out), json_lines = lines_of(j.out);
  REQUIRE(lines.size() == kLines.size());
  REQUIRE(json_lines.size() == kLines.size());

  auto model = nystrom::Model::open(model_path);
  nystrom::Session session(model);
  for (size_t i = 0; i < kLines.size(); ++i) {
    CAPTURE(kLines[i]);
    const nystrom::Output out = session.run(model->tokenizer()->encode(kLines[i]));
    const std::vector<double> p = softmax(out.logits.data(), out.logits.size());
    const size_t best = std::max_element(p.begin(), p.end()) - p.begin();
    CHECK(lines[i] == model->config().labels[best] + "\t" + fixed4(p[best]));

    const nystrom::JsonValue v = nystrom::parse_json(json_lines[i], "classify --json");
    CHECK(v.find("label")->as_string("label") == model->config().labels[best]);
    CHECK(v.find("score")->as_number("score") == doctest::Approx(p[best]).epsilon(1e-7));
    const nystrom::JsonValue* all = v.find("scores");
    REQUIRE(all != nullptr);
    REQUIRE(all->object.size() == 3);
    for (size_t k = 0; k < 3; ++k) {
      const nystrom::JsonValue* s = all->find(model->config().labels[k]);
      REQUIRE(s != nullptr);
      CHECK(s->as_number("score") == doctest::Approx(p[k]).epsilon(1e-7));
    }
    CHECK(v.find("labels") == nullptr);  // multi-label only
  }
  // One TEXT gives one line too.
  const test::RunResult one = nystrom_cli("classify -m " + quote(model_path) + " " + quote(kLines[1]));
  CHECK(one.out == lines[1] + "\n");
}

TEST_CASE("cli text: fill-mask prints the top-k tokens and probabilities of each mask, best first") {
  const std::string model_path = converted("tiny-mlm");
  const std::string text = "the [MASK] sat on the [MASK] .";
  const test::RunResult r = nystrom_cli("fill-mask -m " + quote(model_path) + " --top-k 3 " + quote(text));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 6);

  auto model = nystrom::Model::open(model_path);
  const nystrom::Tokenizer* tok = model->tokenizer();
  const std::vector<int32_t> ids = tok->encode(text);
  nystrom::Session session(model);
  const nystrom::Output out = session.run(ids);
  const size_t V = model->config().vocab_size;
  int mask_no = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    if (ids[t] != texttest::kMask) continue;
    ++mask_no;
    const std::vector<double> p = softmax(out.logits.data() + t * V, V);
    std::vector<int32_t> order(V);
    for (size_t i = 0; i < V; ++i) order[i] = (int32_t)i;
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[a] > p[b]; });
    for (int k = 0; k < 3; ++k) {
      CAPTURE(mask_no);
      CAPTURE(k);
      CHECK(lines[(mask_no - 1) * 3 + k] ==
            std::to_string(mask_no) + "\t" + tok->id_to_token(order[k]) + "\t" + fixed4(p[order[k]]));
    }
  }
  CHECK(mask_no == 2);

  const test::RunResult j = nystrom_cli("fill-mask --json -m " + quote(model_path) + " " + quote(text));
  REQUIRE_MESSAGE(j.exit_code == 0, j.err);
  // One list per mask of {score, token, token_str, sequence}, as Hugging
  // Face's fill-mask pipeline names them.
  const nystrom::JsonValue v = nystrom::parse_json(j.out, "fill-mask --json");
  REQUIRE(v.is_array());
  REQUIRE(v.array.size() == 2);
  const nystrom::JsonValue& cands = v.array[1];
  REQUIRE(cands.array.size() == 5);  // the default top-k
  const std::vector<std::string> second = fields_of(lines[3]);
  const nystrom::JsonValue& top = cands.array[0];
  const int32_t id = (int32_t)top.find("token")->as_int("token");
  CHECK(tok->id_to_token(id) == second[1]);
  CHECK(fixed4(top.find("score")->as_number("score")) == second[2]);
  CHECK(top.find("token_str")->as_string("token_str") == tok->decode({id}));
  std::vector<int32_t> filled = ids;
  filled[std::find(ids.rbegin(), ids.rend(), texttest::kMask).base() - ids.begin() - 1] = id;
  CHECK(top.find("sequence")->as_string("sequence") == tok->decode(filled));
  for (size_t k = 1; k < cands.array.size(); ++k)
    CHECK(cands.array[k].find("score")->as_number("s") <= cands.array[k - 1].find("score")->as_number("s"));
}

TEST_CASE("cli text: embed writes [inputs, hidden] float32 equal to Session::run and pool_embedding") {
  const std::string model_path = converted("small-cls");
  test::TempDir dir;
  auto model = nystrom::Model::open(model_path);
  nystrom::Session session(model);
  for (const char* pool : {"cls", "mean"}) {
    CAPTURE(pool);
    const std::string out = dir / (std::string(pool) + ".npy");
    const test::RunResult r = nystrom_cli("embed -m " + quote(model_path) + " --pool " + pool + " -f " +
                                          quote(lines_file(dir)) + " -o " + quote(out));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::vector<uint64_t> shape;
    const std::vector<float> got = nystrom::read_npy_f32(out, &shape);
    CHECK(shape == std::vector<uint64_t>{kLines.size(), 128});
    std::vector<float> expected;
    for (const std::string& l : kLines) {
      const auto e = nystrom::pool_embedding(session.run(model->tokenizer()->encode(l)),
                                             pool[0] == 'c' ? nystrom::Pooling::First : nystrom::Pooling::Mean);
      expected.insert(expected.end(), e.begin(), e.end());
    }
    CHECK(got == expected);  // bit for bit: outputs do not depend on the thread count
  }
  // One TEXT: one row; the default pool is cls.
  REQUIRE(nystrom_cli("embed -m " + quote(model_path) + " " + quote(kLines[0]) + " -o " + quote(dir / "one.npy"))
              .exit_code == 0);
  std::vector<uint64_t> shape;
  const std::vector<float> one = nystrom::read_npy_f32(dir / "one.npy", &shape);
  CHECK(shape == std::vector<uint64_t>{1, 128});
  const std::vector<float> all = nystrom::read_npy_f32(dir / "cls.npy");
  CHECK(one == std::vector<float>(all.begin(), all.begin() + 128));
}

TEST_CASE("cli text: an input longer than the model's positions is an error unless --truncate") {
  const std::string model_path = converted("small-cls");  // 256 positions
  std::string words;
  for (int i = 0; i < 300; ++i) words += i % 2 ? " cat" : " dog";
  test::TempDir dir;
  const std::string file = lines_file(dir, {"the cat", words, "a dog"});
  for (const char* cmd : {"tokenize", "classify", "embed -o " /* path below */}) {
    CAPTURE(cmd);
    std::string c = cmd;
    if (c.rfind("embed", 0) == 0) c += quote(dir / "e.npy");
    check_error(nystrom_cli(c + " -m " + quote(model_path) + " -f " + quote(file)),
                "input.txt line 2: more tokens than the model's 256 positions (special tokens included; --truncate");
    CHECK_FALSE(test::exists(dir / "e.npy"));
  }
  const test::RunResult t = nystrom_cli("tokenize --truncate -m " + quote(model_path) + " -f " + quote(file));
  REQUIRE_MESSAGE(t.exit_code == 0, t.err);
  const auto lines = lines_of(t.out);
  REQUIRE(lines.size() == 3);
  const auto ids = lines_of(lines[1]);
  std::vector<int32_t> expected = {texttest::kCls};
  for (int i = 0; i < 254; ++i) expected.push_back(word_id(i % 2 ? "cat" : "dog"));
  expected.push_back(texttest::kSep);
  CHECK(lines[1] == ids_line(expected));
  std::vector<int32_t> plain(expected.begin() + 1, expected.end() - 1);
  CHECK(lines_of(nystrom_cli("tokenize --truncate --no-special -m " + quote(model_path) + " -f " + quote(file)).out)[1] ==
        ids_line(plain));
  const test::RunResult c = nystrom_cli("classify --truncate -m " + quote(model_path) + " -f " + quote(file));
  CHECK_MESSAGE(c.exit_code == 0, c.err);
  CHECK(lines_of(c.out).size() == 3);
}

TEST_CASE("cli text: wrong models, inputs and options give clear errors") {
  const std::string cls = converted("small-cls"), mlm = converted("tiny-mlm");
  test::TempDir dir;
  check_error(nystrom_cli("classify -m " + quote(mlm) + " 'the cat'"), "has no classifier head (it is a masked-LM model)");
  check_error(nystrom_cli("fill-mask -m " + quote(cls) + " 'the [MASK]'"), "has no masked-LM head (it is a classifier)");
  check_error(nystrom_cli("fill-mask -m " + quote(mlm) + " 'the cat'"), "the text: no mask token [MASK] in the text");
  check_error(nystrom_cli("classify -m " + quote(cls) + " -f " + quote(lines_file(dir, {"the cat", " ", "a dog"}))),
              "input.txt line 2: blank line");
  check_error(nystrom_cli("tokenize -m " + quote(cls) + " ''"), "the text is blank");
  check_error(nystrom_cli("tokenize -m " + quote(cls) + " -f " + quote(dir / "absent.txt")), "absent.txt");
  check_error(nystrom_cli("tokenize -m " + quote(dir / "absent.nyf") + " 'the cat'"), "absent.nyf");

  check_error(test::run("(" + test::tool("nystrom") + " tokenize -m " + quote(cls) + " 'the cat' >/dev/full)"),
              "cannot write standard output");

  for (const std::string& args : {"classify -m " + quote(cls), "classify -m " + quote(cls) + " a b",
                                  std::string("classify 'the cat'"), "classify -m " + quote(cls) + " -f x.txt 'the cat'",
                                  "embed -m " + quote(cls) + " --format npy 'the cat'",
                                  "embed -m " + quote(cls) + " --pool max 'a' -o x.npy",
                                  "fill-mask -m " + quote(mlm) + " --top-k 0 'the [MASK]'",
                                  "tokenize -m " + quote(cls) + " --threads 0 'the cat'"}) {
    CAPTURE(args);
    const test::RunResult r = nystrom_cli(args);
    CHECK(r.exit_code == 2);
    CHECK(lines_of(r.err).size() == 1);
    // The help that helps is the command's own.
    const std::string cmd = args.substr(0, args.find(' '));
    CHECK(r.err.find("(see nystrom " + cmd + " --help)") != std::string::npos);
  }
}

TEST_CASE("cli text: --verbose prints load time, tokens, tokens per second and peak memory on stderr") {
  const std::string model_path = converted("small-cls");
  const test::RunResult r = nystrom_cli("classify --verbose --threads 1 -m " + quote(model_path) + " 'the cat sat'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(lines_of(r.out).size() == 1);
  for (const char* phrase : {"load:", "tokens:      5 in 1 input", "tokens/s", "peak memory:", "threads 1"}) {
    CAPTURE(phrase);
    CHECK(r.err.find(phrase) != std::string::npos);
  }
  const test::RunResult t = nystrom_cli("tokenize -v -m " + quote(model_path) + " 'the cat sat'");
  CHECK(t.err.find("peak memory:") != std::string::npos);
  CHECK(t.err.find("model:") == std::string::npos);  // tokenize runs no model
}
