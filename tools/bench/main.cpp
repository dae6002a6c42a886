// nystrom-bench: how fast the engine runs on this machine, and how close to
// the machine's limit. Prints tables; --json prints the same figures as JSON.
//
// Sections (all by default, or pick with --sections):
//   peak       measured FMA peak per instruction set, 1 thread and all threads
//   gemm       GEMM GFLOP/s and % of peak for the base model's layer shapes
//   layer      time split of one base-size layer per GEMM weight type
//   forward    end-to-end forward of a base-size model, 1 and 2 threads
//   batch      64 x 32 tokens through Session::run_batch vs one 512-token input
//   attention  Nystrom vs exact attention: time and peak memory, one layer
//   memory     peak resident memory and time of a base-size q8_0 model up to 65536 tokens
//   quant_accuracy  cosine of f16, q8_0 and q4_0 vs f32 on the reference checkpoints
// then "targets": issue #14's goals in engine terms, from those figures.
// Or time a given model file: nystrom-bench -m MODEL.nyf --n N [--threads T] [--repeat R] --json
#include <sys/resource.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdarg>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../common/args.h"
#include "../common/attention_flags.h"
#include "base_model.h"
#include "child_process.h"
#include "scaling.h"
#include "nystrom/convert.h"
#include "nystrom/format.h"
#include "nystrom/io.h"
#include "nystrom/kernel_bench.h"
#include "nystrom/nystrom.h"

using namespace nystrom;
using Clock = std::chrono::steady_clock;
using format::DType;
using Isa = InstructionSet;

namespace {

const char kUsage[] =
    "usage: nystrom-bench [--sections LIST] [--threads T] [--repeat R] [--json]\n"
    "       nystrom-bench -m MODEL.nyf --n N [--batch B] [--sections forward,attention]\n"
    "                     [--threads T] [--repeat R] [--json]\n"
    "\n"
    "options:\n"
    "  --sections LIST   comma-separated: peak,gemm,layer,forward,batch,attention,\n"
    "                    attention_precision,memory,quant_accuracy (default:\n"
    "                    all; quant_accuracy reads tests/data/hf), or scaling\n"
    "                    alone (below); a last table, targets, compares what\n"
    "                    ran with the goals of issue #14; with\n"
    "                    --model: forward (default), attention (its time per\n"
    "                    forward, from the layers' profile)\n"
    "  --types LIST      weight types of the forward and batch sections (default:\n"
    "                    every type the library has; the gemm and layer sections\n"
    "                    take every type the GEMM workload takes)\n"
    "  --quick           smaller sizes (a smoke run, not for reporting)\n"
    "  -m, --model FILE  time this model's forward pass on random ids instead\n"
    "  --n N             input length for --model (default 512)\n"
    "  --batch B         with --model: time Session::run_batch of B random\n"
    "                    sequences of N tokens (min_ms and median_ms are for the\n"
    "                    whole batch; tokens_per_s = B x N / min)\n"
    "  (the memory section's n = 65536 row is the base q8_0 model's peak RSS\n"
    "  at 64k tokens: its peak_rss_mb field in --json)\n"
    "  --threads T       the largest thread count (default: CPUs available)\n"
    "  --repeat R        timed runs per figure after one warm-up (default 3); the minimum is reported\n"
    "  --attention MODE  auto, nystrom or exact (for --model)\n"
    "  --attention-precision P\n"
    "                    f32 (default), int8 or bf16: the Nystrom products' arithmetic\n"
    "                    (for --model; RunOptions::attention_precision)\n"
    "  --json            machine-readable output on stdout\n"
    "  -h, --help        show this help\n"
    "  --version         print the version\n"
    "\n"
    "With no arguments (or --json alone) it runs every section at full size,\n"
    "which takes roughly 10 minutes on an idle 2-core machine (much longer on a\n"
    "busy one; --quick for a smoke run), and says so on stderr before it starts.\n"
    "\n";

// The two numbers a child run of this binary prints (child_process.h);
// -1, -1 when the child fails.
struct Figures {
  double first = -1, second = -1;
};
Figures child_figures(const std::string& self, const std::vector<std::string>& args) {
  const std::vector<double> v = benchtool::child_numbers(self, args, 2);
  if (v.empty()) return {};
  return {v[0], v[1]};
}

using benchtool::random_ids_for;

// Every weight type the library names (dtype_name and parse_dtype agree on
// it), in code order: a type added to the format joins the bench without an
// edit here.
std::vector<DType> known_types() {
  std::vector<DType> types;
  for (uint32_t code = 0; code < 256; ++code) {
    DType back;
    if (parse_dtype(dtype_name(DType(code)), &back) && back == DType(code)) types.push_back(back);
  }
  return types;
}

// The quantized types the GEMM workload (and so the int8 path) takes.
std::vector<DType> quantized_gemm_types() {
  std::vector<DType> types;
  for (DType t : known_types()) {
    if (t == DType::F32) continue;
    try {
      bench::GemmWorkload probe(Isa::Scalar, t, 1, 1, 32, 1);
      types.push_back(t);
    } catch (const Error&) {
      // not a type the GEMM workload takes (f16)
    }
  }
  return types;
}

// Whether a weight type's linear layers run the integer GEMM, so that
// their figures are against the int8 peak: the types listed above.
bool int8_gemm_type(DType t) {
  static const std::vector<DType> quantized = quantized_gemm_types();
  return std::find(quantized.begin(), quantized.end(), t) != quantized.end();
}

// Cosine of two hidden states (summed in double, in order).
double cosine(const std::vector<float>& x, const std::vector<float>& y) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = x[i], b = y[i];
    ab += a * b, aa += a * a, bb += b * b;
  }
  return ab / std::sqrt(aa * bb);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Timing {
  double min_s = 0, median_s = 0;
};

// The fastest of several profiled runs of a session: its time and where it
// went (each run's profile its own). A minimum, like every timing here, so
// that a run the machine interrupted does not count: another tenant, or
// under `chrt -f` the kernel's real-time throttling (real-time tasks get
// 95% of each second; a throttled worker leaves its share of a loop to the
// caller, which then runs at one thread's speed).
struct ProfiledRun {
  double seconds = 1e300;
  LayerProfile profile;
};

