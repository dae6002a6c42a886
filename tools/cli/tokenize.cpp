// nystrom tokenize: the token ids of each input, one line each, or ids and
// tokens as JSON Lines.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "../common/json_out.h"
#include "text_commands.h"
#include "text_common.h"
#include "text_input.h"
#include "text_run.h"

namespace nystrom::cli {

int cmd_tokenize(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom tokenize -m MODEL.nyf [--no-special] [--json] [-f FILE | TEXT]\n"
      "\n"
      "Prints the token ids of each input, one line of space-separated ids per\n"
      "input, as the model's tokenizer makes them (with its special tokens, e.g.\n"
      "[CLS] ... [SEP], unless --no-special).\n"
      "With --json, one JSON object per input line instead (JSON Lines):\n"
      "  {\"ids\": [2, 6, 7, 3], \"tokens\": [\"[CLS]\", \"cat\", \"sat\", \"[SEP]\"]}\n"
      "where tokens are the vocabulary's spellings of the ids (\"##ing\", \"\xe2\x96\x81the\").\n"
      "With --verbose, stderr also gets, for each input holding any, how many of\n"
      "its ids are the unknown token ([UNK], <unk>: text the vocabulary cannot\n"
      "spell), and the total in the summary. The run options are accepted as by\n"
      "the other commands (--threads repacks the weights at load); they do not\n"
      "change the ids.\n",
      "      --no-special        leave out the template's special tokens (they\n"
      "                          still count against the model's positions)\n"
      "      --json              JSON output, one object per input line\n",
      "  nystrom tokenize -m model.nyf \"The cat sat on the mat.\"\n"
      "  nystrom tokenize -m model.nyf --json --verbose -f reviews.txt > ids.jsonl\n");
  tools::Args args = text_args(argc, argv, {}, {"--no-special", "--json"});
  if (show_help(args, usage)) return 0;
  TextRun r(args);
  const bool json = args.has("--json");
  const std::optional<int32_t> unk = r.tok->unk_id();
  size_t unknown_total = 0, inputs_with_unknown = 0;
  std::string line;
  r.each_input(!args.has("--no-special"), args.has("--truncate"), nullptr,
               [&](size_t, const TextInput& in, const std::vector<int32_t>& seq) {
                 line.clear();
                 if (json) {
                   line = "{\"ids\": [";
                   for (size_t i = 0; i < seq.size(); ++i) line += (i ? ", " : "") + std::to_string(seq[i]);
                   line += "], \"tokens\": [";
                   for (size_t i = 0; i < seq.size(); ++i)
                     line += (i ? ", " : "") + tools::json_quote(r.tok->id_to_token(seq[i]));
                   line += "]}";
                 } else {
                   for (size_t i = 0; i < seq.size(); ++i) line += (i ? " " : "") + std::to_string(seq[i]);
                 }
                 put_line(line);
                 if (!r.verbose || !unk) return;
                 const size_t hits = (size_t)std::count(seq.begin(), seq.end(), *unk);
                 if (hits == 0) return;
                 unknown_total += hits, ++inputs_with_unknown;
                 std::fprintf(stderr, "%s: %zu unknown token%s\n", in.where.c_str(), hits, hits == 1 ? "" : "s");
               },
               true);
  r.report();
  if (r.verbose) {
    if (unk)
      std::fprintf(stderr, "unknown:     %zu token%s (%s, id %d) in %zu of %zu inputs\n", unknown_total,
                   unknown_total == 1 ? "" : "s", escape_text(r.tok->id_to_token(*unk)).c_str(), (int)*unk,
                   inputs_with_unknown, r.inputs);
    else
      std::fprintf(stderr, "unknown:     none possible (the tokenizer has no unknown token)\n");
  }
  return 0;
}

}  // namespace nystrom::cli
