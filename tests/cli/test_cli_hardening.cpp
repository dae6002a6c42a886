// The tools against a hostile but fair user (issue 15): label names that
// would break the one-line-per-input output, weights that overflow, thread
// counts past the CPUs, instruction sets the machine lacks, odd line endings
// and input streams, over-long lines, too little memory, and the bench's
// command line.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_support.h"
#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/nystrom.h"
#include "runtime/thread_pool.h"
#include "support.h"

namespace {

using clitest::check_error;
using clitest::converted;
using clitest::nystrom_cli;
using test::lines_of;
using test::quote;

// text with every `from` replaced by `to`.
std::string replaced_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// A one-line usage error (exit 2) holding phrase.
void check_usage_error(const test::RunResult& r, const std::string& phrase) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(phrase) != std::string::npos);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("cli classify: label names are escaped in the plain output, one line per input; JSON keeps them exact") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "small-cls", texttest::tokenizer_json(1000));
  std::string config = test::slurp(folder + "/config.json");
  config = replaced_all(config, "\"LABEL_0\"", "\"zero\\nline\"");
  config = replaced_all(config, "\"LABEL_1\"", "\"one\\ttab\"");
  config = replaced_all(config, "\"LABEL_2\"", "\"two\\\\back\\u0001\"");
  test::write_file(folder + "/config.json", config);
  const test::RunResult c = test::convert(folder, dir / "m.nyf");
  REQUIRE_MESSAGE(c.exit_code == 0, c.err);  // the converter keeps them: a checkpoint may have them
  const std::vector<std::string> inputs = {"the cat sat on the mat .", "a very good movie", "the dog", "a cat"};
  std::string text;
  for (const std::string& l : inputs) text += l + "\n";
  test::write_file(dir / "in.txt", text);
  const test::RunResult r = nystrom_cli("classify -m " + quote(dir / "m.nyf") + " -f " + quote(dir / "in.txt"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == inputs.size());
  for (const std::string& line : lines) {
    CAPTURE(line);
    const std::string label = line.substr(0, line.find('\t'));
    CHECK(std::count(line.begin(), line.end(), '\t') == 1);
    CHECK((label == "zero\\nline" || label == "one\\ttab" || label == "two\\\\back\\x01"));
  }
  const test::RunResult j = nystrom_cli("classify --json -m " + quote(dir / "m.nyf") + " -f " + quote(dir / "in.txt"));
  REQUIRE_MESSAGE(j.exit_code == 0, j.err);
  CHECK(lines_of(j.out).size() == inputs.size());
}

TEST_CASE("cli/api: weights that overflow float32 are an error naming the first layer whose output is not finite") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "small-cls", texttest::tokenizer_json(1000));
  nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(folder);
  const nystrom::CheckpointTokenizer tok = nystrom::read_hf_tokenizer(folder, ck.config);
  bool found = false;
  for (nystrom::TensorData& t : ck.tensors) {
    if (t.name != "encoder.layer.1.intermediate.dense.weight") continue;
    float* w = reinterpret_cast<float*>(t.bytes.data());
    for (size_t i = 0; i < t.bytes.size() / 4; ++i) w[i] = i % 2 ? 3e38f : -3e38f;  // finite, but huge
    found = true;
  }
  REQUIRE(found);
  const std::string path = dir / "huge.nyf";
  nystrom::write_model_file(path, ck.config, ck.tensors, tok.views());

  for (const char* cmd : {"classify --json", "classify", "embed -o " /* path below */}) {
    CAPTURE(cmd);
    std::string c = cmd;
    if (c.rfind("embed", 0) == 0) c += quote(dir / "e.npy");
    check_error(nystrom_cli(c + " -m " + quote(path) + " 'the cat sat'"),
                "encoder layer 1 output holds NaN or infinity");
    CHECK_FALSE(test::exists(dir / "e.npy"));
  }
  auto model = nystrom::Model::open(path);
  nystrom::Session s(model);
  CHECK(test::error_of([&] { s.run({0, 5, 6, 2}); }).find("encoder layer 1 output holds NaN or infinity") == 0);
}

TEST_CASE("cli: a thread count above the CPUs available is capped, and --verbose says so") {
  const int cpus = nystrom::default_thread_count();
  if (cpus >= 1024) {
    MESSAGE("skipped: this machine has 1024 CPUs or more");
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const test::RunResult r =
      nystrom_cli("classify --threads 1024 --verbose -m " + quote(converted("small-cls")) + " 'the cat sat'");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.find("threads:     1024 requested, capped to " + std::to_string(cpus)) != std::string::npos);
  CHECK(r.err.find("(threads " + std::to_string(cpus) + ",") != std::string::npos);
  CHECK(seconds < 5);  // 1024 threads on 2 CPUs took 6 to 36 s
}

