// nystrom-convert: Hugging Face checkpoint folder -> .nyf model file.
#include <cstdio>
#include <iostream>

#include "../common/args.h"
#include "convert/hf_checkpoint.h"
#include "format/model_file.h"

using namespace nystrom;

static const char kUsage[] =
    "usage: nystrom-convert HF_DIR -o OUT.nyf\n"
    "\n"
    "Converts a Hugging Face Nystromformer checkpoint (config.json and\n"
    "model.safetensors with F32, F16 or BF16 tensors) into a .nyf model file.\n"
    "Every tensor is checked against the configuration; the output is written\n"
    "to a temporary file and renamed, so it appears whole or not at all.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   the .nyf file to write (required)\n"
    "  -q, --quiet         print nothing on success\n"
    "  -h, --help          show this help\n"
    "\n"
    "exit status: 0 success, 1 the conversion failed, 2 usage error\n";

int main(int argc, char** argv) {
  try {
    tools::Args args(argc, argv, 1, {"--output"}, {"--help", "--quiet"},
                     {{"-o", "--output"}, {"-h", "--help"}, {"-q", "--quiet"}});
    if (args.has("--help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args.positionals().size() != 1) throw tools::UsageError{"expected exactly one checkpoint folder"};
    const std::string out = args.require("--output");
    Checkpoint ck = read_hf_checkpoint(args.positionals()[0]);
    write_model_file(out, ck.config, ck.tensors);
    if (!args.has("--quiet")) {
      uint64_t bytes = 0;
      for (const TensorData& t : ck.tensors) bytes += t.bytes.size();
      std::printf("wrote %s: %zu tensors, %.1f MB of weights\n", out.c_str(), ck.tensors.size(), bytes / 1e6);
    }
    return 0;
  } catch (const tools::UsageError& e) {
    std::fprintf(stderr, "nystrom-convert: %s (see --help)\n", e.message.c_str());
    return tools::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nystrom-convert: %s\n", e.what());
    return tools::kExitRuntime;
  }
}
