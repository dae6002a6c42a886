// nystrom run: the model on token ids from a .npy file, its outputs written
// as .npy files and a one-line summary on stdout.
#include "run_command.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../common/args.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "output_folder.h"
#include "run_options.h"
#include "text_common.h"

namespace nystrom::cli {

static const char kRunUsage[] =
    "usage: nystrom run -m MODEL.nyf --ids-npy IDS.npy --out-dir DIR [options]\n"
    "\n"
    "Runs the model on one sequence of token ids (a 1-d int64 or int32 .npy,\n"
    "or shape [1, n]) and writes float32 .npy files into DIR (created, with\n"
    "its parents, if missing):\n"
    "  DIR/last_hidden_state.npy   [n, hidden_size]\n"
    "  DIR/logits.npy              [n, vocab_size] (masked LM) or [num_labels]\n"
    "                              (classifier); only when the model has a head\n"
    "DIR is replaced as a unit: it ends holding exactly this run's outputs, or,\n"
    "when anything fails, exactly what it held before. An existing DIR may hold\n"
    "only these two files (anything else is refused rather than lost).\n"
    "\n"
    "options:\n"
    "  -m, --model FILE        the .nyf model file (required)\n"
    "      --ids-npy FILE      input token ids (required)\n"
    "      --out-dir DIR       output folder (required)\n";

int cmd_run(int argc, char** argv) {
  tools::Args args(argc, argv, 2, with({"--model", "--ids-npy", "--out-dir"}, run_value_flags()),
                   with({"--help"}, run_switches()), {{"-m", "--model"}, {"-h", "--help"}});
  if (args.has("--help")) {
    std::fputs(kRunUsage, stdout);
    std::fputs(kRunOptionsHelp, stdout);
    std::fputs("  -h, --help              show this help\n", stdout);
    return 0;
  }
  if (!args.positionals().empty()) throw tools::UsageError{"unexpected argument '" + args.positionals()[0] + "'"};
  const std::string model_path = args.require("--model");
  const std::string ids_path = args.require("--ids-npy");
  const std::string out_dir = args.require("--out-dir");
  const RunOptions opt = parse_run_options(args);
  OutputFolder folder(out_dir, {"last_hidden_state.npy", "logits.npy"});  // checked before any work
  std::vector<int64_t> ids64 = read_npy_ids(ids_path);
  std::vector<int32_t> ids(ids64.size());
  for (size_t i = 0; i < ids64.size(); ++i) {
    if (ids64[i] < 0 || ids64[i] > INT32_MAX)
      throw Error(ids_path + ": token id " + std::to_string(ids64[i]) + " at position " + std::to_string(i) +
                  " is out of range");
    ids[i] = (int32_t)ids64[i];
  }
  auto model = Model::open(model_path, parse_open_options(args));
  Session session(model, opt);
  const auto t0 = std::chrono::steady_clock::now();
  Output out = session.run(ids);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  const std::string staging = folder.begin();
  write_npy(staging + "/last_hidden_state.npy", "<f4", {out.n, out.hidden}, out.last_hidden_state.data());
  if (!out.logits_shape.empty()) {
    std::vector<uint64_t> shape(out.logits_shape.begin(), out.logits_shape.end());
    write_npy(staging + "/logits.npy", "<f4", shape, out.logits.data());
  }
  folder.commit();

  // One summary line on stdout: what ran, how long, and the answer.
  const ModelConfig& c = model->config();
  std::printf("n=%zu attention=%s", out.n, out.exact_attention ? "exact" : "nystrom");
  if (!out.exact_attention) std::printf("(m=%u)", out.landmarks);
  std::printf(" threads=%d isa=%s time=%.2fms -> %s/last_hidden_state.npy [%zu, %zu]", session.options().threads,
              instruction_set_name(instruction_set()), ms, out_dir.c_str(), out.n, out.hidden);
  if (c.head == HeadType::Classifier) {
    size_t best = 0;
    double sum = 0;
    for (size_t i = 0; i < out.logits.size(); ++i) best = out.logits[i] > out.logits[best] ? i : best;
    for (float l : out.logits) sum += std::exp((double)l - out.logits[best]);
    std::printf(", logits.npy [%zu]; label %s (p=%.3f)", out.logits.size(), escape_text(c.labels[best]).c_str(), 1.0 / sum);
  } else if (c.head == HeadType::MaskedLM) {
    std::printf(", logits.npy [%zu, %zu]", out.n, (size_t)c.vocab_size);
  }
  std::printf("\n");
  return 0;
}

}  // namespace nystrom::cli
