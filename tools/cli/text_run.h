// What a text command runs on: the model, its tokenizer and the inputs, the
// inputs tokenized and run in order on one session, and the timings that
// --verbose prints.
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
  std::vector<TextInput> inputs;
  bool verbose = false;
  double model_ms = 0, tokenizer_ms = 0, tokenize_ms = 0, run_ms = 0;
  size_t tokens = 0;

  // Parses the shared options (usage errors first), reads the inputs, opens
  // the model and builds its tokenizer. A model without a tokenizer is an
  // error that says how to get one.
  explicit TextRun(const tools::Args& args);

  // Every input's ids (errors name the input), timed; with progress when
  // `show_progress` (the tokenize command, whose work this is).
  std::vector<std::vector<int32_t>> encode_all(bool add_special, bool truncate, bool show_progress = false);

  // Runs each sequence on one session, short ones packed together
  // (Session::run_batch), calling use(i, out) in input order.
  void run_all(const std::vector<std::vector<int32_t>>& ids, const std::function<void(size_t, const Output&)>& use);

  // The --verbose summary on stderr.
  void report() const;

 private:
  void explain_options(int requested_threads) const;
};

}  // namespace nystrom::cli
