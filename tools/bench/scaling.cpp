#include "scaling.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include "../common/json_out.h"
#include "../common/output_check.h"
#include "base_model.h"
#include "child_process.h"
#include "log_chart.h"
#include "nystrom/io.h"
#include "nystrom/kernel_bench.h"

namespace nystrom::benchtool {

namespace {

using Clock = std::chrono::steady_clock;
using format::DType;

// From this length on a point is one forward without a warm-up round (as
// the forward section does): one forward takes many seconds there, and the
// session's first-run allocations are a small part of it.
constexpr int kNoWarmUpFrom = 4096;

struct Series {
  const char* name;
  const char* mode;  // the child's MODE
  DType type;
  const char* color;
  bool dashed;
};
const Series kSeries[] = {{"Nystrom f32", "nystrom", DType::F32, "#1f6fb4", false},
                          {"Nystrom q8_0", "nystrom", DType::Q8_0, "#1f6fb4", true},
                          {"exact f32", "exact", DType::F32, "#d9541e", false},
                          {"exact q8_0", "exact", DType::Q8_0, "#d9541e", true}};
constexpr size_t kSeriesCount = sizeof kSeries / sizeof kSeries[0];

struct Point {
  int n;
  double ms, peak_mb, open_mb;
};

// A series' measured points and, once it stops, why.
struct SeriesResult {
  std::vector<Point> points;
  std::string stopped;
};

double peak_rss_mb() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // Linux: KiB
}

// The next point's forward time from the last two (their log-log slope,
// between linear and quadratic), or from one with the series' own order.
double projected_ms(const SeriesResult& r, int n, bool exact) {
  const Point& last = r.points.back();
  double slope = exact ? 2 : 1;
  if (r.points.size() >= 2) {
    const Point& prev = r.points[r.points.size() - 2];
    slope = std::log(last.ms / prev.ms) / std::log((double)last.n / prev.n);
    slope = std::min(2.0, std::max(1.0, slope));
  }
  return last.ms * std::pow((double)n / last.n, slope);
}

// Memory above what the open model holds grows linearly in n for both
// attentions (exact attention's scores are computed a block of rows at a
// time), so the next peak is projected linearly.
double projected_mb(const SeriesResult& r, int n) {
  const Point& last = r.points.back();
  return last.open_mb + (last.peak_mb - last.open_mb) * n / last.n;
}

// MemAvailable of /proc/meminfo in MB, 0 when unknown.
double available_mb() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb = 0;
  while (in >> key) {
    if (key == "MemAvailable:" && in >> kb) return kb / 1024.0;
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
  }
  return "unknown CPU";
}

std::string utc_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string self_path() {
  char self[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  self[len > 0 ? len : 0] = '\0';
  return self;
}

}  // namespace

const std::set<std::string>& scaling_value_flags() {
  static const std::set<std::string> flags = {"--svg", "--max-n", "--layers", "--max-seconds", "--max-memory-mb",
                                              "--note"};
  return flags;
}

const char kScalingHelp[] =
    "scaling (--sections scaling, alone; not part of the default sections):\n"
    "  time per forward (min of --repeat rounds after a warm-up; from n = 4096\n"
    "  one round) and peak memory (peak RSS, the opened model included) of the\n"
    "  base-size model (random weights) for n = 256, 512, ... up to --max-n,\n"
    "  Nystrom and exact attention x f32 and q8_0 weights, each point in its own\n"
    "  process; a table as it goes, or --json\n"
    "  --svg FILE          also draw both against n, log-log, as an SVG file\n"
    "  --max-n N           the longest input (default 65536)\n"
    "  --layers L          layers of the model (default 12)\n"
    "  --max-seconds S     stop a series before a forward projected (from its\n"
    "                      last two points) to take longer than S (default 120)\n"
    "  --max-memory-mb MB  skip a point projected to pass MB of peak memory\n"
    "                      (default 80% of MemAvailable at the start)\n"
    "  --note TEXT         one more caption line for the SVG (the machine's load)\n";

void check_scaling_flags(const tools::Args& args, bool scaling_selected) {
  if (scaling_selected) return;
  for (const std::string& flag : scaling_value_flags())
    if (args.has(flag)) throw tools::UsageError{flag + " is an option of --sections scaling"};
}

