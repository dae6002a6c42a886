// nystrom fill-mask: the best tokens and their probabilities at each mask
// token of each input, plain or as JSON.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "../common/json_out.h"
#include "text_commands.h"
#include "text_common.h"
#include "text_run.h"

namespace nystrom::cli {

int cmd_fill_mask(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom fill-mask -m MODEL.nyf [--top-k K] [--json] [-f FILE | TEXT]\n"
      "\n"
      "Predicts the tokens at the mask tokens ([MASK], <mask>) of each input with\n"
      "the model's masked-LM head. Prints, for each mask in text order, K lines:\n"
      "the mask's number (1, 2, ... within its input), a tab, the token as the\n"
      "vocabulary spells it (control characters escaped as in classify), a tab,\n"
      "its probability (softmax over the whole vocabulary), best first. With -f,\n"
      "an empty line separates the inputs.\n"
      "With --json, one JSON object per input instead:\n"
      "  {\"masks\": [{\"position\": 3, \"candidates\": [{\"id\": 17, \"token\": \"cat\",\n"
      "  \"probability\": 0.41}, ...]}, ...]}\n"
      "where position is the mask's index among the input's token ids.\n"
      "An input without a mask token is an error.\n",
      "  -k, --top-k K           candidates per mask (default 5)\n"
      "      --json              JSON output, one object per input line\n");
  tools::Args args = text_args(argc, argv, {"--top-k"}, {"--json"});
  if (show_help(args, usage)) return 0;
  const size_t top_k = (size_t)args.get_int("--top-k", 5, 1, 1 << 24);
  TextRun r(args);
  require_head(r, args, HeadType::MaskedLM, "masked-LM");
  const ModelConfig& c = r.model->config();
  const std::optional<int32_t> mask = r.tok->mask_id();
  if (!mask) throw Error(args.get("--model") + ": the tokenizer has no mask token");
  const auto ids = r.encode_all(true, args.has("--truncate"));
  for (size_t i = 0; i < ids.size(); ++i)
    if (std::find(ids[i].begin(), ids[i].end(), *mask) == ids[i].end())
      throw Error(r.inputs[i].where + ": no mask token " + r.tok->id_to_token(*mask) + " in the text" +
                  (args.has("--truncate") ? " (after truncation)" : ""));

  const bool json = args.has("--json");
  // Candidates are the tokenizer's ids: a model vocabulary padded beyond it
  // has rows no text maps to.
  const size_t V = c.vocab_size, k = std::min<size_t>(top_k, (size_t)r.tok->vocab_size());
  std::vector<int32_t> order((size_t)r.tok->vocab_size());
  r.run_all(ids, [&](size_t i, const Output& out) {
    if (!json && i > 0) put_line("");
    std::string line = "{\"masks\": [";
    int mask_no = 0;
    for (size_t t = 0; t < ids[i].size(); ++t) {
      if (ids[i][t] != *mask) continue;
      const float* row = out.logits.data() + t * V;
      const std::vector<double> p = softmax(row, V);
      for (size_t j = 0; j < order.size(); ++j) order[j] = (int32_t)j;
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
      ++mask_no;
      if (json) line += std::string(mask_no > 1 ? ", " : "") + "{\"position\": " + std::to_string(t) + ", \"candidates\": [";
      for (size_t j = 0; j < k; ++j) {
        const int32_t id = order[j];
        if (json) {
          line += std::string(j ? ", " : "") + "{\"id\": " + std::to_string(id) +
                  ", \"token\": " + tools::json_quote(r.tok->id_to_token(id)) +
                  ", \"probability\": " + tools::json_number(p[id]) + "}";
        } else {
          put_line(std::to_string(mask_no) + "\t" + escape_text(r.tok->id_to_token(id)) + prob_field(p[id]));
        }
      }
      if (json) line += "]}";
    }
    if (json) put_line(line + "]}");
  });
  r.report();
  return 0;
}

}  // namespace nystrom::cli