void keep_fastest(Session& s, const std::vector<int32_t>& ids, ProfiledRun& best) {
  s.set_profiling(true);
  const auto t0 = Clock::now();
  s.run(ids);
  const double t = seconds_since(t0);
  if (t < best.seconds) best = {t, s.profile()};
  s.set_profiling(false);
}

template <typename Fn>
Timing time_it(int repeat, Fn&& fn) {
  fn();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = Clock::now();
    fn();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

long peak_rss_kb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// Collects rows for both the text tables and the JSON document.
struct Report {
  bool json = false;
  std::ostringstream doc;
  bool first_section = true;
  std::vector<std::string> rows;

  void section(const std::string& name, const std::string& title, const std::string& header) {
    if (json) {
      doc << (first_section ? "" : "],\n") << "\"" << name << "\": [";
      first_section = false;
    } else {
      std::printf("\n== %s\n%s\n", title.c_str(), header.c_str());
    }
    row_count = 0;
  }
  // A row: text for the table, key/value pairs for JSON.
  void row(const std::string& text, const std::vector<std::pair<std::string, std::string>>& fields) {
    if (json) {
      doc << (row_count++ ? ",\n  {" : "\n  {");
      for (size_t i = 0; i < fields.size(); ++i)
        doc << (i ? ", " : "") << "\"" << fields[i].first << "\": " << fields[i].second;
      doc << "}";
    } else {
      std::printf("%s\n", text.c_str());
      std::fflush(stdout);
    }
  }
  void finish() {
    if (json) std::printf("{%s%s}\n", doc.str().c_str(), first_section ? "" : "]");
  }
  int row_count = 0;
};

std::string q(const std::string& s) { return "\"" + s + "\""; }
// A JSON number; null for a figure that could not be computed (inf, nan).
std::string num(double v, int digits = 4) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}
std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// ---------------------------------------------------------------------------
// (a) FMA peak: every thread runs the FMA loop at once; GFLOP/s of all.

double measure_peak(Isa isa, int threads, bool int8 = false) {
  bench::PeakWorkload peak(isa, threads, int8);
  const long iters = 20'000'000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = Clock::now();
    const double flops = peak.run(iters);
    double s = seconds_since(t0);
    best = std::max(best, flops / s / 1e9);
  }
  return best;
}

// ---------------------------------------------------------------------------
// (b) GEMM: C[n x N] = A[n x K] W[N x K]^T + bias, as a linear layer runs it;
// with W block-quantized, x is quantized per row on the fly and the products
// are 8-bit integer dot products. W is packed once, untimed, as a model's
// weights are when it is opened.

double gemm_gflops(Isa isa, DType type, int threads, int n, int K, int N, int repeat) {
  bench::GemmWorkload gemm(isa, type, threads, n, K, N);
  Timing tm = time_it(repeat, [&] { gemm.run(); });
  return gemm.ops() / tm.min_s / 1e9;
}

// FLOPs of one forward pass: the linear layers' GEMMs (the int8 ones in a
// quantized model) and the attention's products (always f32).
double gemm_flops(const ModelConfig& c, int n) {
  const double D = c.hidden_size, I = c.intermediate_size;
  return 2.0 * n * (4 * D * D + 2 * D * I) * c.num_layers;
}
double attention_flops(const ModelConfig& c, int n, bool exact) {
  const double D = c.hidden_size, H = c.num_heads, d = D / H, m = c.num_landmarks;
  const double per_layer = exact ? H * 4.0 * n * n * d
                                 : H * (2.0 * n * m * d * 4 + 2.0 * n * m * m + 6 * 4 * 2.0 * m * m * m);
  return per_layer * c.num_layers;
}
double forward_flops(const ModelConfig& c, int n, bool exact) { return gemm_flops(c, n) + attention_flops(c, n, exact); }

struct Bench {
  explicit Bench(Report& r) : rep(r) {}
  Report& rep;
  int max_threads = 1;
  int repeat = 3;
  bool quick = false;
  std::string tmpdir;
  double peak_per_core = 0;  // GFLOP/s, best level
  double int8_peak_per_core = 0;  // giga-ops/s of VNNI dot products
  std::vector<DType> types = {DType::F32};
  struct LoadRow {
    std::string type;
    double ms, unchecked_ms, file_mb;
  };
  std::vector<LoadRow> load_rows;

  void loads() {
    rep.section("load", "Model load: map + checksum + bind + repack (page cache warm); checksum cost = difference",
                "weights   file MB   load ms   without checksum ms   checksum ms");
    for (const LoadRow& r : load_rows)
      rep.row(fmt("%-7s %9.1f %9.1f %21.1f %13.1f", r.type.c_str(), r.file_mb, r.ms, r.unchecked_ms, r.ms - r.unchecked_ms),
              {{"weights", q(r.type)}, {"file_mb", num(r.file_mb)}, {"load_ms", num(r.ms)},
               {"load_without_checksum_ms", num(r.unchecked_ms)}, {"checksum_ms", num(r.ms - r.unchecked_ms)}});
  }
  bool all_lengths_for_quant = false;

  // Figures the targets section reads back (issue #14's engine-terms goals).
  struct LayerFigures {
    double gemm_pct_peak, outside_gemm_share;
  };
  std::map<std::pair<std::string, int>, LayerFigures> layer_figures;  // by weights, n
  // The same over a whole base-size pass (the forward section's rows at the
  // most threads): the figures of the goals, which speak of the pass. The
  // one-layer model's also counts its embeddings and head as "outside".
  std::map<std::pair<std::string, int>, LayerFigures> pass_figures;
  std::map<int, double> f32_time_vs_peak;                            // by n, at max_threads
  std::map<std::string, double> batch_ratio;                         // by weights
  struct MemoryFigures {
    int n = 0;
    double peak_rss_mb = 0, per_token_vs_first = 0;
  } memory_last;

  std::vector<int> thread_counts() const {
    std::vector<int> t = {1};
    if (max_threads > 1) t.push_back(max_threads);
    return t;
  }

