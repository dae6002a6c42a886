// nystrom embed: one pooled embedding per input, as a .npy file or as JSON
// Lines.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../common/output_check.h"
#include "nystrom/io.h"
#include "text_commands.h"
#include "text_common.h"
#include "text_run.h"

namespace nystrom::cli {

// Scaled to unit length (the norm summed in order, in double); a zero
// vector stays zero.
static void normalize(std::vector<float>& e) {
  double sum = 0;
  for (float x : e) sum += (double)x * x;
  const double norm = std::sqrt(sum);
  if (norm > 0)
    for (float& x : e) x = (float)(x / norm);
}

int cmd_embed(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom embed -m MODEL.nyf [--pool cls|mean] [--normalize]\n"
      "                     [--format npy|jsonl] [-o OUT.npy] [-f FILE | TEXT]\n"
      "\n"
      "Writes one embedding per input, pooled from the encoder's last hidden\n"
      "state whatever head the model has (the head does not run):\n"
      "  npy (the default with -o): a float32 .npy of shape [inputs, hidden]\n"
      "    (row i for input line i), written when every input is done; the\n"
      "    file appears whole or not at all (it is written beside and renamed\n"
      "    into place; a symbolic link's target is written, a device or FIFO\n"
      "    in place);\n"
      "  jsonl (the default without -o; --json is the same): one JSON object\n"
      "    per input line on standard output, as each is ready:\n"
      "      {\"embedding\": [0.0132, -0.207, ...]}\n"
      "    (floats with 9 significant digits: they read back bit for bit).\n",
      "  -o, --output FILE       the .npy file to write ('-': standard output,\n"
      "                          and no summary line)\n"
      "      --format F          npy (needs -o) or jsonl (standard output)\n"
      "      --json              the same as --format jsonl\n"
      "      --pool HOW          cls (default): the first token's row ([CLS], <s>);\n"
      "                          mean: the mean of all the input's rows, special\n"
      "                          tokens included\n"
      "      --normalize         scale each embedding to unit length (L2); a\n"
      "                          zero vector stays zero\n",
      "  nystrom embed -m model.nyf -f sentences.txt -o embeddings.npy\n"
      "  nystrom embed -m model.nyf --pool mean --normalize \"a good movie\"\n");
  tools::Args args = text_args(argc, argv, {"--pool", "--output", "--format"}, {"--normalize", "--json"});
  if (show_help(args, usage)) return 0;
  const std::string pool = args.get("--pool", "cls");
  if (pool != "cls" && pool != "mean") throw tools::UsageError{"--pool must be cls or mean, got '" + pool + "'"};
  std::string format = args.get("--format", args.has("--json") || !args.has("--output") ? "jsonl" : "npy");
  if (format != "npy" && format != "jsonl")
    throw tools::UsageError{"--format must be npy or jsonl, got '" + format + "'"};
  if (args.has("--json") && format != "jsonl") throw tools::UsageError{"--json asks for --format jsonl, not " + format};
  if (format == "npy" && !args.has("--output"))
    throw tools::UsageError{"--format npy needs -o OUT.npy ('-' for standard output)"};
  if (format == "jsonl" && args.has("--output"))
    throw tools::UsageError{"--format jsonl writes to standard output; -o is for npy (redirect the output instead)"};
  const std::string out_path = args.get("--output");
  if (format == "npy") tools::check_output_file(out_path);  // before any work
  TextRun r(args);
  const size_t D = r.model->config().hidden_size;
  OutputSelection hidden_only;
  hidden_only.logits = false;
  std::vector<float> rows;
  r.each_run(true, args.has("--truncate"), nullptr, [&](const std::vector<int32_t>&) { return hidden_only; },
             [&](size_t, const TextInput&, const std::vector<int32_t>&, const Output& out) {
               std::vector<float> e = pool_embedding(out, pool == "cls" ? Pooling::First : Pooling::Mean);
               if (args.has("--normalize")) normalize(e);
               if (format == "npy") rows.insert(rows.end(), e.begin(), e.end());
               else put_line("{\"embedding\": " + json_numbers(e.data(), e.size()) + "}");
             });
  if (format == "npy") {
    write_npy(out_path, "<f4", {r.inputs, D}, rows.data());
    if (out_path != "-")
      std::printf("wrote %s [%zu, %zu] (pool %s%s)\n", out_path.c_str(), r.inputs, D, pool.c_str(),
                  args.has("--normalize") ? ", normalized" : "");
  }
  r.report();
  return 0;
}

}  // namespace nystrom::cli
