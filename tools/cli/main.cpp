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

using namespace nystrom;

static const char kUsage[] =
    "usage: nystrom COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run --model MODEL.nyf --ids-npy IDS.npy --out-dir DIR [--landmarks M]\n"
    "      [--attention auto|nystrom|exact] [--threads N] [--isa LEVEL]\n"
    "          run a model on token ids from a .npy file, write outputs as .npy\n"
    "\n"
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
    "      --out-dir DIR       output folder (required)\n"
    "      --landmarks M       Nystrom landmark count (default: the model's);\n"
    "                          giving it selects Nystrom attention under auto\n"
    "      --attention MODE    auto (default: the checkpoint's rule, exact when\n"
    "                          num_landmarks == segment_means_seq_len), nystrom\n"
    "                          or exact; inputs of at most M tokens always run\n"
    "                          exact attention\n"
    "      --attention-precision P\n"
    "                          f32 (default) or int8: the arithmetic of the\n"
    "                          Nystrom products Q K~^T, Q~ K^T and B V (int8 needs\n"
    "                          a head size that is a multiple of 32)\n"
    "      --threads N         worker threads (default: the CPUs this process may\n"
    "                          use); outputs are identical for every N\n"
    "      --no-verify         skip the model file's checksum at load (the header,\n"
    "                          table and sizes are still checked)\n"
    "      --isa LEVEL         cap the kernels' instruction set: scalar, avx2,\n"
    "                          avx512 or neon (default: the best this CPU has;\n"
    "                          also NYSTROM_ISA)\n"
    "  -h, --help              show this help\n";

static void make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw Error(dir + ": cannot create folder: " + std::strerror(errno));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw Error(dir + ": not a folder");
}

static int cmd_run(int argc, char** argv) {
  tools::Args args(argc, argv, 2, {"--model", "--ids-npy", "--out-dir", "--landmarks", "--attention", "--threads", "--isa",
                    "--attention-precision"},
                   {"--help", "--no-verify"}, {{"-m", "--model"}, {"-h", "--help"}});
  if (args.has("--help")) {
    std::fputs(kRunUsage, stdout);
    return 0;
  }
  if (!args.positionals().empty()) throw tools::UsageError{"unexpected argument '" + args.positionals()[0] + "'"};
  const std::string model_path = args.require("--model");
  const std::string ids_path = args.require("--ids-npy");
  const std::string out_dir = args.require("--out-dir");
  RunOptions opt;
  opt.landmarks = (uint32_t)args.get_int("--landmarks", 0, 1, 4096);
  opt.threads = (int)args.get_int("--threads", 0, 1, 1024);
  const std::string precision = args.get("--attention-precision", "f32");
  if (precision == "int8") opt.attention_precision = AttentionPrecision::Int8;
  else if (precision != "f32")
    throw tools::UsageError{"--attention-precision must be f32 or int8, got '" + precision + "'"};
  std::string mode = args.get("--attention", "auto");
  if (mode == "auto") opt.attention = AttentionMode::Auto;
  else if (mode == "nystrom") opt.attention = AttentionMode::Nystrom;
  else if (mode == "exact") opt.attention = AttentionMode::Exact;
  else throw tools::UsageError{"--attention must be auto, nystrom or exact, got '" + mode + "'"};

  if (args.has("--isa")) {
    Isa cap;
    if (!parse_isa(args.get("--isa"), &cap))
      throw tools::UsageError{"--isa must be scalar, avx2, avx512 or neon, got '" + args.get("--isa") + "'"};
    set_isa_cap(cap);
  }
  std::vector<int64_t> ids64 = read_npy_ids(ids_path);
  std::vector<int32_t> ids(ids64.size());
  for (size_t i = 0; i < ids64.size(); ++i) {
    if (ids64[i] < 0 || ids64[i] > INT32_MAX)
      throw Error(ids_path + ": token id " + std::to_string(ids64[i]) + " at position " + std::to_string(i) +
                  " is out of range");
    ids[i] = (int32_t)ids64[i];
  }
  OpenOptions open_options;
  open_options.verify_checksum = !args.has("--no-verify");
  auto model = Model::open(model_path, open_options);
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

int main(int argc, char** argv) {
  if (const char* w = isa_env_warning()) std::fprintf(stderr, "nystrom: %s\n", w);
  try {
    std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (cmd.empty()) throw tools::UsageError{"no command given"};
    if (cmd == "run") return cmd_run(argc, argv);
    throw tools::UsageError{"unknown command '" + cmd + "'"};
  } catch (const tools::UsageError& e) {
    std::fprintf(stderr, "nystrom: %s (see nystrom --help)\n", e.message.c_str());
    return tools::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nystrom: %s\n", e.what());
    return tools::kExitRuntime;
  }
}