  void peak() {
    rep.section("peak", "FMA peak (independent FMA chains, no memory traffic)", "isa      kind  threads   G op/s  per-core");
    for (Isa isa : bench::available_instruction_sets()) {
      if (isa == Isa::Scalar) continue;
      for (int th : thread_counts()) {
        double g = measure_peak(isa, th);
        peak_per_core = std::max(peak_per_core, g / th);
        rep.row(fmt("%-8s %-5s %7d %8.1f %9.1f", instruction_set_name(isa), "f32", th, g, g / th),
                {{"isa", q(instruction_set_name(isa))}, {"kind", q("f32_fma")}, {"threads", num(th)}, {"gflops", num(g)},
                 {"gflops_per_core", num(g / th)}});
      }
    }
    // The 8-bit dot-product peak (VNNI), in giga-ops (a multiply and an add
    // per byte pair, comparable to FLOPs).
    const std::vector<Isa> levels = bench::available_instruction_sets();
    if (std::count(levels.begin(), levels.end(), Isa::Avx512))
      for (int th : thread_counts()) {
        double g = measure_peak(Isa::Avx512, th, true);
        int8_peak_per_core = std::max(int8_peak_per_core, g / th);
        rep.row(fmt("%-8s %-5s %7d %8.1f %9.1f", "avx512", "int8", th, g, g / th),
                {{"isa", q("avx512")}, {"kind", q("int8_vnni")}, {"threads", num(th)}, {"gflops", num(g)},
                 {"gflops_per_core", num(g / th)}});
      }
  }

  void gemm() {
    rep.section("gemm", "GEMM C[n x N] = A[n x K] W^T + bias (blocked; W packed at load, A per call; % of measured FMA peak x threads)",
                "isa      weights threads   n      K      N  GFLOP/s  %peak");
    std::vector<int> ns = quick ? std::vector<int>{128} : std::vector<int>{512, 4096};
    const int shapes[3][2] = {{768, 768}, {768, 3072}, {3072, 768}};
    const std::vector<DType> quantized = quantized_gemm_types();
    for (Isa isa : bench::available_instruction_sets()) {
      for (int th : thread_counts()) {
        for (int n : ns) {
          if (isa == Isa::Scalar && n > 512) continue;  // minutes per figure, and no target
          for (auto& s : shapes) {
            double g = gemm_gflops(isa, DType::F32, th, n, s[0], s[1], repeat);
            double pct = peak_per_core > 0 ? 100.0 * g / (peak_per_core * th) : 0;
            rep.row(fmt("%-8s %-5s %7d %6d %6d %6d %8.1f %5.1f%%", instruction_set_name(isa), "f32", th, n, s[0], s[1], g, pct),
                    {{"isa", q(instruction_set_name(isa))}, {"weights", q("f32")}, {"threads", num(th)}, {"n", num(n)},
                     {"K", num(s[0])}, {"N", num(s[1])}, {"gflops", num(g)}, {"pct_peak", num(pct)}});
            if (isa == Isa::Scalar) continue;
            // The integer types in interleaved rounds (the minimum of each),
            // so that a shared machine's drift hits them alike.
            std::vector<std::unique_ptr<bench::GemmWorkload>> work;
            for (DType type : quantized) {
              work.push_back(std::make_unique<bench::GemmWorkload>(isa, type, th, n, s[0], s[1]));
              work.back()->run();  // warm-up
            }
            std::vector<double> best(work.size(), 1e300);
            for (int r = 0; r < repeat; ++r)
              for (size_t i = 0; i < work.size(); ++i) {
                const auto t0 = Clock::now();
                work[i]->run();
                best[i] = std::min(best[i], seconds_since(t0));
              }
            for (size_t i = 0; i < work.size(); ++i) {
              const DType type = quantized[i];
              double gq = work[i]->ops() / best[i] / 1e9;
              double pq = int8_peak_per_core > 0 ? 100.0 * gq / (int8_peak_per_core * th) : 0;
              rep.row(fmt("%-8s %-5s %7d %6d %6d %6d %8.1f %5.1f%%  (%% of int8 peak; %.2fx f32)", instruction_set_name(isa),
                          dtype_name(type), th, n, s[0], s[1], gq, pq, gq / g),
                      {{"isa", q(instruction_set_name(isa))}, {"weights", q(dtype_name(type))}, {"threads", num(th)}, {"n", num(n)},
                       {"K", num(s[0])}, {"N", num(s[1])}, {"gops", num(gq)}, {"pct_int8_peak", num(pq)},
                       {"speedup_vs_f32", num(gq / g)}});
            }
          }
        }
      }
    }
  }

  std::string model_path(int positions, int layers, DType type = DType::F32) {
    return benchtool::base_model_file(tmpdir, positions, layers, type);
  }

  // One base-size layer per GEMM weight type: where its time goes. The
  // linear layers (projections, ffn) are GEMM calls with their activation
  // quantization and bias/GELU epilogues fused in, so "outside the GEMMs" is
  // attention, norms and the rest (embeddings, the residual copies).
  void layer() {
    const std::vector<int> ns = quick ? std::vector<int>{512} : std::vector<int>{512, 4096};
    const int th = max_threads;
    rep.section("layer",
                fmt("Time split of a one-layer base-size model (Nystrom m = 64, %d threads, the fastest of --repeat runs); 'GEMMs' = projections "
                    "+ ffn (their activation quantization and epilogues included), at %% of the f32 FMA or int8 peak",
                    th),
                "weights      n  part             ms    share");
    std::vector<DType> layer_types = {DType::F32};
    for (DType t : quantized_gemm_types()) layer_types.push_back(t);
    for (DType type : layer_types) {
      for (int n : ns) {
        auto model = Model::open(model_path(ns.back(), 1, type));
        RunOptions o;
        o.threads = th;
        Session s(model, o);
        std::vector<int32_t> ids = random_ids(n, model->config().vocab_size);
        s.run(ids);  // warm-up and planning
        ProfiledRun best;
        for (int r = 0; r < repeat; ++r) keep_fastest(s, ids, best);
        const double total = best.seconds;
        const LayerProfile& prof = best.profile;
        const std::pair<const char*, double> parts[] = {{"projections", prof.projections},
                                                        {"attention", prof.attention},
                                                        {"ffn", prof.ffn},
                                                        {"norms", prof.norms}};
        double sum = 0;
        for (auto& p : parts) sum += p.second;
        const char* name = dtype_name(type);
        auto part_row = [&](const char* part, double sec) {
          rep.row(fmt("%-7s %6d  %-11s %9.2f %7.1f%%", name, n, part, sec * 1e3, 100 * sec / total),
                  {{"weights", q(name)}, {"n", num(n)}, {"threads", num(th)}, {"part", q(part)}, {"ms", num(sec * 1e3)},
                   {"share", num(sec / total)}});
        };
        for (auto& p : parts) part_row(p.first, p.second);
        part_row("other", total - sum);
        const ModelConfig& c = model->config();
        const double gemm_s = prof.projections + prof.ffn;
        const double gemm_ops = gemm_flops(c, n) / c.num_layers;  // one layer's
        const bool int8 = int8_gemm_type(type);
        const double peak = (int8 ? int8_peak_per_core : peak_per_core) * th;
        const double gops = gemm_ops / gemm_s / 1e9, pct = peak > 0 ? 100 * gops / peak : 0;
        const double outside = (total - gemm_s) / total;
        rep.row(fmt("%-7s %6d  %-11s %9.2f %7.1f%%   GEMMs %.1f%% of the layer at %.1f G op/s = %.1f%% of the %s "
                    "peak; outside the GEMMs %.1f%%",
                    name, n, "total", total * 1e3, 100.0, 100 * (1 - outside), gops, pct, int8 ? "int8" : "f32 FMA",
                    100 * outside),
                {{"weights", q(name)}, {"n", num(n)}, {"threads", num(th)}, {"part", q("total")}, {"ms", num(total * 1e3)},
                 {"share", num(1)}, {"gemm_share", num(1 - outside)}, {"outside_gemm_share", num(outside)},
                 {"gemm_gops", num(gops)}, {"gemm_pct_peak", num(pct)},
                 {"peak_kind", q(int8 ? "int8_vnni" : "f32_fma")}});
        layer_figures[{name, n}] = {pct, outside};
      }
    }
  }

