// What a text command runs on: the model, its tokenizer and the inputs; the
// inputs tokenized and run in order on one session, each answer written
// before the next streamed line is read; and the timings that --verbose
// prints.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "../common/args.h"
#include "nystrom/nystrom.h"
#include "text_input.h"

namespace nystrom::cli {

struct TextRun {
  std::shared_ptr<const Model> model;
  const Tokenizer* tok = nullptr;
  RunOptions options;
  bool verbose = false;
  double model_ms = 0, tokenizer_ms = 0, tokenize_ms = 0, run_ms = 0;
  size_t tokens = 0, inputs = 0;

  // Parses the shared options (usage errors first), opens the input (a
  // regular file or TEXT is read whole here, so that a bad line fails
  // before the model loads), opens the model and builds its tokenizer. A
  // model without a tokenizer is an error that says how to get one.
  explicit TextRun(const tools::Args& args);

  // Refuses an input (throws Error naming in.where), e.g. one without a mask.
  using Check = std::function<void(const TextInput& in, const std::vector<int32_t>& ids)>;
  using Use = std::function<void(size_t i, const TextInput& in, const std::vector<int32_t>& ids)>;
  using RunUse = std::function<void(size_t i, const TextInput& in, const std::vector<int32_t>& ids, const Output& out)>;
  using Select = std::function<OutputSelection(const std::vector<int32_t>& ids)>;

  // Tokenizes each input (errors name it), checks it and passes it to use
  // in input order, flushing stdout after each. A whole file's inputs are
  // all tokenized and checked before the first use, so that a bad line
  // fails before any answer; a stream's are taken one at a time, each used
  // before the next line is read. With progress when `show_progress` (the
  // tokenize command, whose work this is).
  void each_input(bool add_special, bool truncate, const Check& check, const Use& use, bool show_progress = false);

  // The same, each input then run on one session (the outputs `select`
  // gives for its ids, or the session's) before use sees it. A file's
  // consecutive short inputs run as one batch (Session::run_batch: the
  // outputs are bit for bit those of single runs).
  void each_run(bool add_special, bool truncate, const Check& check, const Select& select, const RunUse& use);

  // The --verbose summary on stderr.
  void report() const;

 private:
  std::unique_ptr<TextSource> source_;
  std::vector<TextInput> whole_;  // a non-streaming source's inputs, read at the start
  void explain_options(int requested_threads) const;
};

}  // namespace nystrom::cli
