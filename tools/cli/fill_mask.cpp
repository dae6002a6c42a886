// nystrom fill-mask: the best tokens and their probabilities at each mask
// token of each input, plain or as JSON Lines.
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
      "With --json, one JSON array per input line instead (JSON Lines): one\n"
      "list per mask, in text order, of K candidates, best first, with the\n"
      "field names of Hugging Face's fill-mask pipeline:\n"
      "  [[{\"score\": 0.41, \"token\": 17, \"token_str\": \"mat\", \"sequence\":\n"
      "  \"the cat sat on the mat .\"}, ...], ...]\n"
      "token is the id, token_str its decoded text, sequence the input's ids\n"
      "decoded with this candidate at this mask (special tokens, other masks\n"
      "included, left out). Unlike the pipeline, an input with one mask is a\n"
      "list of one list too, so that every line has the same shape.\n"
      "An input without a mask token is an error.\n",
      "  -k, --top-k K           candidates per mask (default 5)\n"
      "      --json              JSON output, one array per input line\n",
      "  nystrom fill-mask -m model.nyf \"The cat sat on the [MASK].\"\n"
      "  nystrom fill-mask -m model.nyf -k 3 --json -f sentences.txt\n");
  tools::Args args = text_args(argc, argv, {"--top-k"}, {"--json"});
  if (show_help(args, usage)) return 0;
  const size_t top_k = (size_t)args.get_int("--top-k", 5, 1, 1 << 24);
  TextRun r(args);
  require_head(r, args, HeadType::MaskedLM, "masked-LM");
  const ModelConfig& c = r.model->config();
  const std::optional<int32_t> mask = r.tok->mask_id();
  if (!mask) throw Error(args.get("--model") + ": the tokenizer has no mask token");
  const bool truncate = args.has("--truncate");
  auto check = [&](const TextInput& in, const std::vector<int32_t>& ids) {
    if (std::find(ids.begin(), ids.end(), *mask) == ids.end())
      throw Error(in.where + ": no mask token " + r.tok->id_to_token(*mask) + " in the text" +
                  (truncate ? " (after truncation)" : ""));
  };
  // Only the masks' rows are projected onto the vocabulary.
  auto masks_of = [&](const std::vector<int32_t>& ids) {
    OutputSelection s;
    for (size_t t = 0; t < ids.size(); ++t)
      if (ids[t] == *mask) s.positions.push_back(t);
    return s;
  };

  const bool json = args.has("--json");
  // Candidates are the tokenizer's ids: a model vocabulary padded beyond it
  // has rows no text maps to.
  const size_t V = c.vocab_size, k = std::min<size_t>(top_k, (size_t)r.tok->vocab_size());
  std::vector<int32_t> order((size_t)r.tok->vocab_size());
  r.each_run(true, truncate, check, masks_of,
             [&](size_t i, const TextInput&, const std::vector<int32_t>& ids, const Output& out) {
               if (!json && i > 0) put_line("");
               std::string line = "[";
               for (size_t row = 0; row < out.logit_positions.size(); ++row) {
                 const size_t t = out.logit_positions[row];
                 const std::vector<double> p = softmax(out.logits.data() + row * V, V);
                 for (size_t j = 0; j < order.size(); ++j) order[j] = (int32_t)j;
                 std::partial_sort(order.begin(), order.begin() + k, order.end(),
                                   [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
                 if (json) line += std::string(row ? ", " : "") + "[";
                 std::vector<int32_t> filled = ids;
                 for (size_t j = 0; j < k; ++j) {
                   const int32_t id = order[j];
                   if (!json) {
                     put_line(std::to_string(row + 1) + "\t" + escape_text(r.tok->id_to_token(id)) + prob_field(p[id]));
                     continue;
                   }
                   filled[t] = id;
                   line += std::string(j ? ", " : "") + "{\"score\": " + tools::json_number(p[id]) +
                           ", \"token\": " + std::to_string(id) +
                           ", \"token_str\": " + tools::json_quote(r.tok->decode({id})) +
                           ", \"sequence\": " + tools::json_quote(r.tok->decode(filled)) + "}";
                 }
                 if (json) line += "]";
               }
               if (json) put_line(line + "]");
             });
  r.report();
  return 0;
}

}  // namespace nystrom::cli
