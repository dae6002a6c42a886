// nystrom-bench --json: one run carries every figure issue #14 asks for
// (peaks, GEMM efficiency per weight type, the split of a layer, forward
// times per type, batch throughput, peak memory) and its goals in the
// engine's terms; and the batch section's table. Smoke sizes (--quick): the
// figures are checked for presence and consistency, never for speed.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "cli_support.h"
#include "nystrom/nystrom.h"
#include "runtime/json.h"
#include "support.h"

namespace {

using nystrom::JsonValue;
using test::quote;

const std::vector<JsonValue>& rows_of(const JsonValue& doc, const char* section) {
  const JsonValue* s = doc.find(section);
  if (!s || !s->is_array()) throw std::runtime_error(std::string("no section ") + section);
  return s->array;
}

std::string text(const JsonValue& row, const char* key) {
  const JsonValue* v = row.find(key);
  return v && v->is_string() ? v->string : std::string();
}

double number(const JsonValue& row, const char* key) {
  const JsonValue* v = row.find(key);
  if (!v || !v->is_number()) throw std::runtime_error(std::string("no number ") + key);
  return v->number;
}

std::set<std::string> weights_in(const std::vector<JsonValue>& rows) {
  std::set<std::string> w;
  for (const JsonValue& r : rows) w.insert(text(r, "weights"));
  return w;
}

// The first row whose string field key is value and whose number field
// "n" is n (any n when n < 0); nullptr if none.
const JsonValue* row_with(const std::vector<JsonValue>& rows, const char* key, const std::string& value, int n = -1,
                          const char* key2 = nullptr, const std::string& value2 = "") {
  for (const JsonValue& r : rows)
    if (text(r, key) == value && (n < 0 || (r.find("n") && r.find("n")->number == n)) &&
        (!key2 || text(r, key2) == value2))
      return &r;
  return nullptr;
}

bool includes(const std::set<std::string>& have, const std::set<std::string>& want) {
  for (const std::string& w : want)
    if (!have.count(w)) return false;
  return true;
}

}  // namespace

