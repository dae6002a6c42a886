// Model files with random weights, for benchmarks (and tests) that need a
// model of a given size rather than a trained one.
#pragma once
#include <cmath>
#include <random>
#include <string>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "format/tensor_names.h"

namespace nystrom::tools {

// A base-size configuration (BERT-base shape with Nystrom attention).
inline ModelConfig base_config(uint32_t max_positions, uint32_t layers = 12) {
  ModelConfig c;
  c.vocab_size = 1000;  // embeddings cost nothing per token; keeps the file small
  c.hidden_size = 768;
  c.num_layers = layers;
  c.num_heads = 12;
  c.intermediate_size = 3072;
  c.max_positions = max_positions;
  c.type_vocab_size = 1;
  c.num_landmarks = 64;
  c.segment_means_len = 1;  // != num_landmarks: the checkpoint rule says Nystrom
  c.conv_kernel = 33;
  c.head = HeadType::None;
  return c;
}

// Writes a model with weights ~ N(0, 0.02) (LayerNorm weights 1, biases 0),
// its weight matrices stored as `type`.
inline void write_random_model(const std::string& path, const ModelConfig& c, uint32_t seed = 1,
                               format::DType type = format::DType::F32) {
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
  set_weight_type(ck, type, nullptr);
  write_model_file(path, c, ck.tensors);
}

}  // namespace nystrom::tools
