// What the text commands (tokenize, classify, fill-mask, embed) share: their
// inputs (one TEXT, or one per line of a file), tokenizing against the
// model's positions (an error, or --truncate), progress on a terminal, and
// the --verbose summary.
#pragma once
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../common/args.h"
#include "nystrom/nystrom.h"
#include "run_options.h"
#include "runtime/read_file.h"

namespace nystrom::cli {

// The flags every text command takes, besides its own and the run options.
inline const std::set<std::string>& text_value_flags() {
  static const std::set<std::string> flags = {"--model", "--file"};
  return flags;
}
inline const std::set<std::string>& text_switches() {
  static const std::set<std::string> switches = {"--help", "--truncate", "--verbose"};
  return switches;
}
inline const std::map<std::string, std::string>& text_aliases() {
  static const std::map<std::string, std::string> aliases = {
      {"-m", "--model"}, {"-f", "--file"}, {"-h", "--help"}, {"-v", "--verbose"}, {"-k", "--top-k"}, {"-o", "--output"}};
  return aliases;
}

constexpr char kTextInputHelp[] =
    "  -m, --model FILE        the .nyf model file, converted with its tokenizer\n"
    "                          (required)\n"
    "  -f, --file FILE         one input per line of FILE ('-': standard input)\n"
    "                          instead of TEXT; a blank line is an error (output\n"
    "                          line i belongs to input line i); CRLF is accepted\n"
    "      --truncate          cut an input longer than the model's positions\n"
    "                          (special tokens included) to fit, keeping its\n"
    "                          start; without it such an input is an error\n"
    "  -v, --verbose           print load time, tokens, tokens per second and\n"
    "                          peak memory on stderr\n";

constexpr char kTextCommonHelp[] =
    "TEXT that begins with '-' follows `--`. Progress (\"1200/96000 lines\") is\n"
    "shown on stderr when it is a terminal.\n";

// One input and where it came from, for messages ("reviews.txt line 3").
struct TextInput {
  std::string text;
  std::string where;
};

inline bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\f\v") == std::string::npos; }

// TEXT (the one positional) or the lines of -f FILE. A blank input is an
// error rather than skipped, so that outputs stay aligned with input lines.
inline std::vector<TextInput> read_text_inputs(const tools::Args& args) {
  const auto& pos = args.positionals();
  if (args.has("--file")) {
    if (!pos.empty()) throw tools::UsageError{"give either TEXT or --file, not both"};
  } else {
    if (pos.empty()) throw tools::UsageError{"no input: give TEXT or --file FILE"};
    if (pos.size() > 1) throw tools::UsageError{"expected one TEXT (quote it), got " + std::to_string(pos.size())};
    if (blank(pos[0])) throw Error("the text is blank");
    return {{pos[0], "the text"}};
  }
  const std::string path = args.get("--file");
  std::string data;
  if (path == "-") {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) throw Error("standard input: read error");
  } else {
    std::vector<uint8_t> bytes = read_whole_file(path);
    data.assign(bytes.begin(), bytes.end());
  }
  const std::string name = path == "-" ? std::string("standard input") : path;
  std::vector<TextInput> inputs;
  size_t start = 0, line = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    std::string text = data.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    ++line;
    std::string where = name + " line " + std::to_string(line);
    if (blank(text)) throw Error(where + ": blank line (every line is one input; remove blank lines)");
    inputs.push_back({std::move(text), std::move(where)});
    start = end + 1;
  }
  if (inputs.empty()) throw Error(name + ": no input lines");
  return inputs;
}

// Tokenizes inputs for a model: at most max_positions ids with the special
// tokens counted, whether or not they are returned.
class Encoder {
 public:
  Encoder(const Tokenizer& tok, size_t max_positions, bool truncate)
      : tok_(tok), max_(max_positions), truncate_(truncate) {}

  std::vector<int32_t> encode(const TextInput& in, bool add_special) const {
    const size_t specials = (size_t)tok_.num_special_tokens();
    if (specials >= max_) fail_room(in);
    if (!add_special) {
      std::vector<int32_t> ids = tok_.encode(in.text, false);
      if (ids.size() + specials > max_) {
        if (!truncate_) too_long(in, ids.size() + specials);
        ids.resize(max_ - specials);
      }
      return ids;
    }
    std::vector<int32_t> full = tok_.encode(in.text, true);
    if (full.size() <= max_) return full;
    if (!truncate_) too_long(in, full.size());
    // Cut the text's own tokens, keep the template's around them: find where
    // the plain encoding sits inside the full one.
    const std::vector<int32_t> plain = tok_.encode(in.text, false);
    if (plain.size() > full.size()) cannot_truncate(in);
    const size_t added = full.size() - plain.size();
    if (added >= max_) fail_room(in);
    for (size_t p = 0; p <= added; ++p) {
      if (!std::equal(plain.begin(), plain.end(), full.begin() + p)) continue;
      std::vector<int32_t> out(full.begin(), full.begin() + p);
      out.insert(out.end(), plain.begin(), plain.begin() + (max_ - added));
      out.insert(out.end(), full.begin() + p + plain.size(), full.end());
      return out;
    }
    cannot_truncate(in);
  }

