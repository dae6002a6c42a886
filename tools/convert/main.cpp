// nystrom-convert: Hugging Face checkpoint folder -> .nyf model file.
#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <iostream>

#include "../common/args.h"
#include "../common/output_check.h"
#include "convert/hf_checkpoint.h"
#include "format/model_file.h"

using namespace nystrom;

static const char kUsage[] =
    "usage: nystrom-convert HF_DIR -o OUT.nyf [--type f32|f16|q8_0|q4_0] [--no-tokenizer]\n"
    "\n"
    "Converts a Hugging Face Nystromformer checkpoint (config.json and\n"
    "model.safetensors, or pytorch_model.bin when there is no safetensors file;\n"
    "F32, F16 or BF16 tensors) into a .nyf model file.\n"
    "The checkpoint's tokenizer files (tokenizer.json, spiece.model, vocab.txt,\n"
    "vocab.json + merges.txt, tokenizer_config.json, special_tokens_map.json)\n"
    "are checked by building the tokenizer and embedded in the file, so that\n"
    "`nystrom tokenize/classify/fill-mask/embed` take text; a folder without\n"
    "them converts to a file that takes token ids only.\n"
    "Every tensor is checked against the configuration; the output is written\n"
    "to a temporary file beside it and renamed, so it appears whole or not at\n"
    "all (a symbolic link's target is written; a device or FIFO in place).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   the .nyf file to write (required; '-': standard output)\n"
    "  -t, --type TYPE     how weight matrices (linear layers, decoder, word\n"
    "                      embeddings) are stored: f32 (default), f16, q8_0\n"
    "                      (8-bit blocks of 32 with an f16 scale, ~8.5 bits per\n"
    "                      weight) or q4_0 (4-bit, ~4.5 bits per weight);\n"
    "                      LayerNorm, biases, conv and position tables stay f32\n"
    "      --no-tokenizer  leave the tokenizer files out (and unchecked)\n"
    "  -q, --quiet         print nothing on success\n"
    "  -h, --help          show this help\n"
    "\n"
    "exit status: 0 success, 1 the conversion failed, 2 usage error\n";

int main(int argc, char** argv) {
  try {
    tools::Args args(argc, argv, 1, {"--output", "--type"}, {"--help", "--quiet", "--no-tokenizer"},
                     {{"-o", "--output"}, {"-h", "--help"}, {"-q", "--quiet"}, {"-t", "--type"}});
    if (args.has("--help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args.positionals().size() != 1) throw tools::UsageError{"expected exactly one checkpoint folder"};
    const std::string out = args.require("--output");
    tools::check_output_file(out);  // before any work
    format::DType type = format::DType::F32;
    if (!parse_dtype(args.get("--type", "f32"), &type))
      throw tools::UsageError{"--type must be f32, f16, q8_0 or q4_0, got '" + args.get("--type") + "'"};
    const std::string dir = args.positionals()[0];
    Checkpoint ck = read_hf_checkpoint(dir);
    CheckpointTokenizer tok;
    if (!args.has("--no-tokenizer")) tok = read_hf_tokenizer(dir, ck.config);
    std::vector<std::string> kept_f32;
    set_weight_type(ck, type, &kept_f32);
    write_model_file(out, ck.config, ck.tensors, tok.files);
    if (!args.has("--quiet") && out != "-") {  // '-': stdout holds the file
      std::map<std::string, std::pair<int, uint64_t>> by_type;  // dtype -> tensors, bytes
      for (const TensorData& t : ck.tensors) {
        auto& e = by_type[dtype_name(t.dtype)];
        e.first += 1, e.second += t.bytes.size();
      }
      for (const std::string& name : kept_f32)
        std::printf("note: %s has a column count that is not a multiple of 32; kept as f32\n", name.c_str());
      for (const std::string& name : tok.ignored)
        std::printf("note: %s found but no tokenizer model file (tokenizer.json, spiece.model, vocab.txt, "
                    "vocab.json); left out\n", name.c_str());
      for (const auto& [name, e] : by_type)
        std::printf("  %-5s %4d tensors %12.3f MB\n", name.c_str(), e.first, e.second / 1e6);
      if (tok.tokenizer) {
        std::string names;
        uint64_t bytes = 0;
        for (const text::TokenizerFile& f : tok.files) names += (names.empty() ? "" : ", ") + f.name, bytes += f.bytes.size();
        std::printf("  tokenizer: %s, %d ids, mask %s (%s: %.3f MB)\n", tok.tokenizer->kind(),
                    (int)tok.tokenizer->vocab_size(),
                    tok.tokenizer->mask_id() ? tok.tokenizer->id_to_token(*tok.tokenizer->mask_id()).c_str() : "none",
                    names.c_str(), bytes / 1e6);
      } else {
        std::printf("  tokenizer: none%s\n", args.has("--no-tokenizer") ? " (--no-tokenizer)" : " in the folder");
      }
      struct stat st;
      if (::stat(out.c_str(), &st) == 0)
        std::printf("wrote %s: %zu tensors, file %.3f MB\n", out.c_str(), ck.tensors.size(), st.st_size / 1e6);
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
