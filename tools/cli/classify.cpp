// nystrom classify: the label and its probability for each input, plain or
// as JSON.
#include <algorithm>
#include <string>
#include <vector>

#include "../common/json_out.h"
#include "text_commands.h"
#include "text_common.h"
#include "text_run.h"

namespace nystrom::cli {

int cmd_classify(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom classify -m MODEL.nyf [--json] [-f FILE | TEXT]\n"
      "\n"
      "Classifies each input with the model's classifier head. Prints one line\n"
      "per input: the label name from the checkpoint's config (id2label), a tab,\n"
      "and its probability (softmax of the logits); a backslash, tab, newline or\n"
      "other control character in a label is written as \\\\, \\t, \\n, \\r or \\xHH.\n"
      "With --json, one JSON object per line instead:\n"
      "  {\"label\": \"positive\", \"probability\": 0.93, \"probabilities\": [0.07, 0.93]}\n"
      "with the probabilities of all labels in the config's id order.\n",
      "      --json              JSON output, one object per input line\n");
  tools::Args args = text_args(argc, argv, {}, {"--json"});
  if (show_help(args, usage)) return 0;
  TextRun r(args);
  require_head(r, args, HeadType::Classifier, "classifier");
  const ModelConfig& c = r.model->config();
  const auto ids = r.encode_all(true, args.has("--truncate"));
  const bool json = args.has("--json");
  r.run_all(ids, [&](size_t, const Output& out) {
    const std::vector<double> p = softmax(out.logits.data(), out.logits.size());
    const size_t best = (size_t)(std::max_element(p.begin(), p.end()) - p.begin());
    if (!json) return put_line(escape_text(c.labels[best]) + prob_field(p[best]));
    std::string line = "{\"label\": " + tools::json_quote(c.labels[best]) +
                       ", \"probability\": " + tools::json_number(p[best]) + ", \"probabilities\": [";
    for (size_t i = 0; i < p.size(); ++i) line += (i ? ", " : "") + tools::json_number(p[i]);
    put_line(line + "]}");
  });
  r.report();
  return 0;
}

}  // namespace nystrom::cli
