// The bench's base-size model: BERT-base's shape with Nystrom attention,
// random weights, written once per shape and weight type into the bench's
// scratch folder and reused by later sections and runs; and its inputs.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "nystrom/convert.h"
#include "nystrom/format.h"
#include "nystrom/nystrom.h"

namespace nystrom::benchtool {

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

// dir/base-LAYERS-POSITIONS-TYPE.nyf, written when missing.
inline std::string base_model_file(const std::string& dir, int positions, int layers, format::DType type) {
  const std::string path = dir + "/base-" + std::to_string(layers) + "-" + std::to_string(positions) + "-" +
                           dtype_name(type) + ".nyf";
  if (::access(path.c_str(), R_OK) != 0) write_random_model(path, base_config(positions, layers), 1, type);
  return path;
}

// n ids drawn from [0, vocab), the same for every run.
inline std::vector<int32_t> random_ids_for(int n, uint32_t vocab) {
  std::mt19937 rng(11);
  std::vector<int32_t> ids(n);
  for (int32_t& id : ids) id = (int32_t)(rng() % vocab);
  return ids;
}

}  // namespace nystrom::benchtool
