#include "text_run.h"

#include <sys/resource.h>

#include <cstdio>
#include <string>

#include "../common/attention_summary.h"
#include "encoder.h"
#include "progress.h"
#include "run_options.h"
#include "text_common.h"

namespace nystrom::cli {

TextRun::TextRun(const tools::Args& args) {
  options = parse_run_options(args);
  const std::string path = args.require("--model");
  verbose = args.has("--verbose");
  source_ = std::make_unique<TextSource>(args);
  if (!source_->streaming())
    for (TextInput in; source_->next(in);) whole_.push_back(std::move(in));
  auto t0 = Clock::now();
  model = Model::open(path, parse_open_options(args));
  model_ms = ms_since(t0);
  t0 = Clock::now();
  tok = model->tokenizer();
  tokenizer_ms = ms_since(t0);
  if (!tok) throw Error(path + " has no tokenizer (convert the checkpoint with its tokenizer files)");
}

void TextRun::each_input(bool add_special, bool truncate, const Check& check, const Use& use, bool show_progress) {
  Encoder enc(*tok, model->config().max_positions, truncate);
  auto encode = [&](const TextInput& in) {
    const auto t0 = Clock::now();
    std::vector<int32_t> ids = enc.encode(in, add_special);
    tokenize_ms += ms_since(t0);
    tokens += ids.size();
    if (check) check(in, ids);
    return ids;
  };
  if (source_->streaming()) {
    for (TextInput in; source_->next(in);) {
      const std::vector<int32_t> ids = encode(in);
      use(inputs++, in, ids);
      flush_output();  // the answer leaves before the next line is read
    }
    return;
  }
  std::vector<std::vector<int32_t>> all;
  all.reserve(whole_.size());
  Progress progress(show_progress ? whole_.size() : 0);
  for (const TextInput& in : whole_) {
    all.push_back(encode(in));
    progress.update(all.size());
  }
  progress.finish();
  for (size_t i = 0; i < whole_.size(); ++i) {
    use(inputs++, whole_[i], all[i]);
    flush_output();  // a reader that went away stops the run here
  }
}

void TextRun::each_run(bool add_special, bool truncate, const Check& check, const Select& select, const RunUse& use) {
  const int requested_threads = options.threads;
  Session session(model, options);
  options = session.options();  // with the thread count resolved, for the summary
  if (verbose) explain_options(requested_threads);
  Progress progress(source_->streaming() ? 0 : whole_.size());
  Output out;
  auto run_one = [&](size_t i, const TextInput& in, const std::vector<int32_t>& ids) {
    const auto t0 = Clock::now();
    if (select) session.run(ids.data(), ids.size(), select(ids), out);
    else session.run(ids.data(), ids.size(), out);
    run_ms += ms_since(t0);
    use(i, in, ids, out);
    progress.update(i + 1);
  };
  // A group of a file's inputs ends at kGroupTokens tokens (one pass) or
  // kGroupFloats floats of outputs held at once (a masked-LM head's logits
  // are vocab floats a row). Streams answer each line as it comes.
  constexpr size_t kGroupTokens = 1024, kGroupFloats = size_t(1) << 24;
  const ModelConfig& c = model->config();
  const size_t row_floats =
      c.hidden_size + (c.head == HeadType::MaskedLM && options.outputs.logits ? c.vocab_size : 0);
  const bool batched = !source_->streaming() && !select;
  struct Pending {
    size_t i;
    const TextInput* in;  // in whole_, which outlives the group
    std::vector<int32_t> ids;
  };
  std::vector<Pending> group;
  size_t group_rows = 0;
  auto run_group = [&] {
    std::vector<Output> outs;
    if (group.size() > 1) {
      std::vector<std::vector<int32_t>> batch;
      for (const Pending& p : group) batch.push_back(p.ids);
      const auto t0 = Clock::now();
      try {
        outs = session.run_batch(batch);
      } catch (const Error&) {
        outs.clear();  // one by one: an input's error comes as a lone run reports it
      }
      run_ms += ms_since(t0);
    }
    for (size_t j = 0; j < group.size(); ++j) {
      const Pending& p = group[j];
      if (outs.empty()) {
        run_one(p.i, *p.in, p.ids);
      } else {
        use(p.i, *p.in, p.ids, outs[j]);
        progress.update(p.i + 1);
      }
      flush_output();  // a reader that went away stops the run here
    }
    group.clear();
    group_rows = 0;
  };
  each_input(add_special, truncate, check, [&](size_t i, const TextInput& in, const std::vector<int32_t>& ids) {
    if (!batched) return run_one(i, in, ids);
    const size_t rows = group_rows + ids.size();
    if (!group.empty() && (rows > kGroupTokens || rows * row_floats > kGroupFloats)) run_group();
    group.push_back({i, &in, ids});
    group_rows += ids.size();
  });
  run_group();
  progress.finish();
}

// Which attention runs and why, and what runs differs from what was asked:
// said under --verbose.
void TextRun::explain_options(int requested_threads) const {
  std::fprintf(stderr, "attention:   %s\n", tools::attention_summary(model->config(), options).c_str());
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
  std::fprintf(stderr, "tokens:      %zu in %zu input%s (tokenizing %.1f ms)\n", tokens, inputs,
               inputs == 1 ? "" : "s", tokenize_ms);
  if (run_ms > 0)
    std::fprintf(stderr, "model:       %.1f ms (threads %d, isa %s)\n", run_ms, options.threads,
                 instruction_set_name(instruction_set()));
  std::fprintf(stderr, "throughput:  %.0f tokens/s (tokenizing%s)\n", work_ms > 0 ? tokens * 1000.0 / work_ms : 0.0,
               run_ms > 0 ? " and model" : "");
  std::fprintf(stderr, "peak memory: %.1f MB\n", peak_memory_mb());
}

}  // namespace nystrom::cli
