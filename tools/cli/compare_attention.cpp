// nystrom compare-attention: each input run with exact attention and with
// Nystrom attention on the same model, and how far apart the two answers
// are: whether m landmarks are good enough for these inputs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "../common/json_out.h"
#include "progress.h"
#include "text_input.h"
#include "text_commands.h"
#include "text_common.h"
#include "text_run.h"

namespace nystrom::cli {

namespace {

// The landmarks when --landmarks is not given: the config's num_landmarks,
// unless the checkpoint is dense-configured (num_landmarks ==
// segment_means_seq_len: it always ran exact attention), where that number
// is the sequence length it was trained at rather than a landmark count.
constexpr uint32_t kDenseDefaultLandmarks = 64;

uint32_t default_landmarks(const ModelConfig& c) {
  const bool dense = c.num_landmarks == c.segment_means_len;
  if (dense || c.num_landmarks == 0 || c.num_landmarks > kMaxLandmarks) return kDenseDefaultLandmarks;
  return c.num_landmarks;
}

// How far the Nystrom state b is from the exact state a, both flattened:
// ||b - a|| / ||a|| and the cosine of their angle. Identical bits (an input
// of at most m tokens runs exact attention both times) give exactly 0 and 1.
struct Agreement {
  double relative_l2 = 0, cosine = 1;
};

Agreement agreement(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0) return {};
  double ab = 0, aa = 0, bb = 0, dd = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    ab += x * y, aa += x * x, bb += y * y, dd += (y - x) * (y - x);
  }
  return {std::sqrt(dd / aa), ab / std::sqrt(aa * bb)};
}

// A run's top prediction: the classifier's label, or the best token at each
// mask token in text order (none: an empty list), or nothing for a bare
// encoder.
struct Prediction {
  bool any = false;                 // the model has a head
  std::vector<std::string> tokens;  // the label, or one token per mask
};

Prediction predict(const TextRun& r, const std::vector<int32_t>& ids, const Output& out) {
  const ModelConfig& c = r.model->config();
  Prediction p;
  if (c.head == HeadType::Classifier) {
    p.any = true;
    const size_t best = (size_t)(std::max_element(out.logits.begin(), out.logits.end()) - out.logits.begin());
    p.tokens.push_back(c.labels[best]);
  } else if (c.head == HeadType::MaskedLM) {
    p.any = true;
    const std::optional<int32_t> mask = r.tok->mask_id();
    // Among the tokenizer's ids, as fill-mask: a padded vocabulary's extra
    // rows are no token.
    const size_t V = c.vocab_size, ids_known = std::min<size_t>(V, (size_t)r.tok->vocab_size());
    for (size_t t = 0; mask && t < ids.size(); ++t) {
      if (ids[t] != *mask) continue;
      const float* row = out.logits.data() + t * V;
      const size_t best = (size_t)(std::max_element(row, row + ids_known) - row);
      p.tokens.push_back(r.tok->id_to_token((int32_t)best));
    }
  }
  return p;
}

std::string plain(const Prediction& p) {
  if (p.tokens.empty()) return "-";
  std::string s;
  for (const std::string& t : p.tokens) s += (s.empty() ? "" : " ") + escape_text(t);
  return s;
}