TEST_CASE("nystrom-bench --quick --json: one document with peaks, GEMMs per type, layer split, forwards, batch, "
          "memory and the goals") {
  if (!test::tool_prefix().empty()) {
    MESSAGE("skipped under an emulator: base-size forwards take minutes there (and no kernel is involved)");
    return;
  }
  test::TempDir dir;
  const test::RunResult r = test::run("TMPDIR=" + quote(dir.path) + " " + test::tool("nystrom-bench") + " --quick --repeat 1 --json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const JsonValue doc = nystrom::parse_json(r.out, "bench output");

  // Peaks: f32 FMA always; the int8 dot-product peak wherever avx512 runs.
  const std::vector<JsonValue>& peak = rows_of(doc, "peak");
  const JsonValue* fma = row_with(peak, "kind", "f32_fma");
  REQUIRE(fma);
  CHECK(number(*fma, "gflops") > 0);
  const bool int8 = row_with(peak, "isa", "avx512") != nullptr;
  if (int8) CHECK(number(*row_with(peak, "kind", "int8_vnni"), "gflops") > 0);

  // GEMM efficiency for f32 and each quantized type.
  const std::vector<JsonValue>& gemm = rows_of(doc, "gemm");
  CHECK(includes(weights_in(gemm), {"f32", "q8_0", "q4_0"}));
  for (const JsonValue& g : gemm) {
    CAPTURE(text(g, "weights"));
    if (text(g, "weights") == "f32") CHECK(number(g, "pct_peak") > 0);
    else if (int8) CHECK(number(g, "pct_int8_peak") > 0);
  }

  // The split of a layer per GEMM type at n = 512: parts that add up to the
  // whole, and the GEMM share and efficiency in a total row.
  const std::vector<JsonValue>& layer = rows_of(doc, "layer");
  for (const char* w : {"f32", "q8_0", "q4_0"}) {
    CAPTURE(w);
    const JsonValue* total = row_with(layer, "weights", w, 512, "part", "total");
    REQUIRE(total);
    double shares = 0;
    for (const char* part : {"projections", "attention", "ffn", "norms", "other"}) {
      const JsonValue* p = row_with(layer, "weights", w, 512, "part", part);
      REQUIRE(p);
      shares += number(*p, "share");
    }
    CHECK(shares == doctest::Approx(1).epsilon(1e-3));
    const double gemm_share = number(*total, "gemm_share"), outside = number(*total, "outside_gemm_share");
    CHECK(gemm_share > 0);
    CHECK(outside > 0);
    CHECK(gemm_share + outside == doctest::Approx(1).epsilon(1e-3));
    CHECK(number(*total, "gemm_gops") > 0);
    if (std::string(w) == "f32" || int8) CHECK(number(*total, "gemm_pct_peak") > 0);
  }

  // Forward times per type (every type the library has), with the f32 time
  // against its FLOP time at the measured peak.
  const std::vector<JsonValue>& forward = rows_of(doc, "forward");
  CHECK(includes(weights_in(forward), {"f32", "f16", "q8_0", "q4_0"}));
  const JsonValue* f32 = nullptr;
  for (const JsonValue& f : forward)
    if (text(f, "weights") == "f32" && number(f, "n") == 512) f32 = &f;  // the last: the most threads
  REQUIRE(f32);
  CHECK(number(*f32, "ms") > 0);
  CHECK(number(*f32, "time_vs_peak") > 0);
  // The floor of an f32 pass is its FLOP time at the f32 peak; an 8-bit
  // pass's counts its GEMMs at the int8 peak where there is one, a floor
  // lower than its FLOPs at the f32 peak (the int8 peak was 2x the f32 one
  // on an Intel Xeon, 4x on a Zen 4 EPYC, whose f32 FMAs run at half rate).
  CHECK(number(*f32, "time_vs_floor") == doctest::Approx(number(*f32, "time_vs_peak")));
  for (const JsonValue& f : forward)
    if (text(f, "weights") == "q8_0") {
      CHECK(number(f, "time_vs_floor") > 0);
      if (int8) CHECK(number(f, "time_vs_floor") > 1.2 * number(f, "time_vs_peak"));
    }
  // Each pass's split: the share of its fastest run in the GEMMs, and their
  // rate against the peak of their kind.
  const JsonValue* q8_forward = nullptr;
  for (const JsonValue& f : forward) {
    CAPTURE(text(f, "weights"));
    CHECK(number(f, "gemm_share") > 0);
    CHECK(number(f, "gemm_share") < 1);
    const bool eight_bit = text(f, "weights") != "f32" && text(f, "weights") != "f16";
    CHECK(text(f, "peak_kind") == (eight_bit ? "int8_vnni" : "f32_fma"));
    if (!eight_bit || int8) CHECK(number(f, "gemm_pct_peak") > 0);
    if (text(f, "weights") == "q8_0" && number(f, "n") == 512) q8_forward = &f;  // the last: the most threads
  }
  REQUIRE(q8_forward);

  // Batch throughput, 64 x 32 tokens against one 512-token input, per type.
  const std::vector<JsonValue>& batch = rows_of(doc, "batch");
  CHECK(weights_in(batch) == weights_in(forward));
  for (const JsonValue& b : batch) {
    CAPTURE(text(b, "weights"));
    CHECK(number(b, "batch_size") == 64);
    CHECK(number(b, "batch_n") == 32);
    CHECK(number(b, "single_n") == 512);
    CHECK(number(b, "batch_tokens_per_s") == doctest::Approx(64 * 32 / number(b, "batch_ms") * 1e3).epsilon(1e-3));
    CHECK(number(b, "single_tokens_per_s") == doctest::Approx(512 / number(b, "single_ms") * 1e3).epsilon(1e-3));
    CHECK(number(b, "batch_vs_single") ==
          doctest::Approx(number(b, "batch_tokens_per_s") / number(b, "single_tokens_per_s")).epsilon(1e-3));
  }

  // The memory section's q8_0 rows (n = 65536 at full size, 4096 here).
  const std::vector<JsonValue>& memory = rows_of(doc, "memory");
  REQUIRE(!memory.empty());
  CHECK(number(memory.back(), "n") == 4096);
  CHECK(number(memory.back(), "peak_rss_mb") > 0);

  // The goals, each the figure of its section.
  const std::vector<JsonValue>& targets = rows_of(doc, "targets");
  auto target = [&](const char* figure, const char* weights, int n) {
    const JsonValue* t = row_with(targets, "figure", figure, n, "weights", weights);
    if (!t) throw std::runtime_error(std::string("no target ") + figure + " " + weights);
    CHECK(t->find("met")->is_bool());
    return number(*t, "value");
  };
  // The GEMM goals speak of the pass: the forward section's figures (the
  // layer section's when it did not run: below), for the 8-bit types only.
  for (const JsonValue& t : targets)
    if (text(t, "figure") == "gemm_pct_int8_peak_in_model" || text(t, "figure") == "outside_gemm_share_of_int8_pass") {
      CAPTURE(text(t, "weights"));
      CHECK((text(t, "weights") == "q8_0" || text(t, "weights") == "q4_0" || text(t, "weights") == "q8_c"));
    }
  CHECK(target("outside_gemm_share_of_int8_pass", "q8_0", 512) ==
        doctest::Approx(1 - number(*q8_forward, "gemm_share")));
  if (int8)
    CHECK(target("gemm_pct_int8_peak_in_model", "q8_0", 512) ==
          doctest::Approx(number(*q8_forward, "gemm_pct_peak")));
  CHECK(target("f32_pass_vs_flop_time_at_fma_peak", "f32", 512) == doctest::Approx(number(*f32, "time_vs_peak")));
  CHECK(target("batch_vs_single_tokens_per_s", "f32", 32) ==
        doctest::Approx(number(*row_with(batch, "weights", "f32"), "batch_vs_single")));
  // The 64k memory goal needs the full-size row, which --quick does not run.
  CHECK_FALSE(row_with(targets, "figure", "peak_rss_mb"));
}

TEST_CASE("nystrom-bench --sections peak,layer --quick --json: with no forward passes, the GEMM goals are the one "
          "layer's") {
  if (!test::tool_prefix().empty()) {
    MESSAGE("skipped under an emulator: base-size layers take minutes there (and no kernel is involved)");
    return;
  }
  test::TempDir dir;
  const test::RunResult r = test::run("TMPDIR=" + quote(dir.path) + " " + test::tool("nystrom-bench") +
                                      " --sections peak,layer --types q8_0 --quick --repeat 1 --json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const JsonValue doc = nystrom::parse_json(r.out, "bench output");
  CHECK_FALSE(doc.find("forward"));
  const JsonValue* total = row_with(rows_of(doc, "layer"), "weights", "q8_0", 512, "part", "total");
  REQUIRE(total);
  const JsonValue* outside = row_with(rows_of(doc, "targets"), "figure", "outside_gemm_share_of_int8_pass", 512,
                                      "weights", "q8_0");
  REQUIRE(outside);
  CHECK(number(*outside, "value") == doctest::Approx(number(*total, "outside_gemm_share")));
}

TEST_CASE("nystrom-bench --sections batch --quick: prints the batch table alone, a row per weight type") {
  if (!test::tool_prefix().empty()) {
    MESSAGE("skipped under an emulator: base-size forwards take minutes there (and no kernel is involved)");
    return;
  }
  test::TempDir dir;
  const test::RunResult r =
      test::run("TMPDIR=" + quote(dir.path) + " " + test::tool("nystrom-bench") + " --sections batch --quick");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::vector<std::string> lines = test::lines_of(r.out);
  size_t at = 0;
  while (at < lines.size() && lines[at].rfind("== Short inputs: 64 x 32 tokens with Session::run_batch", 0) != 0) ++at;
  REQUIRE(at + 1 < lines.size());
  CHECK(lines[at + 1].find("single tok/s") != std::string::npos);
  std::set<std::string> types;
  for (size_t i = at + 2; i < lines.size() && !lines[i].empty(); ++i) {
    CAPTURE(lines[i]);
    char name[16];
    double single_ms, single_tps, batch_ms, batch_tps, ratio;
    REQUIRE(std::sscanf(lines[i].c_str(), "%15s %lf %lf %lf %lf %lf", name, &single_ms, &single_tps, &batch_ms,
                        &batch_tps, &ratio) == 6);
    types.insert(name);
    CHECK(single_tps == doctest::Approx(512 / single_ms * 1e3).epsilon(0.01));
    CHECK(batch_tps == doctest::Approx(64 * 32 / batch_ms * 1e3).epsilon(0.01));
    CHECK(ratio == doctest::Approx(batch_tps / single_tps).epsilon(0.01));
  }
  CHECK(includes(types, {"f32", "f16", "q8_0", "q4_0"}));
  // No other measuring section ran; the goals table shows the batch ratios.
  for (const std::string& l : lines)
    if (l.rfind("== ", 0) == 0)
      CHECK((l.find("== Short inputs") == 0 || l.find("== Issue #14's goals") == 0));
  CHECK(r.out.find("batch_vs_single_tokens_per_s") != std::string::npos);
}

TEST_CASE("nystrom-bench -m --attention-precision: the run uses and reports it; an unknown one is a usage error") {
  const std::string model = clitest::converted("tiny-mlm");
  for (const char* p : {"f32", "int8", "bf16"}) {
    CAPTURE(std::string(p));
    const test::RunResult r = test::run(test::tool("nystrom-bench") + " -m " + quote(model) +
                                        " --n 37 --attention nystrom --repeat 1 --json --attention-precision " + p);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const JsonValue doc = nystrom::parse_json(r.out, "bench output");
    REQUIRE(doc.find("attention_precision") != nullptr);
    CHECK(doc.find("attention_precision")->string == p);
  }
  const test::RunResult bad = test::run(test::tool("nystrom-bench") + " -m " + quote(model) +
                                        " --n 37 --attention-precision fp8");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--attention-precision must be f32, int8 or bf16") != std::string::npos);
}

TEST_CASE("nystrom-bench -m --json: the pass's GEMM and attention operations, for every sequence of a batch") {
  // tiny-mlm: n = 8 runs exact attention (n <= m), n = 37 Nystrom.
  const std::string model = clitest::converted("tiny-mlm");
  const nystrom::ModelConfig c = nystrom::Model::open(model)->config();
  const double D = c.hidden_size, I = c.intermediate_size, H = c.num_heads, L = c.num_layers, d = D / H,
               m = c.num_landmarks;
  struct Case {
    int n, batch;
    double attention_per_layer;  // FLOPs, written out from SPEC's products
  };
  const Case cases[] = {
      {8, 1, H * 4.0 * 8 * 8 * d},  // Q K^T and P V
      {37, 3, H * (4 * 2.0 * 37 * m * d + 2.0 * 37 * m * m + 6 * 4 * 2.0 * m * m * m)},  // F, B, B V, (F Z)(B V); F Z; pinv
  };
  for (const Case& k : cases) {
    CAPTURE(k.n);
    const test::RunResult r = test::run(test::tool("nystrom-bench") + " -m " + quote(model) + " --n " +
                                        std::to_string(k.n) + " --batch " + std::to_string(k.batch) +
                                        " --repeat 1 --json");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const JsonValue doc = nystrom::parse_json(r.out, "bench output");
    const double gemm = k.batch * L * 2.0 * k.n * (4 * D * D + 2 * D * I);
    CHECK(number(doc, "gemm_gflop") == doctest::Approx(gemm / 1e9).epsilon(1e-3));
    CHECK(number(doc, "attention_gflop") == doctest::Approx(k.batch * L * k.attention_per_layer / 1e9).epsilon(1e-3));
  }
}