  static std::vector<int32_t> random_ids(int n, uint32_t vocab) { return random_ids_for(n, vocab); }

  // The Nystrom products in f32, in 8 bits or in bf16: speed of the whole
  // forward pass and agreement of its output, on the base-size q8_0 model.
  void attention_precision() {
    std::vector<int> ns = quick ? std::vector<int>{1024} : std::vector<int>{1024, 4096};
    rep.section("attention_precision",
                fmt("Nystrom products in f32 vs int8 (Q K~^T, Q~ K^T, B V) vs bf16 (all five); base-size q8_0 model, "
                    "%d threads, %s; speedup = f32 time / its time",
                    max_threads, instruction_set_name(instruction_set())),
                "     n   f32 ms  int8 ms  bf16 ms  f32 attn  int8 attn  bf16 attn  int8 x  bf16 x  cos(int8)  cos(bf16)");
    auto model = Model::open(model_path(16384, 12, DType::Q8_0));
    const AttentionPrecision kinds[3] = {AttentionPrecision::F32, AttentionPrecision::Int8, AttentionPrecision::BF16};
    for (int n : ns) {
      auto ids = random_ids(n, model->config().vocab_size);
      double ms[3], attn[3], cos[3];
      Output out[3];
      std::vector<Session> sessions;
      for (AttentionPrecision p : kinds) {
        RunOptions o;
        o.threads = max_threads;
        o.attention_precision = p;
        sessions.emplace_back(model, o);
      }
      for (int v = 0; v < 3; ++v) ms[v] = 1e300;
      // Interleaved rounds, the minimum of each.
      for (int round = 0; round < repeat; ++round)
        for (int v = 0; v < 3; ++v) {
          Timing tm = time_it(1, [&] { out[v] = sessions[v].run(ids); });
          ms[v] = std::min(ms[v], tm.min_s * 1e3);
        }
      for (int v = 0; v < 3; ++v) {
        sessions[v].set_profiling(true);
        sessions[v].run(ids);
        attn[v] = sessions[v].profile().attention * 1e3;
        sessions[v].set_profiling(false);
        cos[v] = cosine(out[0].last_hidden_state, out[v].last_hidden_state);
      }
      rep.row(fmt("%6d %8.1f %8.1f %8.1f %9.1f %10.1f %10.1f %7.2f %7.2f %10.6f %10.6f", n, ms[0], ms[1], ms[2], attn[0],
                  attn[1], attn[2], ms[0] / ms[1], ms[0] / ms[2], cos[1], cos[2]),
              {{"n", num(n)}, {"f32_ms", num(ms[0])}, {"int8_ms", num(ms[1])}, {"bf16_ms", num(ms[2])},
               {"f32_attention_ms", num(attn[0])}, {"int8_attention_ms", num(attn[1])},
               {"bf16_attention_ms", num(attn[2])}, {"cosine", num(cos[1], 8)}, {"bf16_cosine", num(cos[2], 8)}});
    }
  }

  // Agreement of each weight type with f32 on the reference checkpoints
  // (tests/data/hf, run from the repository root): the cosine of the last
  // hidden state. Their random weights are far more sensitive than trained
  // ones (q4_0 lands near 0.975 here, >= 0.9998 on the ListOps checkpoint),
  // so this is a figure to watch, not a target.
  void quant_accuracy() {
    rep.section("quant_accuracy", "Weight types vs f32 on the random-weight reference checkpoints (tests/data/hf)",
                "case          f16 cosine   q8_0 cosine   q4_0 cosine");
    for (const char* name : {"tiny-mlm", "tiny-exact", "small-cls"}) {
      const std::string dir = std::string("tests/data/hf/") + name;
      struct stat st;
      if (::stat((dir + "/config.json").c_str(), &st) != 0) {
        std::fprintf(stderr, "nystrom-bench: quant_accuracy: %s not found (run from the repository root); skipped\n",
                     dir.c_str());
        continue;
      }
      const std::vector<int64_t> ids64 = read_npy_ids(dir + "/input_ids.npy");
      const std::vector<int32_t> ids(ids64.begin(), ids64.end());
      std::vector<float> out[4];
      const DType types[4] = {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0};
      for (int t = 0; t < 4; ++t) {
        ConvertOptions opt;
        opt.weight_type = types[t];
        opt.tokenizer = false;
        const std::string path = tmpdir + "/quant-" + name + "-" + dtype_name(types[t]) + ".nyf";
        convert_checkpoint(dir, path, opt);
        Session s(Model::open(path));
        out[t] = s.run(ids).last_hidden_state;
        std::remove(path.c_str());
      }
      double cos[4];
      for (int t = 1; t < 4; ++t) cos[t] = cosine(out[t], out[0]);
      rep.row(fmt("%-12s %11.6f %13.6f %13.6f", name, cos[1], cos[2], cos[3]),
              {{"case", q(name)}, {"f16_cosine", num(cos[1], 8)}, {"q8_0_cosine", num(cos[2], 8)},
               {"q4_0_cosine", num(cos[3], 8)}});
    }
  }

