// nystrom run: the model on token ids (a .npy file, or text: one sequence
// per line), its outputs written as .npy files with a one-line summary on
// stdout, or as JSON Lines.
#include "run_command.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../common/args.h"
#include "../common/attention_summary.h"
#include "../common/json_out.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "output_folder.h"
#include "run_options.h"
#include "text_common.h"
#include "text_input.h"

namespace nystrom::cli {

static const char kRunUsage[] =
    "usage: nystrom run -m MODEL.nyf (--ids-npy IDS.npy | --ids FILE)\n"
    "                   (--out-dir DIR | --json) [options]\n"
    "\n"
    "Runs the model on token ids: one sequence from --ids-npy (a 1-d int64 or\n"
    "int32 .npy, or shape [1, n]), or one sequence per line of --ids FILE ('-':\n"
    "standard input), each line the ids as decimal numbers separated by spaces\n"
    "or tabs (what `nystrom tokenize` prints). A line that holds anything else,\n"
    "an id outside the vocabulary or more ids than the model's positions is an\n"
    "error naming the line.\n"
    "\n"
    "With --out-dir, writes float32 .npy files of one sequence (--ids: a file\n"
    "of one line) into DIR (created, with its parents, if missing):\n"
    "  DIR/last_hidden_state.npy   [n, hidden_size]\n"
    "  DIR/logits.npy              [n, vocab_size] (masked LM) or [num_labels]\n"
    "                              (classifier); only when the model has a head\n"
    "and a summary line on stdout. DIR is replaced as a unit: it ends holding\n"
    "exactly this run's outputs, or, when anything fails, exactly what it held\n"
    "before. An existing DIR may hold only these two files (anything else is\n"
    "refused rather than lost).\n"
    "With --json, one JSON object per sequence on stdout instead (JSON Lines;\n"
    "with --ids, each written before the next line is read):\n"
    "  {\"n\": 4, \"attention\": \"exact\", \"landmarks\": 0,\n"
    "   \"last_hidden_state\": [[...], ...], \"logits\": [[...], ...]}\n"
    "logits as in logits.npy (rows for a masked LM, one list for a classifier;\n"
    "left out without a head); landmarks is 0 for exact attention.\n"
    "\n"
    "options:\n"
    "  -m, --model FILE        the .nyf model file (required)\n"
    "      --ids-npy FILE      input token ids as .npy\n"
    "      --ids FILE          input token ids as text, one sequence per line\n"
    "      --out-dir DIR       output folder\n"
    "      --json              JSON output on stdout, one object per sequence\n"
    "  -v, --verbose           say on stderr which attention runs and why\n";

static const char kRunExamples[] =
    "\n"
    "examples:\n"
    "  nystrom run -m model.nyf --ids-npy ids.npy --out-dir out/\n"
    "  nystrom tokenize -m model.nyf -f texts.txt |\n"
    "    nystrom run -m model.nyf --ids - --json > outputs.jsonl\n";

namespace {

// One line of --ids: the ids, checked against the model (errors name the line).
std::vector<int32_t> parse_ids(const TextInput& in, const ModelConfig& c) {
  std::vector<int32_t> ids;
  const std::string& s = in.text;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == ' ' || s[i] == '\t') {
      ++i;
      continue;
    }
    size_t end = s.find_first_of(" \t", i);
    if (end == std::string::npos) end = s.size();
    const std::string word = s.substr(i, end - i);
    i = end;
    if (word.find_first_not_of("0123456789") != std::string::npos)
      throw Error(in.where + ": '" + escape_text(word.substr(0, 40)) +
                  "' is not a token id (ids are non-negative integers separated by spaces)");
    const uint64_t id = word.size() > 10 ? UINT64_MAX : std::stoull(word);
    if (id >= c.vocab_size)
      throw Error(in.where + ": token id " + (word.size() > 20 ? word.substr(0, 20) + "..." : word) +
                  " is outside the vocabulary (0.." + std::to_string(c.vocab_size - 1) + ")");
    if (ids.size() == c.max_positions)
      throw Error(in.where + ": more ids than the model's " + std::to_string(c.max_positions) + " positions");
    ids.push_back((int32_t)id);
  }
  return ids;
}

std::vector<int32_t> read_npy_sequence(const std::string& path) {
  std::vector<int64_t> ids64 = read_npy_ids(path);
  std::vector<int32_t> ids(ids64.size());
  for (size_t i = 0; i < ids64.size(); ++i) {
    if (ids64[i] < 0 || ids64[i] > INT32_MAX)
      throw Error(path + ": token id " + std::to_string(ids64[i]) + " at position " + std::to_string(i) +
                  " is out of range");
    ids[i] = (int32_t)ids64[i];
  }
  return ids;
}

// rows x cols floats as a JSON array of rows.
std::string json_rows(const float* v, size_t rows, size_t cols) {
  std::string s = "[";
  for (size_t r = 0; r < rows; ++r) s += (r ? ", " : "") + json_numbers(v + r * cols, cols);
  return s + "]";
}

