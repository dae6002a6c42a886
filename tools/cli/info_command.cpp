// nystrom info: a model file's configuration, head, labels, tensors and
// tokenizer, which attention runs on it and why, and what a forward pass
// costs at a few lengths; plain or as one JSON object.
#include "info_command.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../common/args.h"
#include "../common/attention_summary.h"
#include "../common/json_out.h"
#include "nystrom/nystrom.h"
#include "run_options.h"
#include "text_common.h"

namespace nystrom::cli {

static const char kInfoUsage[] =
    "usage: nystrom info MODEL.nyf [--json] [--tensors] [run options]\n"
    "\n"
    "Prints what a .nyf model file holds: every configuration field, the head\n"
    "(with its problem type and labels), the tensors' types and sizes (grouped\n"
    "by type; --tensors lists each), the tokenizer (kind, vocabulary size,\n"
    "mask and unknown tokens, or none), which attention the run options\n"
    "(default: auto) run on it and why, and the cost of one forward pass at\n"
    "512, 4096, 16384 and 65536 tokens (those the model accepts) and at its\n"
    "longest input: floating-point operations of the matrix products and the\n"
    "session's work memory (the weights are mapped from the file and not\n"
    "counted), for the attention that runs and for the other one. The figures\n"
    "come from the plan Session::run follows (nystrom::forward_cost).\n"
    "With --json, one JSON object with all of it, every tensor included:\n"
    "  {\"file\", \"file_bytes\", \"format_version\", \"config\": {... \"head\",\n"
    "   \"problem_type\", \"labels\"}, \"tensors\": [{\"name\", \"type\", \"shape\",\n"
    "   \"bytes\"}], \"tensor_types\": [{\"type\", \"tensors\", \"bytes\"}],\n"
    "   \"tokenizer\": null, {\"error\"} or {\"kind\", \"vocab_size\", \"mask_token\",\n"
    "   \"unknown_token\", \"special_tokens\"}, \"attention\": {\"exact\",\n"
    "   \"landmarks\", \"reason\"}, \"threads\", \"cost\": [{\"n\", \"attention\",\n"
    "   \"landmarks\", \"flops\", \"work_bytes\", \"output_bytes\", \"runs\"}]}\n"
    "(\"runs\": whether the options run that row's attention).\n"
    "\n"
    "options:\n"
    "  -m, --model FILE        the model file (or give it as the argument)\n"
    "      --json              JSON output\n"
    "      --tensors           list every tensor in the plain output\n";

static const char kInfoExamples[] =
    "\n"
    "examples:\n"
    "  nystrom info model.nyf\n"
    "  nystrom info model.nyf --landmarks 64     # the cost of Nystrom attention\n"
    "  nystrom info model.nyf --json | python3 -m json.tool\n";

namespace {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::GeluTanh: return "gelu_new";
    case Activation::GeluErf: return "gelu";
    case Activation::Relu: return "relu";
  }
  return "unknown";
}

const char* head_name(HeadType h) {
  switch (h) {
    case HeadType::None: return "none";
    case HeadType::MaskedLM: return "masked_lm";
    case HeadType::Classifier: return "classifier";
  }
  return "unknown";
}

const char* problem_name(ProblemType p) {
  switch (p) {
    case ProblemType::SingleLabel: return "single_label_classification";
    case ProblemType::MultiLabel: return "multi_label_classification";
    case ProblemType::Regression: return "regression";
  }
  return "unknown";
}

struct Row {
  size_t n;
  ForwardCost cost;
  bool runs;  // what the options run; else the other attention, for comparison
};

// The lengths to show: the usual ones the model accepts, and its longest.
std::vector<size_t> lengths_for(const ModelConfig& c) {
  std::vector<size_t> ns;
  for (size_t n : {512, 4096, 16384, 65536})
    if (n <= c.max_positions) ns.push_back(n);
  if (ns.empty() || ns.back() != c.max_positions) ns.push_back(c.max_positions);
  return ns;
}

// Each length's cost under the options, and under the other attention.
std::vector<Row> cost_rows(const ModelConfig& c, const RunOptions& o) {
  std::vector<Row> rows;
  for (size_t n : lengths_for(c)) {
    const ForwardCost mine = forward_cost(c, n, o);
    rows.push_back({n, mine, true});
    RunOptions other = o;
    other.attention = mine.exact_attention ? AttentionMode::Nystrom : AttentionMode::Exact;
    const ForwardCost alt = forward_cost(c, n, other);
    if (alt.exact_attention != mine.exact_attention) rows.push_back({n, alt, false});
  }
  return rows;
}

std::string attention_label(const ForwardCost& f) {
  return f.exact_attention ? "exact" : "nystrom, m=" + std::to_string(f.landmarks);
}

std::string shape_text(const std::vector<uint64_t>& shape, const char* open, const char* sep, const char* close) {
  std::string s = open;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? sep : "") + std::to_string(shape[i]);
  return s + close;
}

struct TypeTotal {
  size_t tensors = 0;
  uint64_t bytes = 0;
};

