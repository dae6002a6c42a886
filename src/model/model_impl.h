// What a loaded model is inside: the mapped file and pointers into it.
#pragma once
#include <memory>
#include <mutex>

#include "format/model_file.h"
#include "model/weights.h"
#include "nystrom/nystrom.h"
#include "runtime/thread_pool.h"

namespace nystrom {

struct Model::Impl {
  Impl(const std::string& path, const OpenOptions& options)
      : file(path, options.verify_checksum),
        weights(bind_weights(file, resolve_thread_count(options.threads, "OpenOptions"))) {}
  ModelFile file;
  Weights weights;
  // Built from file.tokenizer_files() on first use (model/tokenizer.cpp):
  // a run on token ids never pays for parsing a vocabulary.
  mutable std::mutex tokenizer_mutex;
  mutable std::unique_ptr<Tokenizer> tokenizer;
};

}  // namespace nystrom