  // Peak resident memory and time of one forward pass at long lengths, each
  // in its own process (so the peak is that length's own).
  void memory(const std::string& self) {
    std::vector<int> ns = quick ? std::vector<int>{4096} : std::vector<int>{4096, 16384, 65536};
    rep.section("memory",
                fmt("Base-size q8_0 model (positions %d), one forward pass per process, %d threads: peak RSS and "
                    "time; 'per token vs 4096' = (ms/n) / (ms/n at 4096)", ns.back(), max_threads),
                "     n   forward ms   peak RSS MB   per token vs 4096");
    const std::string path = model_path(ns.back(), 12, DType::Q8_0);
    double base_per_token = 0;
    for (int n : ns) {
      const Figures f =
          child_figures(self, {"--internal-forward", path, std::to_string(n), std::to_string(max_threads)});
      const double ms = f.first, mb = f.second;
      if (n == ns.front()) base_per_token = ms / n;
      const double ratio = base_per_token > 0 ? (ms / n) / base_per_token : 0;
      memory_last = {n, mb, ratio};
      rep.row(fmt("%6d %12.1f %13.0f %19.2f", n, ms, mb, ratio),
              {{"n", num(n)}, {"forward_ms", num(ms)}, {"peak_rss_mb", num(mb)}, {"per_token_vs_4096", num(ratio)}});
    }
  }

  void forward() {
    std::vector<int> ns = quick ? std::vector<int>{512} : std::vector<int>{512, 4096, 16384};
    // --quick: one layer (the layer section's files), a smoke run of the same code.
    const int layers = quick ? 1 : 12;
    rep.section("forward",
                fmt("Base-size forward (%d layer%s, D 768, H 12, I 3072, m 64, conv 33), Nystrom; 'vs peak' = time / "
                    "(f32 FLOPs at the measured f32 FMA peak x threads); 'vs floor' = the same, but for the 8-bit "
                    "types the GEMMs' share at the measured int8 peak (their pass's floor); 'vs f32' = f32 time / this "
                    "time, same n and threads",
                    layers, layers == 1 ? "" : "s"),
                "weights      n  threads        ms  tokens/s   GFLOP/s  vs peak vs floor  vs 1 thr   vs f32  load ms  file MB");
    std::map<std::pair<int, int>, double> f32_ms;
    for (DType type : types) {
      const std::string path = model_path(ns.back(), layers, type);
      {  // warm the page cache so both load figures time the same thing
        auto warm = Model::open(path);
      }
      auto t0 = Clock::now();
      auto model = Model::open(path);
      const double load_ms = seconds_since(t0) * 1e3;
      OpenOptions unchecked;
      unchecked.verify_checksum = false;
      t0 = Clock::now();
      Model::open(path, unchecked);
      const double load_unchecked_ms = seconds_since(t0) * 1e3;
      load_rows.push_back({dtype_name(type), load_ms, load_unchecked_ms, 0});
      struct stat st;
      const double file_mb = ::stat(path.c_str(), &st) == 0 ? st.st_size / 1e6 : 0;
      load_rows.back().file_mb = file_mb;
      for (int n : ns) {
        if (type != DType::F32 && n > 4096 && !all_lengths_for_quant) continue;
        std::vector<int32_t> ids = random_ids(n, model->config().vocab_size);
        double t1 = 0;
        for (int th : thread_counts()) {
          RunOptions o;
          o.threads = th;
          Session s(model, o);
          int r = n >= 16384 ? 1 : repeat;
          // Every run profiled (a clock read a step: nothing next to a
          // pass), and the split of the fastest kept: how much of the whole
          // pass the GEMMs (projections and FFN, their activation
          // quantization and epilogues included) took.
          ProfiledRun best;
          bool warmed = false;  // time_it's warm-up run is not one to keep
          Timing tm = time_it(r, [&] {
            if (warmed) keep_fastest(s, ids, best);
            else s.run(ids), warmed = true;
          });
          const double fastest = best.seconds, gemm_s = best.profile.projections + best.profile.ffn;
          if (th == 1) t1 = tm.min_s;
          if (type == DType::F32) f32_ms[{n, th}] = tm.min_s;
          const double vs_f32 = f32_ms.count({n, th}) ? f32_ms[{n, th}] / tm.min_s : 0;
          const ModelConfig& mc = model->config();
          double flops = forward_flops(mc, n, false);
          double ideal = peak_per_core > 0 ? flops / (peak_per_core * 1e9 * th) : 0;
          // The pass's floor: its products alone at the measured peaks, the
          // 8-bit types' GEMMs at the int8 one (where the CPU has it).
          const bool int8_gemms = int8_gemm_type(type);
          const double floor_s = int8_gemms && int8_peak_per_core > 0 && peak_per_core > 0
                                     ? gemm_flops(mc, n) / (int8_peak_per_core * 1e9 * th) +
                                           attention_flops(mc, n, false) / (peak_per_core * 1e9 * th)
                                     : ideal;
          if (type == DType::F32 && th == max_threads && ideal > 0) f32_time_vs_peak[n] = tm.min_s / ideal;
          const double gemm_share = gemm_s / fastest;
          const double gemm_peak = (int8_gemms ? int8_peak_per_core : peak_per_core) * th;
          const double gemm_pct = gemm_peak > 0 && gemm_s > 0 ? 100 * gemm_flops(mc, n) / gemm_s / 1e9 / gemm_peak : 0;
          if (th == max_threads && int8_gemms) pass_figures[{dtype_name(type), n}] = {gemm_pct, 1 - gemm_share};
          rep.row(fmt("%-7s %6d %8d %9.1f %9.0f %9.1f %7.0f%% %7.0f%% %9.2f %8.2f %8.1f %8.1f", dtype_name(type), n,
                      th, tm.min_s * 1e3, n / tm.min_s, flops / tm.min_s / 1e9, ideal > 0 ? 100 * tm.min_s / ideal : 0,
                      floor_s > 0 ? 100 * tm.min_s / floor_s : 0, t1 / tm.min_s, vs_f32, load_ms, file_mb),
                  {{"weights", q(dtype_name(type))}, {"n", num(n)}, {"threads", num(th)}, {"ms", num(tm.min_s * 1e3)},
                   {"median_ms", num(tm.median_s * 1e3)}, {"gflops", num(flops / tm.min_s / 1e9)},
                   {"time_vs_peak", num(ideal > 0 ? tm.min_s / ideal : 0)},
                   {"time_vs_floor", num(floor_s > 0 ? tm.min_s / floor_s : 0)},
                   {"speedup_vs_1_thread", num(t1 / tm.min_s)},
                   {"speedup_vs_f32", num(vs_f32)}, {"load_ms", num(load_ms)}, {"file_mb", num(file_mb)},
                   {"gemm_share", num(gemm_share)}, {"gemm_pct_peak", num(gemm_pct)},
                   {"peak_kind", q(int8_gemms ? "int8_vnni" : "f32_fma")}});
        }
      }
    }
  }

