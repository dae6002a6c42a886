// nystrom embed: one pooled embedding per input, written to a .npy file.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "../common/output_check.h"
#include "nystrom/io.h"
#include "text_commands.h"
#include "text_common.h"
#include "text_run.h"

namespace nystrom::cli {

int cmd_embed(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom embed -m MODEL.nyf [--pool cls|mean] [-f FILE | TEXT] -o OUT.npy\n"
      "\n"
      "Writes one embedding per input: a float32 .npy of shape [inputs, hidden]\n"
      "(row i for input line i; [1, hidden] for TEXT) from the encoder's last\n"
      "hidden state, whatever head the model has. The file appears whole or not\n"
      "at all (it is written beside and renamed into place; a symbolic link's\n"
      "target is written, a device or FIFO is written in place).\n",
      "  -o, --output FILE       the .npy file to write (required; '-': standard\n"
      "                          output, and no summary line)\n"
      "      --pool HOW          cls (default): the first token's row ([CLS], <s>);\n"
      "                          mean: the mean of all the input's rows, special\n"
      "                          tokens included\n");
  tools::Args args = text_args(argc, argv, {"--pool", "--output"}, {});
  if (show_help(args, usage)) return 0;
  const std::string pool = args.get("--pool", "cls");
  if (pool != "cls" && pool != "mean") throw tools::UsageError{"--pool must be cls or mean, got '" + pool + "'"};
  const std::string out_path = args.require("--output");
  tools::check_output_file(out_path);  // before any work
  TextRun r(args);
  const auto ids = r.encode_all(true, args.has("--truncate"));
  const size_t D = r.model->config().hidden_size;
  std::vector<float> rows(ids.size() * D);
  r.run_all(ids, [&](size_t i, const Output& out) {
    const std::vector<float> e = pool_embedding(out, pool == "cls" ? Pooling::First : Pooling::Mean);
    std::copy(e.begin(), e.end(), rows.begin() + i * D);
  });
  write_npy(out_path, "<f4", {ids.size(), D}, rows.data());
  if (out_path != "-") std::printf("wrote %s [%zu, %zu] (pool %s)\n", out_path.c_str(), ids.size(), D, pool.c_str());
  r.report();
  return 0;
}

}  // namespace nystrom::cli
