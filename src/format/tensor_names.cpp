#include "format/tensor_names.h"

namespace nystrom {

std::string layer_tensor(uint32_t layer, const char* suffix) {
  return "encoder.layer." + std::to_string(layer) + "." + suffix;
}

bool is_weight_matrix(const std::string& name) {
  auto ends_with = [&](const char* suffix) {
    size_t n = std::char_traits<char>::length(suffix);
    return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
  };
  if (name == "embeddings.word_embeddings.weight" || name == "embeddings.position_embeddings.weight" ||
      name == "cls.predictions.transform.dense.weight" ||
      name == "cls.predictions.decoder.weight" || name == "classifier.dense.weight" ||
      name == "classifier.out_proj.weight")
    return true;
  return name.rfind("encoder.layer.", 0) == 0 &&
         (ends_with(".attention.self.query.weight") || ends_with(".attention.self.key.weight") ||
          ends_with(".attention.self.value.weight") || ends_with(".attention.output.dense.weight") ||
          ends_with(".intermediate.dense.weight") || ends_with(".output.dense.weight"));
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
  const uint64_t D = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  std::vector<ExpectedTensor> t;
  auto add = [&](std::string name, std::vector<uint64_t> shape, bool optional = false) {
    t.push_back({std::move(name), std::move(shape), optional});
  };
  add("embeddings.word_embeddings.weight", {V, D});
  add("embeddings.position_embeddings.weight", {uint64_t(c.max_positions) + c.position_offset, D});
  add("embeddings.token_type_embeddings.weight", {c.type_vocab_size, D});
  add("embeddings.LayerNorm.weight", {D});
  add("embeddings.LayerNorm.bias", {D});
  for (uint32_t l = 0; l < c.num_layers; ++l) {
    for (const char* p : {"attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.output.dense"}) {
      add(layer_tensor(l, p) + ".weight", {D, D});
      add(layer_tensor(l, p) + ".bias", {D});
    }
    if (c.conv_kernel) add(layer_tensor(l, "attention.self.conv.weight"), {c.num_heads, 1, c.conv_kernel, 1});
    add(layer_tensor(l, "attention.output.LayerNorm.weight"), {D});
    add(layer_tensor(l, "attention.output.LayerNorm.bias"), {D});
    add(layer_tensor(l, "intermediate.dense.weight"), {I, D});
    add(layer_tensor(l, "intermediate.dense.bias"), {I});
    add(layer_tensor(l, "output.dense.weight"), {D, I});
    add(layer_tensor(l, "output.dense.bias"), {D});
    add(layer_tensor(l, "output.LayerNorm.weight"), {D});
    add(layer_tensor(l, "output.LayerNorm.bias"), {D});
  }
  if (c.head == HeadType::MaskedLM) {
    add("cls.predictions.transform.dense.weight", {D, D});
    add("cls.predictions.transform.dense.bias", {D});
    add("cls.predictions.transform.LayerNorm.weight", {D});
    add("cls.predictions.transform.LayerNorm.bias", {D});
    add("cls.predictions.decoder.weight", {V, D}, true);
    add("cls.predictions.bias", {V});
  } else if (c.head == HeadType::Classifier) {
    const uint64_t C = c.labels.size();
    add("classifier.dense.weight", {D, D});
    add("classifier.dense.bias", {D});
    add("classifier.out_proj.weight", {C, D});
    add("classifier.out_proj.bias", {C});
  }
  return t;
}

}  // namespace nystrom
