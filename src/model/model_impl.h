// What a loaded model is inside: the mapped file and pointers into it.
#pragma once
#include "format/model_file.h"
#include "model/weights.h"
#include "nystrom/nystrom.h"

namespace nystrom {

struct Model::Impl {
  Impl(const std::string& path, bool verify_checksum)
      : file(path, verify_checksum), weights(bind_weights(file)) {}
  ModelFile file;
  Weights weights;
};

}  // namespace nystrom
