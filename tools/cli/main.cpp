// nystrom: the command-line front end of the engine.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "../common/args.h"
#include "format/npy.h"
#include "kernels/dispatch.h"
#include "nystrom/nystrom.h"
#include "run_options.h"
#include "text_commands.h"

using namespace nystrom;

static const char kUsage[] =
    "usage: nystrom COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run --model MODEL.nyf --ids-npy IDS.npy --out-dir DIR [--landmarks M]\n"
    "      [--attention auto|nystrom|exact] [--threads N] [--isa LEVEL]\n"
    "          run a model on token ids from a .npy file, write outputs as .npy\n"
    "  tokenize -m MODEL.nyf [--no-special] [-f FILE | TEXT]\n"
    "          print the token ids of each input line\n"
    "  classify -m MODEL.nyf [--json] [-f FILE | TEXT]\n"
    "          print the label and its probability for each input line\n"
    "  fill-mask -m MODEL.nyf [--top-k K] [--json] [-f FILE | TEXT]\n"
    "          print the best tokens and their probabilities for each mask\n"
    "  embed -m MODEL.nyf [--pool cls|mean] [-f FILE | TEXT] -o OUT.npy\n"
    "          write one embedding per input line to a .npy file\n"
    "\n"
    "The text commands need a model converted with its tokenizer files; they\n"
    "take --truncate, --verbose and the run options (--threads, --attention, ...).\n"
    "`nystrom COMMAND --help` describes a command's options in full.\n"
    "exit status: 0 success, 1 runtime error, 2 usage error\n";

static const char kRunUsage[] =
    "usage: nystrom run -m MODEL.nyf --ids-npy IDS.npy --out-dir DIR [options]\n"
    "\n"
    "Runs the model on one sequence of token ids (a 1-d int64 or int32 .npy,\n"
    "or shape [1, n]) and writes float32 .npy files into DIR (created if\n"
    "missing):\n"
    "  DIR/last_hidden_state.npy   [n, hidden_size]\n"
    "  DIR/logits.npy              [n, vocab_size] (masked LM) or [num_labels]\n"
    "                              (classifier); only when the model has a head\n"
    "\n"
    "options:\n"
    "  -m, --model FILE        the .nyf model file (required)\n"
    "      --ids-npy FILE      input token ids (required)\n"
    "      --out-dir DIR       output folder (required)\n";

static void make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw Error(dir + ": cannot create folder: " + std::strerror(errno));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw Error(dir + ": not a folder");
}

static int cmd_run(int argc, char** argv) {
  tools::Args args(argc, argv, 2, cli::with({"--model", "--ids-npy", "--out-dir"}, cli::run_value_flags()),
                   cli::with({"--help"}, cli::run_switches()), {{"-m", "--model"}, {"-h", "--help"}});
  if (args.has("--help")) {
    std::fputs(kRunUsage, stdout);
    std::fputs(cli::kRunOptionsHelp, stdout);
    std::fputs("  -h, --help              show this help\n", stdout);
    return 0;
  }
  if (!args.positionals().empty()) throw tools::UsageError{"unexpected argument '" + args.positionals()[0] + "'"};
  const std::string model_path = args.require("--model");
  const std::string ids_path = args.require("--ids-npy");
  const std::string out_dir = args.require("--out-dir");
  const RunOptions opt = cli::parse_run_options(args);
  std::vector<int64_t> ids64 = read_npy_ids(ids_path);
  std::vector<int32_t> ids(ids64.size());
  for (size_t i = 0; i < ids64.size(); ++i) {
    if (ids64[i] < 0 || ids64[i] > INT32_MAX)
      throw Error(ids_path + ": token id " + std::to_string(ids64[i]) + " at position " + std::to_string(i) +
                  " is out of range");
    ids[i] = (int32_t)ids64[i];
  }
  auto model = Model::open(model_path, cli::parse_open_options(args));
  Session session(model, opt);
  const auto t0 = std::chrono::steady_clock::now();
  Output out = session.run(ids);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  make_dir(out_dir);
  write_npy(out_dir + "/last_hidden_state.npy", "<f4", {out.n, out.hidden}, out.last_hidden_state.data());
  if (!out.logits_shape.empty()) {
    std::vector<uint64_t> shape(out.logits_shape.begin(), out.logits_shape.end());
    write_npy(out_dir + "/logits.npy", "<f4", shape, out.logits.data());
  }

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
    std::printf(", logits.npy [%zu]; label %s (p=%.3f)", out.logits.size(), c.labels[best].c_str(), 1.0 / sum);
  } else if (c.head == HeadType::MaskedLM) {
    std::printf(", logits.npy [%zu, %zu]", out.n, (size_t)c.vocab_size);
  }
  std::printf("\n");
  return 0;
}

static int dispatch(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd.empty()) throw tools::UsageError{"no command given"};
  if (cmd == "run") return cmd_run(argc, argv);
  if (cmd == "tokenize") return cli::cmd_tokenize(argc, argv);
  if (cmd == "classify") return cli::cmd_classify(argc, argv);
  if (cmd == "fill-mask") return cli::cmd_fill_mask(argc, argv);
  if (cmd == "embed") return cli::cmd_embed(argc, argv);
  throw tools::UsageError{"unknown command '" + cmd + "'"};
}

int main(int argc, char** argv) {
  if (const char* w = isa_env_warning()) std::fprintf(stderr, "nystrom: %s\n", w);
  try {
    const int status = dispatch(argc, argv);
    // The text commands' answers are on stdout: a full disk must not pass
    // for success.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) throw Error("cannot write standard output");
    return status;
  } catch (const tools::UsageError& e) {
    std::fprintf(stderr, "nystrom: %s (see nystrom --help)\n", e.message.c_str());
    return tools::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nystrom: %s\n", e.what());
    return tools::kExitRuntime;
  }
}