std::string json(const Prediction& p, const ModelConfig& c) {
  if (!p.any) return "null";
  if (c.head == HeadType::Classifier) return tools::json_quote(p.tokens[0]);
  std::string s = "[";
  for (size_t i = 0; i < p.tokens.size(); ++i) s += (i ? ", " : "") + tools::json_quote(p.tokens[i]);
  return s + "]";
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

int cmd_compare_attention(int argc, char** argv) {
  const std::string usage = usage_of(
      "usage: nystrom compare-attention -m MODEL.nyf [--landmarks M] [--json] [-f FILE | TEXT]\n"
      "\n"
      "Runs each input twice on the same model, with exact softmax attention and\n"
      "with Nystrom attention of M landmarks, and says how far apart the two are:\n"
      "whether Nystrom attention is good enough for these inputs (for example for\n"
      "a checkpoint trained with exact attention). M defaults to the model's\n"
      "num_landmarks, or to 64 for a dense-configured checkpoint (num_landmarks\n"
      "== segment_means_seq_len, which runs exact attention by default).\n"
      "\n"
      "Prints one line per input (no header: line i belongs to input i), tab-\n"
      "separated: tokens, relative L2 difference ||N - E|| / ||E|| and cosine of\n"
      "the last hidden states E (exact) and N (Nystrom) over all tokens, the top\n"
      "prediction under exact and under Nystrom (a classifier's label; a masked\n"
      "LM's best token at each mask token, space-separated; '-' for none), the\n"
      "exact and Nystrom forward times in ms (one run each; the first input's\n"
      "include the sessions' setup), and what the Nystrom run computed: 'nystrom',\n"
      "or 'exact(n<=m)' for an input of at most M tokens, which always runs exact\n"
      "attention (difference 0, cosine 1). Example (ListOps, M = 64):\n"
      "  1318\t0.02933\t0.999570\t9\t9\t31.5\t12.9\tnystrom\n"
      "  10\t0\t1.000000\t9\t9\t0.1\t0.1\texact(n<=m)\n"
      "With --json, one JSON object per input line instead:\n"
      "  {\"tokens\": 1318, \"landmarks\": 64, \"nystrom_ran_exact\": false,\n"
      "  \"relative_l2\": 0.0293, \"cosine\": 0.99957, \"same_prediction\": true,\n"
      "  \"exact\": {\"prediction\": \"9\", \"ms\": 31.5}, \"nystrom\": {...}}\n"
      "where prediction is the label (classifier), the list of tokens at the masks\n"
      "(masked LM) or null (no head). --attention does not apply.\n",
      "      --json              JSON output, one object per input line\n",
      "  nystrom compare-attention -m model.nyf -f inputs.txt\n"
      "  nystrom compare-attention -m model.nyf --landmarks 64 --json -f inputs.txt\n");
  tools::Args args = text_args(argc, argv, {}, {"--json"});
  if (show_help(args, usage)) return 0;
  if (args.has("--attention"))
    throw tools::UsageError{"compare-attention runs both exact and Nystrom attention: --attention does not apply"};
  TextRun r(args);
  const ModelConfig& c = r.model->config();
  const uint32_t m = args.has("--landmarks") ? r.options.landmarks : default_landmarks(c);
  const bool as_json = args.has("--json");

  RunOptions exact_options = r.options, nystrom_options = r.options;
  exact_options.attention = AttentionMode::Exact;
  nystrom_options.attention = AttentionMode::Nystrom;
  nystrom_options.landmarks = m;
  Session exact(r.model, exact_options), nystrom(r.model, nystrom_options);
  r.options = exact.options();  // the thread count resolved, for --verbose

  const auto t_all = Clock::now();
  Output e, n;
  // Each input in turn (a stream's answered before its next line is read).
  r.each_input(true, args.has("--truncate"), nullptr, [&](size_t, const TextInput&, const std::vector<int32_t>& ids) {
    auto t0 = Clock::now();
    exact.run(ids.data(), ids.size(), e);
    const double exact_ms = ms_since(t0);
    t0 = Clock::now();
    nystrom.run(ids.data(), ids.size(), n);
    const double nystrom_ms = ms_since(t0);
    const Agreement a = agreement(e.last_hidden_state, n.last_hidden_state);
    const Prediction pe = predict(r, ids, e), pn = predict(r, ids, n);
    const bool ran_exact = ids.size() <= m;
    if (as_json) {
      put_line("{\"tokens\": " + std::to_string(ids.size()) + ", \"landmarks\": " + std::to_string(m) +
               ", \"nystrom_ran_exact\": " + (ran_exact ? "true" : "false") +
               ", \"relative_l2\": " + tools::json_number(a.relative_l2) +
               ", \"cosine\": " + tools::json_number(a.cosine) +
               ", \"same_prediction\": " + (pe.tokens == pn.tokens ? "true" : "false") +
               ", \"exact\": {\"prediction\": " + json(pe, c) + ", \"ms\": " + fixed(exact_ms, 3) +
               "}, \"nystrom\": {\"prediction\": " + json(pn, c) + ", \"ms\": " + fixed(nystrom_ms, 3) + "}}");
    } else {
      char figures[64];
      std::snprintf(figures, sizeof figures, "%.4g\t%.6f", a.relative_l2, a.cosine);
      put_line(std::to_string(ids.size()) + "\t" + figures + "\t" + plain(pe) + "\t" + plain(pn) + "\t" +
               fixed(exact_ms, 1) + "\t" + fixed(nystrom_ms, 1) + "\t" + (ran_exact ? "exact(n<=m)" : "nystrom"));
    }
  });
  r.run_ms = ms_since(t_all);
  r.report();
  return 0;
}

}  // namespace nystrom::cli