  // Short inputs: 64 sequences of 32 tokens through Session::run_batch
  // against one 512-token input, same session, in interleaved rounds (the
  // minimum of each); tokens/s of each and their ratio.
  void batch() {
    const int single_n = 512, batch_size = 64, batch_n = 32;
    const int layers = quick ? 1 : 12;
    rep.section("batch",
                fmt("Short inputs: %d x %d tokens with Session::run_batch vs one %d-token input, base-size model "
                    "(%d layer%s), %d threads, minimum of %d interleaved rounds; ratio = batch tokens/s / single",
                    batch_size, batch_n, single_n, layers, layers == 1 ? "" : "s", max_threads, repeat),
                "weights   single ms  single tok/s   batch ms  batch tok/s   ratio");
    for (DType type : types) {
      auto model = Model::open(model_path(single_n, layers, type));
      RunOptions o;
      o.threads = max_threads;
      Session s(model, o);
      const uint32_t vocab = model->config().vocab_size;
      const std::vector<int32_t> single = random_ids(single_n, vocab);
      const std::vector<int32_t> stream = random_ids(batch_size * batch_n, vocab);
      std::vector<std::vector<int32_t>> sequences;
      for (int b = 0; b < batch_size; ++b)
        sequences.emplace_back(stream.begin() + (size_t)b * batch_n, stream.begin() + (size_t)(b + 1) * batch_n);
      s.run(single);  // warm-up of both
      s.run_batch(sequences);
      std::vector<double> t_single, t_batch;
      for (int r = 0; r < repeat; ++r) {
        auto t0 = Clock::now();
        s.run(single);
        t_single.push_back(seconds_since(t0));
        t0 = Clock::now();
        s.run_batch(sequences);
        t_batch.push_back(seconds_since(t0));
      }
      const double single_s = *std::min_element(t_single.begin(), t_single.end());
      const double batch_s = *std::min_element(t_batch.begin(), t_batch.end());
      const double single_tps = single_n / single_s, batch_tps = (double)batch_size * batch_n / batch_s;
      const double ratio = batch_tps / single_tps;
      batch_ratio[dtype_name(type)] = ratio;
      rep.row(fmt("%-7s %11.1f %13.0f %10.1f %12.0f %7.3f", dtype_name(type), single_s * 1e3, single_tps, batch_s * 1e3,
                  batch_tps, ratio),
              {{"weights", q(dtype_name(type))}, {"layers", num(layers)}, {"threads", num(max_threads)},
               {"single_n", num(single_n)}, {"batch_size", num(batch_size)}, {"batch_n", num(batch_n)},
               {"single_ms", num(single_s * 1e3)}, {"batch_ms", num(batch_s * 1e3)},
               {"single_tokens_per_s", num(single_tps)}, {"batch_tokens_per_s", num(batch_tps)},
               {"batch_vs_single", num(ratio)}});
    }
  }

  // Issue #14's goals in the engine's own terms, from the figures the
  // sections above measured (a goal whose section did not run is left out).
  void targets() {
    struct Target {
      std::string figure, weights;
      int n;
      double value;
      bool at_most;  // the goal is value <= goal, else value >= goal
      double goal;
    };
    std::vector<Target> all;
    const bool over_pass = !pass_figures.empty();
    for (const auto& [key, f] : over_pass ? pass_figures : layer_figures) {
      if (key.first == "f32") continue;  // the layer section's f32 row
      all.push_back({"gemm_pct_int8_peak_in_model", key.first, key.second, f.gemm_pct_peak, false, 85});
      if (key.second == 512)
        all.push_back({"outside_gemm_share_of_int8_pass", key.first, key.second, f.outside_gemm_share, true, 0.15});
    }
    for (const auto& [n, v] : f32_time_vs_peak)
      if (n <= 4096) all.push_back({"f32_pass_vs_flop_time_at_fma_peak", "f32", n, v, true, 1.20});
    for (const auto& [w, v] : batch_ratio) all.push_back({"batch_vs_single_tokens_per_s", w, 32, v, false, 0.90});
    if (memory_last.n >= 65536) {
      all.push_back({"peak_rss_mb", "q8_0", memory_last.n, memory_last.peak_rss_mb, true, 1000});
      all.push_back({"time_per_token_vs_4096", "q8_0", memory_last.n, memory_last.per_token_vs_first, true, 1.15});
    }
    if (all.empty()) return;
    rep.section("targets",
                fmt("Issue #14's goals in the engine's terms, from this run's figures (the GEMM ones over %s)",
                    over_pass ? "whole base-size forward passes: the forward section" : "one layer: the layer section"),
                "figure                               weights      n      value   goal      met");
    for (const Target& t : all) {
      const bool met = t.at_most ? t.value <= t.goal : t.value >= t.goal;
      rep.row(fmt("%-36s %-7s %6d %10.3f   %s %-6g %s", t.figure.c_str(), t.weights.c_str(), t.n, t.value,
                  t.at_most ? "<=" : ">=", t.goal, met ? "yes" : "no"),
              {{"figure", q(t.figure)}, {"weights", q(t.weights)}, {"n", num(t.n)}, {"value", num(t.value)},
               {"goal", num(t.goal)}, {"goal_is", q(t.at_most ? "at_most" : "at_least")},
               {"met", met ? "true" : "false"}});
    }
  }

