#include "model/weights.h"

#include <set>

#include "format/tensor_names.h"
#include "runtime/error.h"

namespace nystrom {

Weights bind_weights(const ModelFile& file) {
  const ModelConfig& c = file.config();
  std::set<std::string> expected;
  for (const ExpectedTensor& e : expected_tensors(c)) {
    expected.insert(e.name);
    const TensorView* t = file.find(e.name);
    if (!t) {
      if (e.optional) continue;
      fail(file.path(), ": missing tensor ", e.name);
    }
    if (t->shape != e.shape) fail(file.path(), ": tensor ", e.name, " has the wrong shape");
    if (t->dtype != format::DType::F32) fail(file.path(), ": tensor ", e.name, " is not f32");
  }
  for (const TensorView& t : file.tensors())
    if (!expected.count(t.name)) fail(file.path(), ": unexpected tensor ", t.name);

  auto get = [&](const std::string& name) -> const float* {
    const TensorView* t = file.find(name);
    return t ? static_cast<const float*>(t->data) : nullptr;
  };
  Weights w;
  w.word = get("embeddings.word_embeddings.weight");
  w.position = get("embeddings.position_embeddings.weight");
  w.token_type = get("embeddings.token_type_embeddings.weight");
  w.emb_ln_g = get("embeddings.LayerNorm.weight");
  w.emb_ln_b = get("embeddings.LayerNorm.bias");
  for (uint32_t l = 0; l < c.num_layers; ++l) {
    auto L = [&](const char* suffix) { return get(layer_tensor(l, suffix)); };
    LayerWeights lw;
    lw.wq = L("attention.self.query.weight"), lw.bq = L("attention.self.query.bias");
    lw.wk = L("attention.self.key.weight"), lw.bk = L("attention.self.key.bias");
    lw.wv = L("attention.self.value.weight"), lw.bv = L("attention.self.value.bias");
    lw.conv = c.conv_kernel ? L("attention.self.conv.weight") : nullptr;
    lw.wo = L("attention.output.dense.weight"), lw.bo = L("attention.output.dense.bias");
    lw.ln1_g = L("attention.output.LayerNorm.weight"), lw.ln1_b = L("attention.output.LayerNorm.bias");
    lw.w1 = L("intermediate.dense.weight"), lw.b1 = L("intermediate.dense.bias");
    lw.w2 = L("output.dense.weight"), lw.b2 = L("output.dense.bias");
    lw.ln2_g = L("output.LayerNorm.weight"), lw.ln2_b = L("output.LayerNorm.bias");
    w.layers.push_back(lw);
  }
  if (c.head == HeadType::MaskedLM) {
    w.mlm_dense_w = get("cls.predictions.transform.dense.weight");
    w.mlm_dense_b = get("cls.predictions.transform.dense.bias");
    w.mlm_ln_g = get("cls.predictions.transform.LayerNorm.weight");
    w.mlm_ln_b = get("cls.predictions.transform.LayerNorm.bias");
    w.decoder = get("cls.predictions.decoder.weight");
    if (!w.decoder) w.decoder = w.word;  // tied
    w.decoder_bias = get("cls.predictions.bias");
  } else if (c.head == HeadType::Classifier) {
    w.cls_dense_w = get("classifier.dense.weight");
    w.cls_dense_b = get("classifier.dense.bias");
    w.cls_out_w = get("classifier.out_proj.weight");
    w.cls_out_b = get("classifier.out_proj.bias");
  }
  return w;
}

}  // namespace nystrom
