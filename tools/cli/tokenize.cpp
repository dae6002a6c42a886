// nystrom tokenize: the token ids of each input, one line each.
#include <string>

#include "run_options.h"
#include "text_commands.h"
#include "text_common.h"
#include "text_input.h"
#include "text_run.h"

namespace nystrom::cli {

int cmd_tokenize(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom tokenize -m MODEL.nyf [--no-special] [-f FILE | TEXT]\n"
      "\n"
      "Prints the token ids of each input, one line of space-separated ids per\n"
      "input, as the model's tokenizer makes them (with its special tokens, e.g.\n"
      "[CLS] ... [SEP], unless --no-special).\n",
      "      --no-special        leave out the template's special tokens (they\n"
      "                          still count against the model's positions)\n"
      "      --no-verify         skip the model file's checksum at load\n",
      false);
  tools::Args args(argc, argv, 2, text_value_flags(), with(with(text_switches(), run_switches()), {"--no-special"}),
                   text_aliases());
  if (show_help(args, usage)) return 0;
  TextRun r(args);
  const auto ids = r.encode_all(!args.has("--no-special"), args.has("--truncate"), true);
  std::string line;
  for (const auto& seq : ids) {
    line.clear();
    for (size_t i = 0; i < seq.size(); ++i) line += (i ? " " : "") + std::to_string(seq[i]);
    put_line(line);
  }
  r.report();
  return 0;
}

}  // namespace nystrom::cli
