// The text commands of the CLI: tokenize, classify, fill-mask and embed.
// Each reads its inputs and tokenizes them all first (so a bad line fails
// before any model work), then runs them one after another on one session.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../common/args.h"
#include "../common/json_out.h"
#include "format/npy.h"
#include "nystrom/nystrom.h"
#include "run_options.h"
#include "text_input.h"

namespace nystrom::cli {

inline void put_line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

inline std::string usage_of(const char* head, const char* own_options, bool run_options = true) {
  return std::string(head) + "\noptions:\n" + kTextInputHelp + own_options + (run_options ? kRunOptionsHelp : "") +
         "  -h, --help              show this help\n\n" + kTextCommonHelp;
}

// Parses a text command's arguments: the shared flags plus its own.
inline tools::Args text_args(int argc, char** argv, const std::set<std::string>& values,
                             const std::set<std::string>& switches) {
  return tools::Args(argc, argv, 2, with(with(text_value_flags(), run_value_flags()), values),
                     with(with(text_switches(), run_switches()), switches), text_aliases());
}

inline bool show_help(const tools::Args& args, const std::string& usage) {
  if (args.has("--help")) std::fputs(usage.c_str(), stdout);
  return args.has("--help");
}

inline const char* head_name(HeadType h) {
  switch (h) {
    case HeadType::None: return "a bare encoder";
    case HeadType::MaskedLM: return "a masked-LM model";
    case HeadType::Classifier: return "a classifier";
  }
  return "unknown";
}

// A command that needs a head says which one the model lacks.
inline void require_head(const TextRun& r, const tools::Args& args, HeadType want, const char* what) {
  const HeadType has = r.model->config().head;
  if (has != want) throw Error(args.get("--model") + " has no " + what + " head (it is " + head_name(has) + ")");
}

// A probability in the plain output: a tab, then 4 decimals.
inline std::string prob_field(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "\t%.4f", p);
  return buf;
}

// Softmax of logits[0..n) in double: the probabilities, in order.
inline std::vector<double> softmax(const float* logits, size_t n) {
  const float top = *std::max_element(logits, logits + n);
  std::vector<double> p(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp((double)logits[i] - top);
  for (double& x : p) x /= sum;
  return p;
}

// ------------------------------------------------------------------ tokenize

inline int cmd_tokenize(int argc, char** argv) {
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

// ------------------------------------------------------------------ classify

inline int cmd_classify(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom classify -m MODEL.nyf [--json] [-f FILE | TEXT]\n"
      "\n"
      "Classifies each input with the model's classifier head. Prints one line\n"
      "per input: the label name from the checkpoint's config (id2label), a tab,\n"
      "and its probability (softmax of the logits). With --json, one JSON object\n"
      "per line instead:\n"
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
    if (!json) return put_line(c.labels[best] + prob_field(p[best]));
    std::string line = "{\"label\": " + tools::json_quote(c.labels[best]) +
                       ", \"probability\": " + tools::json_number(p[best]) + ", \"probabilities\": [";
    for (size_t i = 0; i < p.size(); ++i) line += (i ? ", " : "") + tools::json_number(p[i]);
    put_line(line + "]}");
  });
  r.report();
  return 0;
}

// ----------------------------------------------------------------- fill-mask

inline int cmd_fill_mask(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom fill-mask -m MODEL.nyf [--top-k K] [--json] [-f FILE | TEXT]\n"
      "\n"
      "Predicts the tokens at the mask tokens ([MASK], <mask>) of each input with\n"
      "the model's masked-LM head. Prints, for each mask in text order, K lines:\n"
      "the mask's number (1, 2, ... within its input), a tab, the token as the\n"
      "vocabulary spells it, a tab, its probability (softmax over the whole\n"
      "vocabulary), best first. With -f, an empty line separates the inputs.\n"
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
          put_line(std::to_string(mask_no) + "\t" + r.tok->id_to_token(id) + prob_field(p[id]));
        }
      }
      if (json) line += "]}";
    }
    if (json) put_line(line + "]}");
  });
  r.report();
  return 0;
}

// --------------------------------------------------------------------- embed

inline int cmd_embed(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom embed -m MODEL.nyf [--pool cls|mean] [-f FILE | TEXT] -o OUT.npy\n"
      "\n"
      "Writes one embedding per input: a float32 .npy of shape [inputs, hidden]\n"
      "(row i for input line i; [1, hidden] for TEXT) from the encoder's last\n"
      "hidden state, whatever head the model has. The file appears whole or not\n"
      "at all.\n",
      "  -o, --output FILE       the .npy file to write (required)\n"
      "      --pool HOW          cls (default): the first token's row ([CLS], <s>);\n"
      "                          mean: the mean of all the input's rows, special\n"
      "                          tokens included\n");
  tools::Args args = text_args(argc, argv, {"--pool", "--output"}, {});
  if (show_help(args, usage)) return 0;
  const std::string pool = args.get("--pool", "cls");
  if (pool != "cls" && pool != "mean") throw tools::UsageError{"--pool must be cls or mean, got '" + pool + "'"};
  const std::string out_path = args.require("--output");
  TextRun r(args);
  const auto ids = r.encode_all(true, args.has("--truncate"));
  const size_t D = r.model->config().hidden_size;
  std::vector<float> rows(ids.size() * D);
  r.run_all(ids, [&](size_t i, const Output& out) {
    const std::vector<float> e = pool_embedding(out, pool == "cls" ? Pooling::First : Pooling::Mean);
    std::copy(e.begin(), e.end(), rows.begin() + i * D);
  });
  write_npy(out_path, "<f4", {ids.size(), D}, rows.data());
  std::printf("wrote %s [%zu, %zu] (pool %s)\n", out_path.c_str(), ids.size(), D, pool.c_str());
  r.report();
  return 0;
}

}  // namespace nystrom::cli
