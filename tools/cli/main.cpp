// nystrom: the command-line front end of the engine.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "../common/args.h"
#include "nystrom/nystrom.h"
#include "info_command.h"
#include "run_command.h"
#include "text_commands.h"

using namespace nystrom;

static const char kUsage[] =
    "usage: nystrom COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  info MODEL.nyf [--json]\n"
    "          show the config, head, tensors, tokenizer, which attention runs\n"
    "          and why, and the cost of a forward pass at a few lengths\n"
    "  run --model MODEL.nyf (--ids-npy IDS.npy | --ids FILE) (--out-dir DIR |\n"
    "      --json) [--landmarks M] [--attention auto|nystrom|exact] [--threads N]\n"
    "      [--isa LEVEL]\n"
    "          run a model on token ids (.npy, or text lines), write the outputs\n"
    "          as .npy or JSON Lines\n"
    "  tokenize -m MODEL.nyf [--no-special] [--json] [-f FILE | TEXT]\n"
    "          print the token ids of each input line\n"
    "  classify -m MODEL.nyf [--json] [-f FILE | TEXT]\n"
    "          print the label and its score for each input line\n"
    "  fill-mask -m MODEL.nyf [--top-k K] [--json] [-f FILE | TEXT]\n"
    "          print the best tokens and their probabilities for each mask\n"
    "  embed -m MODEL.nyf [--pool cls|mean] [--normalize] [-f FILE | TEXT]\n"
    "      [-o OUT.npy | --format jsonl]\n"
    "          write one embedding per input line to a .npy file or as JSON Lines\n"
    "  compare-attention -m MODEL.nyf [--landmarks M] [--json] [-f FILE | TEXT]\n"
    "          run each input with exact and Nystrom attention and compare them\n"
    "\n"
    "The text commands need a model converted with its tokenizer files; they\n"
    "take --truncate, --verbose, --json and the run options (--threads,\n"
    "--attention, ...); with -f - each answer is written as soon as its line\n"
    "is read. `nystrom COMMAND --help` describes a command's options in full,\n"
    "with examples; `nystrom --version` prints the version.\n"
    "exit status: 0 success, 1 runtime error, 2 usage error\n";

static int dispatch(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("nystrom %s\n", version());
    return 0;
  }
  if (cmd.empty()) throw tools::UsageError{"no command given"};
  if (cmd == "info") return cli::cmd_info(argc, argv);
  if (cmd == "run") return cli::cmd_run(argc, argv);
  if (cmd == "tokenize") return cli::cmd_tokenize(argc, argv);
  if (cmd == "classify") return cli::cmd_classify(argc, argv);
  if (cmd == "fill-mask") return cli::cmd_fill_mask(argc, argv);
  if (cmd == "embed") return cli::cmd_embed(argc, argv);
  if (cmd == "compare-attention") return cli::cmd_compare_attention(argc, argv);
  throw tools::UsageError{"unknown command '" + cmd + "'"};
}

int main(int argc, char** argv) {
  // Refused, in one line: running on regardless would leave the user
  // timing or comparing a level they did not ask for.
  if (const char* w = instruction_set_env_warning()) {
    std::fprintf(stderr, "nystrom: %s (unset it or give one of those)\n", w);
    return tools::kExitUsage;
  }
  try {
    const int status = dispatch(argc, argv);
    // The text commands' answers are on stdout: a full disk must not pass
    // for success.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) throw Error("cannot write standard output");
    return status;
  } catch (const tools::UsageError& e) {
    // A known command's own help is the one that helps.
    const std::string cmd = argc > 1 ? argv[1] : "";
    const bool known = cmd == "info" || cmd == "run" || cmd == "tokenize" || cmd == "classify" ||
                       cmd == "fill-mask" || cmd == "embed" || cmd == "compare-attention";
    std::fprintf(stderr, "nystrom: %s (see nystrom %s--help)\n", e.message.c_str(), known ? (cmd + " ").c_str() : "");
    return tools::kExitUsage;
  } catch (const std::bad_alloc&) {  // the tool's own allocations (the library's are Errors)
    std::fprintf(stderr, "nystrom: out of memory\n");
    return tools::kExitRuntime;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nystrom: %s\n", e.what());
    return tools::kExitRuntime;
  }
}
