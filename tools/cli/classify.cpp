// nystrom classify: the label and its score for each input, plain or as
// JSON Lines, as the model's problem type says (softmax over the labels,
// a sigmoid per label, or the raw values of a regression).
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "../common/json_out.h"
#include "text_commands.h"
#include "text_common.h"
#include "text_run.h"

namespace nystrom::cli {

namespace {

// The scores of one input's logits: probabilities for a classification,
// the logits themselves for a regression.
std::vector<double> scores_of(ProblemType kind, const std::vector<float>& logits) {
  switch (kind) {
    case ProblemType::SingleLabel: return softmax(logits.data(), logits.size());
    case ProblemType::MultiLabel: {
      std::vector<double> s(logits.size());
      for (size_t i = 0; i < s.size(); ++i) s[i] = sigmoid(logits[i]);
      return s;
    }
    case ProblemType::Regression: return std::vector<double>(logits.begin(), logits.end());
  }
  return {};
}

// A regression's value in the plain output: enough digits to tell values
// apart, not a probability's four decimals.
std::string value_field(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "\t%.6g", v);
  return buf;
}

}  // namespace

int cmd_classify(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom classify -m MODEL.nyf [--json] [-f FILE | TEXT]\n"
      "\n"
      "Classifies each input with the model's classifier head, as its config's\n"
      "problem_type says (nystrom info shows it). Prints one line per input:\n"
      "  single-label: the best label, a tab, its probability (softmax of the\n"
      "    logits);\n"
      "  multi-label: every label whose probability (a sigmoid per label) is at\n"
      "    least 0.5, best first, as label-tab-probability pairs separated by\n"
      "    tabs (the best label alone when none reaches 0.5);\n"
      "  regression: every output's label, a tab and its raw value, in label-id\n"
      "    order (\"LABEL_0\\t3.25\").\n"
      "Labels are the names from the checkpoint's config (id2label); a\n"
      "backslash, tab, newline or other control character in one is written as\n"
      "\\\\, \\t, \\n, \\r or \\xHH.\n"
      "With --json, one JSON object per input line instead (JSON Lines), with\n"
      "the field names of Hugging Face's text-classification pipeline:\n"
      "  {\"label\": \"positive\", \"score\": 0.93, \"scores\": {\"negative\": 0.07,\n"
      "  \"positive\": 0.93}}\n"
      "where label is the best one, score its probability (its raw value for a\n"
      "regression) and scores every label's, by name in label-id order; a\n"
      "multi-label model adds \"labels\": [those at least 0.5, best first].\n",
      "      --json              JSON output, one object per input line\n",
      "  nystrom classify -m sentiment.nyf \"a good movie\"\n"
      "  tail -f reviews.txt | nystrom classify -m sentiment.nyf --json -f -\n");
  tools::Args args = text_args(argc, argv, {}, {"--json"});
  if (show_help(args, usage)) return 0;
  TextRun r(args);
  require_head(r, args, HeadType::Classifier, "classifier");
  const ModelConfig& c = r.model->config();
  const bool json = args.has("--json");
  std::vector<size_t> order(c.labels.size());
  r.each_run(true, args.has("--truncate"), nullptr, nullptr,
             [&](size_t, const TextInput&, const std::vector<int32_t>&, const Output& out) {
               const std::vector<double> p = scores_of(c.problem_type, out.logits);
               std::iota(order.begin(), order.end(), size_t(0));
               // Best first, the lower id first on ties (stable).
               std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
               const size_t best = order[0];
               std::string line;
               if (json) {
                 line = "{\"label\": " + tools::json_quote(c.labels[best]) + ", \"score\": " +
                        tools::json_number(p[best]) + ", \"scores\": {";
                 for (size_t i = 0; i < p.size(); ++i)
                   line += (i ? ", " : "") + tools::json_quote(c.labels[i]) + ": " + tools::json_number(p[i]);
                 line += "}";
                 if (c.problem_type == ProblemType::MultiLabel) {
                   line += ", \"labels\": [";
                   for (size_t j = 0; j < order.size() && p[order[j]] >= 0.5; ++j)
                     line += (j ? ", " : "") + tools::json_quote(c.labels[order[j]]);
                   line += "]";
                 }
                 return put_line(line + "}");
               }
               switch (c.problem_type) {
                 case ProblemType::SingleLabel: line = escape_text(c.labels[best]) + prob_field(p[best]); break;
                 case ProblemType::MultiLabel:
                   for (size_t j = 0; j == 0 || (j < order.size() && p[order[j]] >= 0.5); ++j)
                     line += (j ? "\t" : "") + escape_text(c.labels[order[j]]) + prob_field(p[order[j]]);
                   break;
                 case ProblemType::Regression:
                   for (size_t i = 0; i < p.size(); ++i)
                     line += (i ? "\t" : "") + escape_text(c.labels[i]) + value_field(p[i]);
                   break;
               }
               put_line(line);
             });
  r.report();
  return 0;
}

}  // namespace nystrom::cli