 private:
  [[noreturn]] void too_long(const TextInput& in, size_t n) const {
    throw Error(in.where + ": " + std::to_string(n) + " tokens (special tokens included), but the model takes at most " +
                std::to_string(max_) + " (--truncate cuts the text to fit)");
  }
  [[noreturn]] void cannot_truncate(const TextInput& in) const {
    throw Error(in.where + ": cannot truncate: the tokenizer's template does not keep the text's tokens together");
  }
  [[noreturn]] void fail_room(const TextInput& in) const {
    throw Error(in.where + ": the model's " + std::to_string(max_) + " positions leave no room for text");
  }
  const Tokenizer& tok_;
  size_t max_;
  bool truncate_;
};

using Clock = std::chrono::steady_clock;
inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// "\r1200/96000 lines" on stderr, at most ten times a second, only when
// stderr is a terminal and there is more than one input; erased at the end.
class Progress {
 public:
  explicit Progress(size_t total) : total_(total), on_(total > 1 && ::isatty(2)) {}
  ~Progress() { finish(); }
  void update(size_t done) {
    if (!on_ || ms_since(last_) < 100) return;
    last_ = Clock::now();
    std::fprintf(stderr, "\r%zu/%zu lines", done, total_);
    shown_ = true;
  }
  void finish() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  size_t total_;
  bool on_;
  bool shown_ = false;
  Clock::time_point last_ = Clock::now();
};

// Peak resident memory of this process so far, in MB (getrusage: Linux
// reports ru_maxrss in KiB).
inline double peak_memory_mb() {
  struct rusage ru;
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return ru.ru_maxrss * 1024.0 / 1e6;
}

// A text command's model, tokenizer and inputs, with the timings --verbose
// prints.
struct TextRun {
  std::shared_ptr<const Model> model;
  const Tokenizer* tok = nullptr;
  RunOptions options;
  std::vector<TextInput> inputs;
  bool verbose = false;
  double model_ms = 0, tokenizer_ms = 0, tokenize_ms = 0, run_ms = 0;
  size_t tokens = 0;

  // Parses the shared options (usage errors first), reads the inputs, opens
  // the model and builds its tokenizer. A model without a tokenizer is an
  // error that says how to get one.
  explicit TextRun(const tools::Args& args) {
    options = parse_run_options(args);
    const std::string path = args.require("--model");
    verbose = args.has("--verbose");
    inputs = read_text_inputs(args);
    auto t0 = Clock::now();
    model = Model::open(path, parse_open_options(args));
    model_ms = ms_since(t0);
    t0 = Clock::now();
    tok = model->tokenizer();
    tokenizer_ms = ms_since(t0);
    if (!tok) throw Error(path + " has no tokenizer (convert the checkpoint with its tokenizer files)");
  }

  // Every input's ids (errors name the input), timed; with progress when
  // `show_progress` (the tokenize command, whose work this is).
  std::vector<std::vector<int32_t>> encode_all(bool add_special, bool truncate, bool show_progress = false) {
    const auto t0 = Clock::now();
    Encoder enc(*tok, model->config().max_positions, truncate);
    std::vector<std::vector<int32_t>> ids;
    ids.reserve(inputs.size());
    Progress progress(show_progress ? inputs.size() : 0);
    for (const TextInput& in : inputs) {
      ids.push_back(enc.encode(in, add_special));
      tokens += ids.back().size();
      progress.update(ids.size());
    }
    tokenize_ms = ms_since(t0);
    return ids;
  }

  // Runs each sequence on one session in input order, calling use(i, out).
  template <typename Use>
  void run_all(const std::vector<std::vector<int32_t>>& ids, Use&& use) {
    Session session(model, options);
    options = session.options();  // with the thread count resolved, for the summary
    const auto t0 = Clock::now();
    Progress progress(ids.size());
    Output out;
    for (size_t i = 0; i < ids.size(); ++i) {
      session.run(ids[i].data(), ids[i].size(), out);
      use(i, out);
      progress.update(i + 1);
    }
    progress.finish();
    run_ms = ms_since(t0);
  }

  // The --verbose summary on stderr.
  void report() const {
    if (!verbose) return;
    const double work_ms = tokenize_ms + run_ms;
    std::fprintf(stderr, "load:        %.1f ms (model file %.1f ms, tokenizer %.1f ms)\n", model_ms + tokenizer_ms,
                 model_ms, tokenizer_ms);
    std::fprintf(stderr, "tokens:      %zu in %zu input%s (tokenizing %.1f ms)\n", tokens, inputs.size(),
                 inputs.size() == 1 ? "" : "s", tokenize_ms);
    if (run_ms > 0)
      std::fprintf(stderr, "model:       %.1f ms (threads %d, isa %s)\n", run_ms, options.threads,
                   instruction_set_name(instruction_set()));
    std::fprintf(stderr, "throughput:  %.0f tokens/s (tokenizing%s)\n", work_ms > 0 ? tokens * 1000.0 / work_ms : 0.0,
                 run_ms > 0 ? " and model" : "");
    std::fprintf(stderr, "peak memory: %.1f MB\n", peak_memory_mb());
  }
};

}  // namespace nystrom::cli
