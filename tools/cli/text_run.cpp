#include "text_run.h"

#include <sys/resource.h>

#include <cstdio>
#include <string>

#include "encoder.h"
#include "progress.h"
#include "run_options.h"
#include "text_common.h"

namespace nystrom::cli {

TextRun::TextRun(const tools::Args& args) {
  options = parse_run_options(args);
  const std::string path = args.require("--model");
  verbose = args.has("--verbose");
  inputs = read_text_inputs(args);
  auto t0 = Clock::now();
  model = Model::open(path, parse_open_options(args));
  model_ms = ms_since(t0);
  t0 = Clock::now();
  tok = model->tokenizer();
  tokenizer_ms = ms_since(t0);
  if (!tok) throw Error(path + " has no tokenizer (convert the checkpoint with its tokenizer files)");
}

std::vector<std::vector<int32_t>> TextRun::encode_all(bool add_special, bool truncate, bool show_progress) {
  const auto t0 = Clock::now();
  Encoder enc(*tok, model->config().max_positions, truncate);
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(inputs.size());
  Progress progress(show_progress ? inputs.size() : 0);
  for (const TextInput& in : inputs) {
    ids.push_back(enc.encode(in, add_special));
    tokens += ids.back().size();
    progress.update(ids.size());
  }
  tokenize_ms = ms_since(t0);
  return ids;
}

void TextRun::run_all(const std::vector<std::vector<int32_t>>& ids,
                      const std::function<void(size_t, const Output&)>& use) {
  const int requested_threads = options.threads;
  Session session(model, options);
  options = session.options();  // with the thread count resolved, for the summary
  if (verbose) explain_options(requested_threads);
  const auto t0 = Clock::now();
  Progress progress(ids.size());
  Output out;
  auto done = [&](size_t i, const Output& o) {
    use(i, o);
    flush_output();  // a reader that went away stops the run here
    progress.update(i + 1);
  };
  // Consecutive short inputs run as one batch (Session::run_batch packs
  // them into shared passes; the outputs are bit for bit the same). A group
  // ends at kGroupTokens tokens (one pass) or kGroupFloats floats of
  // outputs held at once (a masked-LM head's logits are vocab floats a row).
  constexpr size_t kGroupTokens = 1024, kGroupFloats = size_t(1) << 24;
  const ModelConfig& c = model->config();
  const size_t row_floats =
      c.hidden_size + (c.head == HeadType::MaskedLM && options.outputs.logits ? c.vocab_size : 0);
  for (size_t i = 0; i < ids.size();) {
    size_t end = i + 1, rows = ids[i].size();
    while (end < ids.size() && rows + ids[end].size() <= kGroupTokens &&
           (rows + ids[end].size()) * row_floats <= kGroupFloats)
      rows += ids[end++].size();
    std::vector<Output> outs;
    if (end - i > 1) {
      try {
        outs = session.run_batch(std::vector<std::vector<int32_t>>(ids.begin() + i, ids.begin() + end));
      } catch (const Error&) {
        outs.clear();  // run the group one by one: its inputs' errors come as a lone run reports them
      }
    }
    for (size_t j = i; j < end; ++j) {
      if (!outs.empty()) {
        done(j, outs[j - i]);
        continue;
      }
      session.run(ids[j].data(), ids[j].size(), out);
      done(j, out);
    }
    i = end;
  }
  progress.finish();
  run_ms = ms_since(t0);
}

// What runs differs from what was asked: said under --verbose.
void TextRun::explain_options(int requested_threads) const {
  if (requested_threads > options.threads)
    std::fprintf(stderr, "threads:     %d requested, capped to %d (the CPUs this process may use)\n",
                 requested_threads, options.threads);
  const ModelConfig& c = model->config();
  const uint32_t head_size = c.hidden_size / c.num_heads;
  if (options.attention_precision == AttentionPrecision::Int8 && head_size % 32 != 0)
    std::fprintf(stderr, "attention:   int8 needs a head size that is a multiple of 32 (this model's is %u); f32 runs\n",
                 head_size);
}

// Peak resident memory of this process so far, in MB (getrusage: Linux
// reports ru_maxrss in KiB).
static double peak_memory_mb() {
  struct rusage ru;
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return ru.ru_maxrss * 1024.0 / 1e6;
}

void TextRun::report() const {
  if (!verbose) return;
  const double work_ms = tokenize_ms + run_ms;
  std::fprintf(stderr, "load:        %.1f ms (model file %.1f ms, tokenizer %.1f ms)\n", model_ms + tokenizer_ms,
               model_ms, tokenizer_ms);
  std::fprintf(stderr, "tokens:      %zu in %zu input%s (tokenizing %.1f ms)\n", tokens, inputs.size(),
               inputs.size() == 1 ? "" : "s", tokenize_ms);
  if (run_ms > 0)
    std::fprintf(stderr, "model:       %.1f ms (threads %d, isa %s)\n", run_ms, options.threads,
                 instruction_set_name(instruction_set()));
  std::fprintf(stderr, "throughput:  %.0f tokens/s (tokenizing%s)\n", work_ms > 0 ? tokens * 1000.0 / work_ms : 0.0,
               run_ms > 0 ? " and model" : "");
  std::fprintf(stderr, "peak memory: %.1f MB\n", peak_memory_mb());
}

}  // namespace nystrom::cli