TEST_CASE("cli: int8 attention that cannot run says so under --verbose") {
  // tiny-mlm's heads are 16 wide; int8 needs a multiple of 32.
  const test::RunResult r = nystrom_cli("fill-mask --verbose --attention nystrom --attention-precision int8 -m " +
                                        quote(converted("tiny-mlm")) + " 'the [MASK] sat'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.find("int8 needs a head size that is a multiple of 32 (this model's is 16); f32 runs") !=
        std::string::npos);
  // small-cls's heads are 32 wide: int8 runs, nothing to say.
  const test::RunResult ok = nystrom_cli("classify --verbose --attention nystrom --attention-precision int8 -m " +
                                         quote(converted("small-cls")) + " 'the cat'");
  REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
  CHECK(ok.err.find("int8 needs") == std::string::npos);
}

TEST_CASE("cli: an instruction set the build or the CPU lacks is a usage error naming those available") {
#if defined(__aarch64__)
  const char* missing = "avx2";
#else
  const char* missing = "neon";
#endif
  check_usage_error(nystrom_cli("classify --isa " + std::string(missing) + " -m " + quote(converted("small-cls")) +
                                " 'the cat'"),
                    "--isa " + std::string(missing) + " is not available here (this build and CPU have: scalar");
  check_usage_error(nystrom_cli("classify --isa sse9 -m " + quote(converted("small-cls")) + " 'the cat'"),
                    "--isa sse9 is not available here");
  // An unknown NYSTROM_ISA: one line, whatever else would have gone wrong.
  check_usage_error(test::run("NYSTROM_ISA=bogus " + test::tool("nystrom") + " run -m missing.nyf --ids-npy x "
                                                                            "--out-dir y"),
                    "NYSTROM_ISA=bogus is not one of scalar, avx2, avx512, neon");
}

TEST_CASE("cli -f: LF, CRLF and a lone CR each end a line") {
  test::TempDir dir;
  test::write_file(dir / "mixed.txt", "the cat\rthe dog\r\na movie\nsat on the mat\r");
  test::write_file(dir / "lf.txt", "the cat\nthe dog\na movie\nsat on the mat\n");
  const std::string model = quote(converted("small-cls"));
  const test::RunResult mixed = nystrom_cli("tokenize -m " + model + " -f " + quote(dir / "mixed.txt"));
  const test::RunResult lf = nystrom_cli("tokenize -m " + model + " -f " + quote(dir / "lf.txt"));
  REQUIRE_MESSAGE(mixed.exit_code == 0, mixed.err);
  CHECK(lines_of(mixed.out).size() == 4);
  CHECK(mixed.out == lf.out);
  // A blank line between CRs is still a blank line.
  test::write_file(dir / "blank.txt", "the cat\r\rthe dog\r");
  check_error(nystrom_cli("tokenize -m " + model + " -f " + quote(dir / "blank.txt")), "blank.txt line 2: blank line");
}

TEST_CASE("cli -f: any readable stream will do: /dev/stdin, a pipe, a process substitution") {
  test::TempDir dir;
  test::write_file(dir / "in.txt", "the cat\na movie\n");
  const std::string base = test::tool("nystrom") + " tokenize -m " + quote(converted("small-cls")) + " -f ";
  const test::RunResult file = test::run(base + quote(dir / "in.txt"));
  REQUIRE_MESSAGE(file.exit_code == 0, file.err);
  for (const std::string& cmd : {base + "/dev/stdin < " + quote(dir / "in.txt"),
                                 "cat " + quote(dir / "in.txt") + " | " + base + "/dev/stdin",
                                 "cat " + quote(dir / "in.txt") + " | " + base + "-",
                                 "bash -c " + quote(base + "<(cat " + quote(dir / "in.txt") + ")")}) {
    CAPTURE(cmd);
    const test::RunResult r = test::run(cmd);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out == file.out);
  }
  ::mkdir((dir / "folder").c_str(), 0777);
  check_error(test::run(base + quote(dir / "folder")), "is a folder, not a file");
}