  // One attention measurement in a child process, so its peak memory is its own.
  void attention(const std::string& self) {
    std::vector<int> ns = quick ? std::vector<int>{1024} : std::vector<int>{1024, 2048, 4096, 8192, 16384};
    rep.section("attention",
                fmt("Nystrom (m = 64) vs exact attention, one base-size layer, %d threads "
                    "(peak RSS of a process that loads the layer and runs it)", max_threads),
                "     n    nystrom ms   exact ms   ratio   nystrom MB   exact MB");
    std::string path = model_path(ns.back(), 1);
    for (int n : ns) {
      double ms[2], mb[2];
      for (int e = 0; e < 2; ++e) {
        const Figures f = child_figures(self, {"--internal-attention", path, std::to_string(n),
                                               e ? "exact" : "nystrom", std::to_string(max_threads),
                                               std::to_string(repeat)});
        ms[e] = f.first, mb[e] = f.second;
      }
      rep.row(fmt("%6d %12.1f %10.1f %7.1f %12.0f %10.0f", n, ms[0], ms[1], ms[1] / ms[0], mb[0], mb[1]),
              {{"n", num(n)}, {"nystrom_attention_ms", num(ms[0])}, {"exact_attention_ms", num(ms[1])},
               {"nystrom_peak_mb", num(mb[0])}, {"exact_peak_mb", num(mb[1])}});
    }
  }
};

// Child of the memory section: one forward pass of a model at length n in a
// fresh process; prints "forward_ms peak_rss_mb".
int internal_forward(const std::string& path, int n, int threads) {
  auto model = Model::open(path);
  RunOptions o;
  o.threads = threads;
  Session s(model, o);
  auto ids = random_ids_for(n, model->config().vocab_size);
  auto t0 = Clock::now();
  s.run(ids);
  std::printf("%f %f\n", seconds_since(t0) * 1e3, peak_rss_kb() / 1024.0);
  return 0;
}

// Child of the attention section: prints "attention_ms peak_rss_mb".
int internal_attention(const std::string& path, int n, const std::string& mode, int threads, int repeat) {
  auto model = Model::open(path);
  RunOptions o;
  o.threads = threads;
  o.attention = mode == "exact" ? AttentionMode::Exact : AttentionMode::Nystrom;
  Session s(model, o);
  auto ids = Bench::random_ids(n, model->config().vocab_size);
  s.run(ids);
  s.set_profiling(true);
  for (int r = 0; r < repeat; ++r) s.run(ids);
  std::printf("%f %f\n", s.profile().attention / repeat * 1e3, peak_rss_kb() / 1024.0);
  return 0;
}

int run_model(const tools::Args& args, const std::set<std::string>& sections) {
  const int n = (int)args.get_int("--n", 512, 1, 1 << 24);
  const int threads = (int)args.get_int("--threads", 0, 0, 1024);
  const int repeat = (int)args.get_int("--repeat", 3, 1, 1000);
  RunOptions o;
  o.threads = threads;
  o.attention = tools::parse_attention_mode(args);
  o.attention_precision = tools::parse_attention_precision(args);
  const char* precision = tools::attention_precision_name(o.attention_precision);
  OpenOptions open;
  open.threads = threads;
  auto t0 = Clock::now();
  auto model = Model::open(args.get("--model"), open);
  double load_ms = seconds_since(t0) * 1e3;
  if ((uint32_t)n > model->config().max_positions)
    throw Error("--n " + std::to_string(n) + " exceeds the model's " + std::to_string(model->config().max_positions) +
                " positions");
  Session s(model, o);
  const int batch = (int)args.get_int("--batch", 0, 1, 1 << 16);
  if ((long long)n * batch > (1 << 26)) throw tools::UsageError{"--n x --batch must be at most 67108864 tokens"};
  auto ids = Bench::random_ids(n, model->config().vocab_size);
  // A batch: B different sequences, cut from one long random stream.
  std::vector<std::vector<int32_t>> sequences;
  if (batch > 0) {
    const std::vector<int32_t> all = Bench::random_ids(n * batch, model->config().vocab_size);
    for (int b = 0; b < batch; ++b) sequences.emplace_back(all.begin() + (size_t)b * n, all.begin() + (size_t)(b + 1) * n);
  }
  Timing tm = time_it(repeat, [&] {
    if (batch > 0) s.run_batch(sequences);
    else s.run(ids);
  });
  int used_threads = s.options().threads;
  const bool json = args.has("--json");
  const char* isa = instruction_set_name(instruction_set());
  if (json)
    std::printf("{\"n\": %d, \"batch\": %d, \"threads\": %d, \"repeat\": %d, \"load_ms\": %.3f, \"isa\": \"%s\", "
                "\"attention_precision\": \"%s\"",
                n, std::max(batch, 1), used_threads, repeat, load_ms, isa, precision);
  else
    std::printf("n %d x %d, %d threads, %s, %s attention products (load %.1f ms):", n, std::max(batch, 1),
                used_threads, isa, precision, load_ms);
  if (sections.count("forward")) {
    const double tokens_per_s = (double)n * std::max(batch, 1) / tm.min_s;
    // The pass's matrix products (of every sequence of a batch), for
    // floors at measured peaks (tools/bench/compare/bench.js): the linear
    // layers' GEMMs and the attention's, as this session runs it.
    const bool exact = forward_cost(model->config(), (size_t)n, o).exact_attention;
    const double seqs = std::max(batch, 1);
    if (json)
      std::printf(", \"median_ms\": %.4f, \"min_ms\": %.4f, \"tokens_per_s\": %.1f, \"gemm_gflop\": %.9g, "
                  "\"attention_gflop\": %.9g",
                  tm.median_s * 1e3, tm.min_s * 1e3, tokens_per_s, seqs * gemm_flops(model->config(), n) / 1e9,
                  seqs * attention_flops(model->config(), n, exact) / 1e9);
    else
      std::printf(" forward median %.2f ms, min %.2f ms over %d runs, %.0f tokens/s;", tm.median_s * 1e3,
                  tm.min_s * 1e3, repeat, tokens_per_s);
  }
  if (sections.count("attention")) {
    s.set_profiling(true);
    for (int r = 0; r < repeat; ++r) {
      if (batch > 0) s.run_batch(sequences);
      else s.run(ids);
    }
    const double attention_s = s.profile().attention;
    s.set_profiling(false);
    if (json) std::printf(", \"attention_ms\": %.4f", attention_s / repeat * 1e3);
    else std::printf(" attention %.2f ms per forward (all layers);", attention_s / repeat * 1e3);
  }
  if (json) std::printf(", \"peak_rss_mb\": %.1f}\n", peak_rss_kb() / 1024.0);
  else std::printf(" peak RSS %.1f MB\n", peak_rss_kb() / 1024.0);
  return 0;
}

