// nystrom: the command-line front end of the engine.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "../common/args.h"
#include "nystrom/nystrom.h"
#include "run_command.h"
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
    "  compare-attention -m MODEL.nyf [--landmarks M] [--json] [-f FILE | TEXT]\n"
    "          run each input with exact and Nystrom attention and compare them\n"
    "\n"
    "The text commands need a model converted with its tokenizer files; they\n"
    "take --truncate, --verbose and the run options (--threads, --attention, ...).\n"
    "`nystrom COMMAND --help` describes a command's options in full;\n"
    "`nystrom --version` prints the version.\n"
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
    std::fprintf(stderr, "nystrom: %s (see nystrom --help)\n", e.message.c_str());
    return tools::kExitUsage;
  } catch (const std::bad_alloc&) {  // the tool's own allocations (the library's are Errors)
    std::fprintf(stderr, "nystrom: out of memory\n");
    return tools::kExitRuntime;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nystrom: %s\n", e.what());
    return tools::kExitRuntime;
  }
}