std::string mb(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f MB", bytes / 1e6);
  return buf;
}

}  // namespace

int cmd_info(int argc, char** argv) {
  tools::Args args(argc, argv, 2, with({"--model"}, run_value_flags()),
                   with({"--help", "--json", "--tensors"}, run_switches()), {{"-m", "--model"}, {"-h", "--help"}});
  if (args.has("--help")) {
    std::fputs(kInfoUsage, stdout);
    std::fputs(kRunOptionsHelp, stdout);
    std::fputs("  -h, --help              show this help\n", stdout);
    std::fputs(kInfoExamples, stdout);
    return 0;
  }
  const auto& pos = args.positionals();
  if (pos.size() > 1 || (pos.size() == 1 && args.has("--model")))
    throw tools::UsageError{"give one model file"};
  if (pos.empty() && !args.has("--model")) throw tools::UsageError{"no model file given"};
  const std::string path = pos.empty() ? args.get("--model") : pos[0];
  RunOptions o = parse_run_options(args);
  auto model = Model::open(path, parse_open_options(args));
  const ModelConfig& c = model->config();
  o.threads = Session(model, o).options().threads;  // resolved as a run would
  // A tokenizer section that does not build is shown, not fatal: the rest
  // of the file is still worth seeing.
  const Tokenizer* tok = nullptr;
  std::string tok_error;
  try {
    tok = model->tokenizer();
  } catch (const Error& e) {
    tok_error = e.what();
  }
  const std::vector<Model::TensorInfo> tensors = model->tensors();
  std::map<std::string, TypeTotal> by_type;
  uint64_t tensor_bytes = 0;
  for (const Model::TensorInfo& t : tensors) {
    ++by_type[t.type].tensors, by_type[t.type].bytes += t.bytes;
    tensor_bytes += t.bytes;
  }
  struct stat st;
  const uint64_t file_bytes = ::stat(path.c_str(), &st) == 0 ? (uint64_t)st.st_size : 0;
  const ForwardCost plan = forward_cost(c, c.max_positions, o);
  const std::vector<Row> rows = cost_rows(c, o);
  auto token_or_null = [&](std::optional<int32_t> id) {
    return id ? tools::json_quote(tok->id_to_token(*id)) : std::string("null");
  };

  if (args.has("--json")) {
    using tools::json_number;
    using tools::json_quote;
    auto u = [](uint64_t v) { return std::to_string(v); };
    std::string s = "{\"file\": " + json_quote(path) + ", \"file_bytes\": " + u(file_bytes) +
                    ", \"format_version\": " + u(model->file_version()) + ", \"config\": {";
    s += "\"vocab_size\": " + u(c.vocab_size) + ", \"hidden_size\": " + u(c.hidden_size) +
         ", \"num_layers\": " + u(c.num_layers) + ", \"num_heads\": " + u(c.num_heads) +
         ", \"intermediate_size\": " + u(c.intermediate_size) + ", \"max_positions\": " + u(c.max_positions) +
         ", \"type_vocab_size\": " + u(c.type_vocab_size) + ", \"num_landmarks\": " + u(c.num_landmarks) +
         ", \"segment_means_len\": " + u(c.segment_means_len) + ", \"conv_kernel\": " + u(c.conv_kernel) +
         ", \"position_offset\": " + u(c.position_offset) + ", \"activation\": \"" + activation_name(c.activation) +
         "\", \"layer_norm_eps\": " + json_number(c.layer_norm_eps) + ", \"head\": \"" + head_name(c.head) +
         "\", \"problem_type\": " + (c.head == HeadType::Classifier ? "\"" + std::string(problem_name(c.problem_type)) + "\"" : "null") +
         ", \"labels\": [";
    for (size_t i = 0; i < c.labels.size(); ++i) s += (i ? ", " : "") + json_quote(c.labels[i]);
    s += "]}, \"tensors\": [";
    for (size_t i = 0; i < tensors.size(); ++i)
      s += std::string(i ? ", " : "") + "{\"name\": " + json_quote(tensors[i].name) + ", \"type\": \"" +
           tensors[i].type + "\", \"shape\": " + shape_text(tensors[i].shape, "[", ", ", "]") +
           ", \"bytes\": " + u(tensors[i].bytes) + "}";
    s += "], \"tensor_types\": [";
    bool first = true;
    for (const auto& [type, total] : by_type) {
      s += std::string(first ? "" : ", ") + "{\"type\": \"" + type + "\", \"tensors\": " + u(total.tensors) +
           ", \"bytes\": " + u(total.bytes) + "}";
      first = false;
    }
    s += "], \"tokenizer\": ";
    if (tok)
      s += "{\"kind\": \"" + std::string(tok->kind()) + "\", \"vocab_size\": " + u((uint64_t)tok->vocab_size()) +
           ", \"mask_token\": " + token_or_null(tok->mask_id()) + ", \"unknown_token\": " +
           token_or_null(tok->unk_id()) + ", \"special_tokens\": " + u((uint64_t)tok->num_special_tokens()) + "}";
    else if (!tok_error.empty())
      s += "{\"error\": " + json_quote(tok_error) + "}";
    else
      s += "null";
    s += ", \"attention\": {\"exact\": " + std::string(plan.exact_attention ? "true" : "false") +
         ", \"landmarks\": " + u(plan.landmarks) + ", \"reason\": " + json_quote(tools::attention_summary(c, o)) +
         "}, \"threads\": " + u((uint64_t)o.threads) + ", \"cost\": [";
    for (size_t i = 0; i < rows.size(); ++i) {
      const ForwardCost& f = rows[i].cost;
      s += std::string(i ? ", " : "") + "{\"n\": " + u(rows[i].n) + ", \"attention\": \"" +
           (f.exact_attention ? "exact" : "nystrom") + "\", \"landmarks\": " + u(f.landmarks) +
           ", \"flops\": " + json_number(f.flops) + ", \"work_bytes\": " + u(f.work_bytes) +
           ", \"output_bytes\": " + u(f.output_bytes) + ", \"runs\": " + (rows[i].runs ? "true" : "false") + "}";
    }
    put_line(s + "]}");
    return 0;
  }

  std::printf("file:        %s, %s, format version %u\n", path.c_str(), mb(file_bytes).c_str(), model->file_version());
  std::printf("config:\n");
  auto field = [](const char* name, const std::string& v) { std::printf("  %-20s %s\n", name, v.c_str()); };
  auto n = [](uint64_t v) { return std::to_string(v); };
  field("vocab_size", n(c.vocab_size));
  field("hidden_size", n(c.hidden_size));
  field("num_layers", n(c.num_layers));
  field("num_heads", n(c.num_heads));
  field("intermediate_size", n(c.intermediate_size));
  field("max_positions", n(c.max_positions));
  field("type_vocab_size", n(c.type_vocab_size));
  field("num_landmarks", n(c.num_landmarks));
  field("segment_means_len", n(c.segment_means_len));
  field("conv_kernel", c.conv_kernel ? n(c.conv_kernel) : "0 (no conv skip)");
  field("position_offset", n(c.position_offset));
  field("activation", activation_name(c.activation));
  char eps[32];
  std::snprintf(eps, sizeof eps, "%g", c.layer_norm_eps);  // as config.json writes it
  field("layer_norm_eps", eps);
  std::string head = head_name(c.head);
  if (c.head == HeadType::Classifier) {
    head += std::string(", ") + problem_name(c.problem_type) + ", " + n(c.labels.size()) + " label" +
            (c.labels.size() == 1 ? "" : "s") + ": ";
    const size_t shown = std::min<size_t>(c.labels.size(), 20);
    for (size_t i = 0; i < shown; ++i) head += (i ? ", " : "") + escape_text(c.labels[i]);
    if (shown < c.labels.size()) head += ", ... (--json lists all)";
  }
  std::printf("head:        %s\n", head.c_str());
  std::printf("tensors:     %zu, %s\n", tensors.size(), mb(tensor_bytes).c_str());
  for (const auto& [type, total] : by_type)
    std::printf("  %-5s %5zu tensor%s %14s\n", type.c_str(), total.tensors, total.tensors == 1 ? " " : "s",
                mb(total.bytes).c_str());
  if (args.has("--tensors"))
    for (const Model::TensorInfo& t : tensors)
      std::printf("  %-48s %-5s %-16s %s\n", escape_text(t.name).c_str(), t.type.c_str(),
                  shape_text(t.shape, "[", ", ", "]").c_str(), mb(t.bytes).c_str());
  if (tok) {
    auto name = [&](std::optional<int32_t> id) {
      return id ? escape_text(tok->id_to_token(*id)) : std::string("none");
    };
    std::printf("tokenizer:   %s, %d ids, mask %s, unknown %s, %d special tokens per input\n", tok->kind(),
                (int)tok->vocab_size(), name(tok->mask_id()).c_str(), name(tok->unk_id()).c_str(),
                tok->num_special_tokens());
  } else if (!tok_error.empty()) {
    std::printf("tokenizer:   unusable: %s\n", tok_error.c_str());
  } else {
    std::printf("tokenizer:   none (takes token ids only: nystrom run)\n");
  }
  std::printf("attention:   %s\n", tools::attention_summary(c, o).c_str());
  std::printf("cost of one forward pass (threads %d; the weights, mapped from the file, not counted):\n",
              o.threads);
  std::printf("  %8s  %-18s %10s %10s %10s\n", "n", "attention", "GFLOP", "work MB", "output MB");
  for (const Row& r : rows)
    std::printf("  %8zu  %-18s %10.3f %10.1f %10.1f%s\n", r.n, attention_label(r.cost).c_str(), r.cost.flops / 1e9,
                r.cost.work_bytes / 1e6, r.cost.output_bytes / 1e6,
                r.runs ? "" : (r.cost.exact_attention ? "  (--attention exact)" : "  (--attention nystrom)"));
  return 0;
}

}  // namespace nystrom::cli