// The --sections list, each name checked against those this mode has.
std::set<std::string> parse_sections(const tools::Args& args, const std::vector<std::string>& known,
                                     const std::string& all) {
  std::set<std::string> picked;
  std::stringstream list(args.get("--sections", all));
  std::string names;
  for (const std::string& k : known) names += (names.empty() ? "" : ", ") + k;
  for (std::string name; std::getline(list, name, ',');) {
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw tools::UsageError{"unknown section '" + name + "'" + (args.has("--model") ? " with --model" : "") +
                              " (sections: " + names + ")"};
    picked.insert(name);
  }
  if (picked.empty()) throw tools::UsageError{"--sections names no section (sections: " + names + ")"};
  return picked;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 5 && std::strcmp(argv[1], "--internal-forward") == 0)
      return internal_forward(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
    if (argc == 7 && std::strcmp(argv[1], "--internal-attention") == 0)
      return internal_attention(argv[2], std::atoi(argv[3]), argv[4], std::atoi(argv[5]), std::atoi(argv[6]));
    if (argc > 1 && std::strcmp(argv[1], benchtool::kScalingChildFlag) == 0) return benchtool::scaling_child(argc, argv);
    std::set<std::string> value_flags = {"--sections", "--model", "--n", "--threads", "--repeat", "--attention", "--types",
                                         "--batch", "--attention-precision"};
    value_flags.insert(benchtool::scaling_value_flags().begin(), benchtool::scaling_value_flags().end());
    tools::Args args(argc, argv, 1, value_flags, {"--json", "--help", "--quick", "--version"},
                     {{"-m", "--model"}, {"-h", "--help"}});
    if (args.has("--help")) {
      std::fputs(kUsage, stdout);
      std::fputs(benchtool::kScalingHelp, stdout);
      return 0;
    }
    if (args.has("--version")) {
      std::printf("nystrom-bench %s\n", version());
      return 0;
    }
    if (!args.positionals().empty()) throw tools::UsageError{"unexpected argument '" + args.positionals()[0] + "'"};
    const bool scaling = args.get("--sections").find("scaling") != std::string::npos;
    benchtool::check_scaling_flags(args, scaling);
    if (args.has("--batch") && (!args.has("--model") || scaling))
      throw tools::UsageError{"--batch needs --model (and no scaling section)"};
    if (args.has("--model") && !scaling)
      return run_model(args, parse_sections(args, {"forward", "attention"}, "forward"));
    const std::set<std::string> sections =
        parse_sections(args, {"peak", "gemm", "layer", "forward", "batch", "attention", "attention_precision",
                              "memory", "quant_accuracy", "scaling"},
                       "peak,gemm,layer,forward,batch,attention,attention_precision,memory,quant_accuracy");

    // A run of many minutes must not start without a word.
    if (argc == 1 || (argc == 2 && args.has("--json")))
      std::fprintf(stderr, "nystrom-bench: running every section (%s) at full size: roughly 10 minutes on an idle "
                   "2-core machine, much longer on a busy one (--quick: a smoke run; --sections: some; "
                   "--help: all options)\n",
                   "peak, gemm, layer, forward, batch, attention, attention_precision, memory, quant_accuracy");

    Report rep;
    rep.json = args.has("--json");
    const int threads = (int)args.get_int("--threads", 0, 0, 1024);
    Bench b(rep);
    b.max_threads = threads ? threads : bench::available_threads();
    b.repeat = (int)args.get_int("--repeat", 3, 1, 1000);
    b.quick = args.has("--quick");
    const char* tmp = std::getenv("TMPDIR");
    b.tmpdir = std::string(tmp ? tmp : "/tmp") + "/nystrom-bench";
    b.types.clear();
    if (args.has("--types")) {
      std::stringstream types(args.get("--types"));
      for (std::string t; std::getline(types, t, ',');) {
        DType d;
        if (!parse_dtype(t, &d)) throw tools::UsageError{"--types: unknown weight type '" + t + "'"};
        b.types.push_back(d);
      }
    } else {
      b.types = known_types();
    }
    if (b.types.empty() || b.types[0] != DType::F32) b.types.insert(b.types.begin(), DType::F32);
    mkdir(b.tmpdir.c_str(), 0777);
    auto want = [&](const char* s) { return sections.count(s) > 0; };
    if (want("scaling")) return benchtool::run_scaling(args, sections.size(), b.tmpdir, b.max_threads);
    if (!rep.json)
      std::printf("nystrom-bench: %d threads available, best level %s, CPU features: %s\n", b.max_threads,
                  instruction_set_name(instruction_set()), bench::cpu_description().c_str());
    if (want("peak") || want("gemm") || want("layer") || want("forward")) b.peak();
    if (want("gemm")) b.gemm();
    if (want("layer")) b.layer();
    if (want("forward")) b.forward(), b.loads();
    if (want("batch")) b.batch();
    // Children run this binary by its real path.
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    if (want("attention")) b.attention(self);
    if (want("attention_precision")) b.attention_precision();
    if (want("quant_accuracy")) b.quant_accuracy();
    if (want("memory")) b.memory(self);
    b.targets();
    rep.finish();
    return 0;
  } catch (const tools::UsageError& e) {
    std::fprintf(stderr, "nystrom-bench: %s (see --help)\n", e.message.c_str());
    return tools::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nystrom-bench: %s\n", e.what());
    return tools::kExitRuntime;
  }
}