std::string json_output(const Output& out, const ModelConfig& c) {
  std::string s = "{\"n\": " + std::to_string(out.n) + ", \"attention\": \"" +
                  (out.exact_attention ? "exact" : "nystrom") + "\", \"landmarks\": " + std::to_string(out.landmarks) +
                  ", \"last_hidden_state\": " + json_rows(out.last_hidden_state.data(), out.n, out.hidden);
  if (c.head == HeadType::MaskedLM)
    s += ", \"logits\": " + json_rows(out.logits.data(), out.logits_shape[0], out.logits_shape[1]);
  else if (c.head == HeadType::Classifier)
    s += ", \"logits\": " + json_numbers(out.logits.data(), out.logits.size());
  return s + "}";
}

// The summary line of --out-dir: what ran, how long, and the answer.
void print_summary(const Output& out, const ModelConfig& c, int threads, double ms, const std::string& out_dir) {
  std::printf("n=%zu attention=%s", out.n, out.exact_attention ? "exact" : "nystrom");
  if (!out.exact_attention) std::printf("(m=%u)", out.landmarks);
  std::printf(" threads=%d isa=%s time=%.2fms -> %s/last_hidden_state.npy [%zu, %zu]", threads,
              instruction_set_name(instruction_set()), ms, out_dir.c_str(), out.n, out.hidden);
  if (c.head == HeadType::Classifier) {
    size_t best = 0;
    double sum = 0;
    for (size_t i = 0; i < out.logits.size(); ++i) best = out.logits[i] > out.logits[best] ? i : best;
    for (float l : out.logits) sum += std::exp((double)l - out.logits[best]);
    std::printf(", logits.npy [%zu]; label %s (p=%.3f)", out.logits.size(), escape_text(c.labels[best]).c_str(),
                1.0 / sum);
  } else if (c.head == HeadType::MaskedLM) {
    std::printf(", logits.npy [%zu, %zu]", out.n, (size_t)c.vocab_size);
  }
  std::printf("\n");
}

}  // namespace

int cmd_run(int argc, char** argv) {
  tools::Args args(argc, argv, 2, with({"--model", "--ids-npy", "--ids", "--out-dir"}, run_value_flags()),
                   with({"--help", "--json", "--verbose"}, run_switches()),
                   {{"-m", "--model"}, {"-h", "--help"}, {"-v", "--verbose"}});
  if (args.has("--help")) {
    std::fputs(kRunUsage, stdout);
    std::fputs(kRunOptionsHelp, stdout);
    std::fputs("  -h, --help              show this help\n", stdout);
    std::fputs(kRunExamples, stdout);
    return 0;
  }
  if (!args.positionals().empty()) throw tools::UsageError{"unexpected argument '" + args.positionals()[0] + "'"};
  const std::string model_path = args.require("--model");
  if (args.has("--ids-npy") == args.has("--ids")) throw tools::UsageError{"give one of --ids-npy and --ids"};
  const bool json = args.has("--json");
  if (json == args.has("--out-dir")) throw tools::UsageError{"give one of --out-dir and --json"};
  const RunOptions opt = parse_run_options(args);
  std::unique_ptr<OutputFolder> folder;  // checked before any work
  if (!json) folder = std::make_unique<OutputFolder>(args.get("--out-dir"), std::vector<std::string>{"last_hidden_state.npy", "logits.npy"});

  // The inputs: a .npy's one sequence, or --ids lines (a file of them for
  // --out-dir read whole first: it must hold exactly one).
  std::vector<int32_t> npy_ids;
  std::unique_ptr<TextSource> lines;
  std::vector<TextInput> whole;
  if (args.has("--ids-npy")) {
    npy_ids = read_npy_sequence(args.get("--ids-npy"));
  } else {
    lines = std::make_unique<TextSource>(args.get("--ids"));
    if (!json) {
      for (TextInput in; lines->next(in);) {
        if (!whole.empty())
          throw Error(in.where + ": --out-dir holds the outputs of one sequence; give --json for several lines");
        whole.push_back(std::move(in));
      }
    }
  }

  auto model = Model::open(model_path, parse_open_options(args));
  const ModelConfig& c = model->config();
  Session session(model, opt);
  if (args.has("--verbose"))
    std::fprintf(stderr, "attention:   %s\n", tools::attention_summary(c, session.options()).c_str());
  Output out;
  auto run = [&](const std::vector<int32_t>& ids) {
    const auto t0 = std::chrono::steady_clock::now();
    session.run(ids.data(), ids.size(), out);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };

  if (json) {
    if (!lines) {
      run(npy_ids);
      put_line(json_output(out, c));
      return 0;
    }
    for (TextInput in; lines->next(in);) {
      run(parse_ids(in, c));
      put_line(json_output(out, c));
      flush_output();  // the answer leaves before the next line is read
    }
    return 0;
  }

  const double ms = run(lines ? parse_ids(whole[0], c) : npy_ids);
  const std::string staging = folder->begin();
  write_npy(staging + "/last_hidden_state.npy", "<f4", {out.n, out.hidden}, out.last_hidden_state.data());
  if (!out.logits_shape.empty()) {
    std::vector<uint64_t> shape(out.logits_shape.begin(), out.logits_shape.end());
    write_npy(staging + "/logits.npy", "<f4", shape, out.logits.data());
  }
  folder->commit();
  print_summary(out, c, session.options().threads, ms, args.get("--out-dir"));
  return 0;
}

}  // namespace nystrom::cli