int run_scaling(const tools::Args& args, size_t sections, const std::string& tmpdir, int threads) {
  if (sections != 1) throw tools::UsageError{"the scaling section runs alone: --sections scaling"};
  if (args.has("--model")) throw tools::UsageError{"--sections scaling times the base-size model, not --model"};
  const int max_n = (int)args.get_int("--max-n", 65536, 256, 1 << 20);
  const int layers = (int)args.get_int("--layers", 12, 1, 48);
  const int repeat = (int)args.get_int("--repeat", 3, 1, 1000);
  const double max_seconds = (double)args.get_int("--max-seconds", 120, 1, 1 << 30);
  const double max_mb = args.has("--max-memory-mb") ? (double)args.get_int("--max-memory-mb", 0, 1, 1 << 30)
                                                    : 0.8 * available_mb();
  const std::string svg_path = args.get("--svg");
  const bool json = args.has("--json");
  if (args.has("--svg")) tools::check_output_file(svg_path);  // before minutes of work

  std::vector<int> ns;
  for (int n = 256; n <= max_n; n *= 2) ns.push_back(n);
  const int positions = ns.back();
  std::string paths[kSeriesCount];
  for (size_t s = 0; s < kSeriesCount; ++s) paths[s] = base_model_file(tmpdir, positions, layers, kSeries[s].type);

  const std::string self = self_path(), date = utc_date(), cpu = cpu_model_name();
  if (!json) {
    std::printf("\n== Scaling: one forward of the base-size model (%d layers, D 768, H 12, m 64, conv 33), %d threads, "
                "min of %d rounds; peak RSS of a process that opens the model and runs it\n",
                layers, threads, repeat);
    std::printf("     n  series         forward ms   peak RSS MB   RSS after open MB\n");
    std::fflush(stdout);
  }
  SeriesResult results[kSeriesCount];
  // Length by length, the four series in turn: a change in the machine's
  // load hits neighbouring points of every series alike.
  for (int n : ns) {
    for (size_t s = 0; s < kSeriesCount; ++s) {
      SeriesResult& r = results[s];
      if (!r.stopped.empty()) continue;
      const bool exact = std::string(kSeries[s].mode) == "exact";
      if (!r.points.empty()) {
        const double ms = projected_ms(r, n, exact), mb = projected_mb(r, n);
        if (ms > max_seconds * 1e3)
          r.stopped = "stopped after n = " + std::to_string(r.points.back().n) + ": a forward at n = " +
                      std::to_string(n) + " was projected to take " + fixed(ms / 1e3, 0) + " s (> --max-seconds " +
                      fixed(max_seconds, 0) + ")";
        else if (max_mb > 0 && mb > max_mb)
          r.stopped = "stopped after n = " + std::to_string(r.points.back().n) + ": n = " + std::to_string(n) +
                      " was projected to need " + fixed(mb, 0) + " MB (> " + fixed(max_mb, 0) + " MB)";
      }
      if (r.stopped.empty()) {
        const std::vector<double> f = child_numbers(
            self, {kScalingChildFlag, paths[s], std::to_string(n), kSeries[s].mode, std::to_string(threads),
                   std::to_string(repeat)},
            3);
        if (f.empty()) r.stopped = "failed at n = " + std::to_string(n) + " (the measuring process did not finish)";
        else r.points.push_back({n, f[0], f[1], f[2]});
      }
      if (json) continue;
      if (!r.stopped.empty()) std::printf("%6d  %-12s   %s\n", n, kSeries[s].name, r.stopped.c_str());
      else
        std::printf("%6d  %-12s %12.1f %13.0f %19.0f\n", n, kSeries[s].name, r.points.back().ms,
                    r.points.back().peak_mb, r.points.back().open_mb);
      std::fflush(stdout);
    }
  }

  std::vector<std::string> caption = {
      "Base-size Nystromformer with random weights: " + std::to_string(layers) +
          " layer" + (layers > 1 ? "s" : "") +
          ", hidden 768, 12 heads, FFN 3072, 64 landmarks, conv 33; random ids.",
      "Time: min of " + std::to_string(repeat) + " forward" + (repeat > 1 ? "s" : "") +
          " after a warm-up (from n = " + std::to_string(kNoWarmUpFrom) +
          ": one forward).",
      "Memory: peak resident set of a process that opens the model (its weights included) and runs it.",
      "CPU: " + cpu + " (kernels: " + instruction_set_name(instruction_set()) + "), " + std::to_string(threads) +
          " thread" + (threads > 1 ? "s" : "") + ", " + date + "."};
  for (size_t s = 0; s < kSeriesCount; ++s)
    if (!results[s].stopped.empty()) caption.push_back(std::string(kSeries[s].name) + ": " + results[s].stopped + ".");
  if (args.has("--note")) caption.push_back(args.get("--note"));

  if (json) {
    std::string doc = "{\"scaling\": {\"cpu\": " + tools::json_quote(cpu) +
                      ", \"cpu_features\": " + tools::json_quote(bench::cpu_description()) +
                      ", \"threads\": " + std::to_string(threads) + ", \"layers\": " + std::to_string(layers) +
                      ", \"repeat\": " + std::to_string(repeat) + ", \"date\": " + tools::json_quote(date) +
                      ", \"series\": [";
    for (size_t s = 0; s < kSeriesCount; ++s) {
      doc += std::string(s ? ", " : "") + "{\"name\": " + tools::json_quote(kSeries[s].name) +
             ", \"attention\": " + tools::json_quote(kSeries[s].mode) +
             ", \"weights\": " + tools::json_quote(dtype_name(kSeries[s].type)) + ", \"points\": [";
      for (size_t i = 0; i < results[s].points.size(); ++i) {
        const Point& p = results[s].points[i];
        doc += std::string(i ? ", " : "") + "{\"n\": " + std::to_string(p.n) +
               ", \"forward_ms\": " + tools::json_number(p.ms) + ", \"peak_rss_mb\": " + tools::json_number(p.peak_mb) +
               ", \"open_rss_mb\": " + tools::json_number(p.open_mb) + "}";
      }
      doc += "], \"stopped\": " + (results[s].stopped.empty() ? std::string("null") : tools::json_quote(results[s].stopped)) + "}";
    }
    std::printf("%s]}}\n", doc.c_str());
  }

  if (args.has("--svg")) {
    ChartPanel time{"Time per forward", "sequence length n (tokens)", "time per forward (s)", "s", 256, 0, {}};
    ChartPanel memory{"Peak memory", "sequence length n (tokens)", "peak resident memory (MB)", "MB", 256, 0, {}};
    time.x_max = memory.x_max = ns.back();
    for (size_t s = 0; s < kSeriesCount; ++s) {
      ChartSeries t{kSeries[s].name, kSeries[s].color, kSeries[s].dashed, {}}, m = t;
      for (const Point& p : results[s].points) {
        t.points.push_back({(double)p.n, p.ms / 1e3});
        m.points.push_back({(double)p.n, p.peak_mb});
      }
      time.series.push_back(t);
      memory.series.push_back(m);
    }
    const std::string svg =
        log_log_chart("Nystrom vs exact attention: cost of one forward against sequence length", {time, memory}, caption);
    write_whole_file(svg_path, svg.data(), svg.size());
    if (!json) std::printf("wrote %s\n", svg_path.c_str());
  }
  return 0;
}

int scaling_child(int argc, char** argv) {
  if (argc != 7) return tools::kExitUsage;
  const std::string path = argv[2], mode = argv[4];
  const int n = std::atoi(argv[3]), threads = std::atoi(argv[5]), repeat = std::atoi(argv[6]);
  OpenOptions open;
  open.threads = threads;
  auto model = Model::open(path, open);
  RunOptions o;
  o.threads = threads;
  o.attention = mode == "exact" ? AttentionMode::Exact : AttentionMode::Nystrom;
  Session session(model, o);
  const std::vector<int32_t> ids = random_ids_for(n, model->config().vocab_size);
  const double open_mb = peak_rss_mb();
  if (n < kNoWarmUpFrom) session.run(ids);
  double best = INFINITY;
  for (int r = 0; r < (n < kNoWarmUpFrom ? repeat : 1); ++r) {
    const auto t0 = Clock::now();
    session.run(ids);
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::printf("%f %f %f\n", best, peak_rss_mb(), open_mb);
  return 0;
}

}  // namespace nystrom::benchtool
