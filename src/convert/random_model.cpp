// write_random_model (include/nystrom/convert.h): a model of a given size
// without a checkpoint, for benchmarks.
#include <random>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "format/tensor_names.h"
#include "nystrom/convert.h"

namespace nystrom {

void write_random_model(const std::string& path, const ModelConfig& c, uint32_t seed, format::DType type) {
  validate_config(c, path);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<TensorData> tensors;
  for (const ExpectedTensor& e : expected_tensors(c)) {
    if (e.optional) continue;
    TensorData t{e.name, format::DType::F32, e.shape, {}};
    uint64_t count = 1;
    for (uint64_t d : e.shape) count *= d;
    t.bytes.resize(count * 4);
    float* v = reinterpret_cast<float*>(t.bytes.data());
    bool ln_weight = e.name.find("LayerNorm.weight") != std::string::npos;
    bool bias = e.name.size() > 5 && e.name.compare(e.name.size() - 5, 5, ".bias") == 0;
    for (uint64_t i = 0; i < count; ++i) v[i] = ln_weight ? 1.0f : bias ? 0.0f : normal(rng);
    tensors.push_back(std::move(t));
  }
  Checkpoint ck{c, std::move(tensors)};
  set_weight_type(ck, type, nullptr, {}, TypeRule::EmbeddingsAndHead);  // the converter's rule
  write_model_file(path, c, ck.tensors);
}

}  // namespace nystrom
