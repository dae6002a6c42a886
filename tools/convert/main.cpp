// nystrom-convert: Hugging Face checkpoint folder -> .nyf model file.
#include <cstdio>

#include "../common/args.h"
#include "../common/attention_summary.h"
#include "../common/output_check.h"
#include "nystrom/convert.h"

using namespace nystrom;

static const char kUsage[] =
    "usage: nystrom-convert HF_DIR -o OUT.nyf [--type f32|f16|q8_0|q4_0|q8_c] [--pure]\n"
    "                       [--no-tokenizer]\n"
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
    "                      weight), q4_0 (4-bit, ~4.5 bits per weight) or\n"
    "                      q8_c (8-bit, one f32 scale per output row; needs a\n"
    "                      format version 4 reader);\n"
    "                      LayerNorm, biases, conv and token-type tables stay\n"
    "                      f32; the head's matrices (classifier, masked-LM\n"
    "                      head) are kept one step up (q8_0 and q8_c: f16,\n"
    "                      q4_0: q8_0), and q4_0 keeps the embedding tables at\n"
    "                      q8_0\n"
    "      --pure          with q8_0, q4_0 or q8_c: every weight matrix in that type\n"
    "      --no-tokenizer  leave the tokenizer files out (and unchecked)\n"
    "  -q, --quiet         print nothing on success\n"
    "  -h, --help          show this help\n"
    "      --version       print the version\n"
    "\n"
    "exit status: 0 success, 1 the conversion failed, 2 usage error\n";

int main(int argc, char** argv) {
  try {
    tools::Args args(argc, argv, 1, {"--output", "--type"}, {"--help", "--quiet", "--no-tokenizer", "--pure", "--version"},
                     {{"-o", "--output"}, {"-h", "--help"}, {"-q", "--quiet"}, {"-t", "--type"}});
    if (args.has("--help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args.has("--version")) {
      std::printf("nystrom-convert %s\n", version());
      return 0;
    }
    if (args.positionals().size() != 1) throw tools::UsageError{"expected exactly one checkpoint folder"};
    const std::string out = args.require("--output");
    tools::check_output_file(out);  // before any work
    ConvertOptions options;
    if (!format::parse_dtype(args.get("--type", "f32"), &options.weight_type))
      throw tools::UsageError{"--type must be f32, f16, q8_0, q4_0 or q8_c, got '" + args.get("--type") + "'"};
    if (args.has("--pure") && options.weight_type != format::DType::Q8_0 &&
        options.weight_type != format::DType::Q4_0 && options.weight_type != format::DType::Q8_C)
      throw tools::UsageError{"--pure goes with --type q8_0, q4_0 or q8_c"};
    options.pure = args.has("--pure");
    options.tokenizer = !args.has("--no-tokenizer");
    const ConvertResult r = convert_checkpoint(args.positionals()[0], out, options);
    if (!args.has("--quiet") && out != "-") {  // '-': stdout holds the file
      for (const std::string& name : r.kept_f32)
        std::printf("note: %s has a column count that is not a multiple of 32; kept as f32\n", name.c_str());
      for (const std::string& name : r.ignored_tokenizer_files)
        std::printf("note: %s found but no tokenizer model file (tokenizer.json, spiece.model, vocab.txt, "
                    "vocab.json); left out\n", name.c_str());
      for (const ConvertResult::TypeCount& t : r.by_type)
        std::printf("  %-5s %4d tensors %12.3f MB\n", t.type.c_str(), (int)t.tensors, t.bytes / 1e6);
      if (!r.tokenizer_kind.empty()) {
        std::string names;
        for (const std::string& f : r.tokenizer_files) names += (names.empty() ? "" : ", ") + f;
        std::printf("  tokenizer: %s, %d ids, mask %s (%s: %.3f MB)\n", r.tokenizer_kind.c_str(),
                    (int)r.tokenizer_vocab_size, r.mask_token ? r.mask_token->c_str() : "none", names.c_str(),
                    r.tokenizer_bytes / 1e6);
      } else {
        std::printf("  tokenizer: none%s\n", args.has("--no-tokenizer") ? " (--no-tokenizer)" : " in the folder");
      }
      const ModelConfig& c = r.config;
      std::printf("  config: %u layers, hidden %u, %u heads, intermediate %u, vocabulary %u, %u positions, "
                  "%u landmarks, segment_means_seq_len %u\n", c.num_layers, c.hidden_size, c.num_heads,
                  c.intermediate_size, c.vocab_size, c.max_positions, c.num_landmarks, c.segment_means_len);
      static const char* const kProblems[] = {"single-label", "multi-label", "regression"};
      if (c.head == HeadType::Classifier)
        std::printf("  head: classifier, %s, %zu labels\n", kProblems[(int)c.problem_type], c.labels.size());
      else
        std::printf("  head: %s\n", c.head == HeadType::MaskedLM ? "masked LM" : "none (bare encoder)");
      std::printf("  attention under auto: %s\n", tools::attention_summary(c).c_str());
      std::printf("wrote %s: %zu tensors, file %.3f MB\n", out.c_str(), r.tensor_count, r.file_bytes / 1e6);
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
