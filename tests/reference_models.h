// The reference checkpoints of testdata/hf (test::reference_cases()) as the
// tests use them: converted to an f32 .nyf once per process, opened once per
// process, and their input ids.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "support.h"

namespace test {

// testdata/hf/<name> converted to <scratch>/<name>.nyf by the library (as
// nystrom-convert does), once per process; the path. Tests only read it.
inline std::string reference_nyf(const std::string& name) {
  static std::map<std::string, std::unique_ptr<TempDir>> dirs;
  std::unique_ptr<TempDir>& dir = dirs[name];
  if (!dir) {
    const std::string src = testdata_dir() + "/" + name;
    REQUIRE_MESSAGE(exists(src + "/config.json"), "test data missing at " << src);
    auto d = std::make_unique<TempDir>();
    const nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(src);
    nystrom::write_model_file(*d / (name + ".nyf"), ck.config, ck.tensors);
    dir = std::move(d);
  }
  return *dir / (name + ".nyf");
}

// reference_nyf(name) opened, once per process.
inline std::shared_ptr<const nystrom::Model> reference_model(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const nystrom::Model>> models;
  std::shared_ptr<const nystrom::Model>& model = models[name];
  if (!model) model = nystrom::Model::open(reference_nyf(name));
  return model;
}

// testdata/hf/<name>/input_ids.npy: the ids the reference outputs are for.
inline std::vector<int32_t> reference_ids(const std::string& name) {
  const std::vector<int64_t> ids = nystrom::read_npy_ids(testdata_dir() + "/" + name + "/input_ids.npy");
  return std::vector<int32_t>(ids.begin(), ids.end());
}

}  // namespace test