TEST_CASE("cli -f: a line longer than 1 MiB is refused naming it; one of 1 MiB is tokenized only as far as needed") {
  test::TempDir dir;
  const std::string model = quote(converted("small-cls"));
  std::string line;
  while (line.size() < (1u << 20)) line += "cat ";
  line.resize(1u << 20);
  test::write_file(dir / "limit.txt", "the dog\n" + line + "\n");
  test::write_file(dir / "over.txt", "the dog\n" + line + "x\n");
  check_error(nystrom_cli("tokenize --truncate -m " + model + " -f " + quote(dir / "over.txt")),
              "over.txt line 2: longer than the limit of 1048576 bytes");
  const test::RunResult r = nystrom_cli("tokenize --truncate --verbose -m " + model + " -f " + quote(dir / "limit.txt"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(std::count(lines[1].begin(), lines[1].end(), ' ') == 255);  // 256 ids: the model's positions
  check_error(nystrom_cli("tokenize -m " + model + " -f " + quote(dir / "limit.txt")),
              "limit.txt line 2: more tokens than the model's 256 positions");
}

TEST_CASE("cli: running out of memory is one line and exit status 1 (ulimit -v)") {
  if (test::under_sanitizer() || test::under_emulator()) {
    MESSAGE("skipped: sanitizers and qemu reserve more address space than the limit");
    return;
  }
  test::TempDir dir;
  // A valid .npy of 50 million int64 ids (a sparse file): reading it needs
  // 400 MB, more than the limit below lets the tool have.
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (50000000,), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string prefix = std::string("\x93NUMPY\x01\x00", 8);
  prefix += (char)(header.size() & 0xff);
  prefix += (char)(header.size() >> 8);
  test::write_file(dir / "ids.npy", prefix + header);
  REQUIRE(::truncate((dir / "ids.npy").c_str(), (off_t)(prefix.size() + header.size()) + 400000000) == 0);
  const std::string cmd = "ulimit -v 200000; " + test::tool("nystrom") + " run -m " + quote(converted("tiny-mlm")) +
                          " --ids-npy " + quote(dir / "ids.npy") + " --out-dir " + quote(dir / "out");
  const test::RunResult r = test::run("bash -c " + quote(cmd));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("out of memory") != std::string::npos);
  CHECK(r.err.find("std::") == std::string::npos);
  CHECK_FALSE(test::exists(dir / "out"));
}

TEST_CASE("nystrom-convert: --pure without a quantized type is a usage error, and writes nothing") {
  test::TempDir dir;
  const std::string folder = test::testdata_dir() + "/small-cls";
  for (const char* type : {"f32", "f16"}) {
    CAPTURE(type);
    check_usage_error(test::run(test::tool("nystrom-convert") + " " + quote(folder) + " -o " + quote(dir / "m.nyf") +
                                " --pure --type " + type),
                      "--pure goes with --type q8_0, q4_0 or q8_c");
    CHECK_FALSE(test::exists(dir / "m.nyf"));
  }
}

TEST_CASE("nystrom-bench: an unknown section is a usage error, also with --model") {
  const std::string bench = test::tool("nystrom-bench");
  check_usage_error(test::run(bench + " --sections bogus"), "unknown section 'bogus'");
  check_usage_error(test::run(bench + " --sections bogus --json"), "unknown section 'bogus'");
  check_usage_error(test::run(bench + " --sections peak,, "), "unknown section ''");
  check_usage_error(test::run(bench + " -m " + quote(converted("tiny-mlm")) + " --n 8 --sections gemm"),
                    "unknown section 'gemm' with --model (sections: forward, attention)");
  const test::RunResult m =
      test::run(bench + " -m " + quote(converted("tiny-mlm")) + " --n 8 --repeat 1 --json --sections attention");
  REQUIRE_MESSAGE(m.exit_code == 0, m.err);
  CHECK(m.out.find("\"attention_ms\"") != std::string::npos);
  CHECK(m.out.find("\"median_ms\"") == std::string::npos);  // forward was not asked for
}

TEST_CASE("nystrom-bench: with no arguments (or --json alone) it says what it runs and about how long, before it starts") {
  // Stopped a moment after it starts (the bench itself would run for
  // minutes): the line comes first.
  const test::RunResult r = test::run("timeout -s KILL 1.5 " + test::tool("nystrom-bench"));
  CHECK(r.exit_code != 0);
  const auto lines = test::lines_of(r.err);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0].find("nystrom-bench: running every section (peak, gemm,") == 0);
  CHECK(lines[0].find(" minutes on an idle 2-core machine") != std::string::npos);
  // --json alone runs the same full set, so it says so too.
  const auto json_lines = test::lines_of(test::run("timeout -s KILL 1.5 " + test::tool("nystrom-bench") + " --json").err);
  REQUIRE_FALSE(json_lines.empty());
  CHECK(json_lines[0].find("nystrom-bench: running every section (peak, gemm, layer, forward, batch,") == 0);
  // Not with arguments, and --help describes it.
  CHECK(test::run(test::tool("nystrom-bench") + " --sections bogus").err.find("running every section") ==
        std::string::npos);
  CHECK(test::run(test::tool("nystrom-bench") + " --help").out.find("With no arguments (or --json alone) it runs every section") !=
        std::string::npos);
}

TEST_CASE("nystrom-bench: TMPDIR is a path, never shell text (children start without a shell)") {
  if (!test::tool_prefix().empty()) {
    MESSAGE("skipped under an emulator: a base-size attention layer takes minutes there (and no kernel is involved)");
    return;
  }
  test::TempDir dir;
  const std::string tmp = dir / "a b;touch pwned";
  ::mkdir(tmp.c_str(), 0777);
  // Run from dir, where a shell would have run "touch pwned".
  const test::RunResult r = test::run("cd " + quote(dir.path) + " && TMPDIR=" + quote(tmp) + " " +
                                      clitest::absolute_tool("nystrom-bench") +
                                      " --quick --repeat 1 --json --sections attention");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK_FALSE(test::exists(dir / "pwned"));
  CHECK(r.out.find("\"nystrom_attention_ms\": -1") == std::string::npos);  // the children ran
}
