#include "model/weights.h"

#include <algorithm>
#include <functional>
#include <set>

#include "format/tensor_names.h"
#include "kernels/dispatch.h"
#include "runtime/error.h"
#include "runtime/thread_pool.h"

namespace nystrom {

Weights bind_weights(const ModelFile& file, int threads) {
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
    if (t->dtype != format::DType::F32 && !is_weight_matrix(e.name))
      fail(file.path(), ": tensor ", e.name, " must be f32, not ", dtype_name(t->dtype));
  }
  for (const TensorView& t : file.tensors())
    if (!expected.count(t.name)) fail(file.path(), ": unexpected tensor ", t.name);

  Weights w;
  // Vectors (biases, norms, conv taps) are copied out of the file: a forward
  // pass then touches the mapping only for embedding rows, so it does not map
  // back the pages around them (a fault maps a whole large folio of the page
  // cache) that released matrices shared with them.
  auto get = [&](const std::string& name) -> const float* {
    const TensorView* t = file.find(name);
    if (!t) return nullptr;
    const float* src = static_cast<const float*>(t->data);
    w.vectors.emplace_back(src, src + t->size / sizeof(float));
    file.release(*t);
    return w.vectors.back().data();
  };
  const KernelTable& table = kernels();
  std::vector<std::function<void()>> packing;  // run once every matrix is bound
  // gemm: whether a GEMM reads the matrix (not only row lookups).
  auto matrix = [&](const std::string& name, bool gemm = true) {
    WeightMatrix m;
    const TensorView* t = file.find(name);
    if (!t) return m;
    m.dtype = t->dtype;
    m.rows = (int)t->shape[0];
    m.cols = (int)t->shape[1];
    m.data = t->data;
    // The embedding tables stay in the file: rows are looked up from there,
    // and the tied decoder is the word table (packed per call when f32).
    // A copy of a table no GEMM reads would only take memory (a base
    // model's 64k positions: 53 MB in q8_0).
    const bool embedding = name.rfind("embeddings.", 0) == 0;
    if (!gemm) return m;
    // Only the repacked copy is read once it is made (m.data stays valid: a
    // released page is read back from the file if a later cap needs it).
    if (m.dtype == format::DType::Q8_0 || m.dtype == format::DType::Q4_0 || m.dtype == format::DType::Q8_C) {
      w.packed.push_back(std::make_unique<PackedQuantMatrix>());
      PackedQuantMatrix* p = w.packed.back().get();
      m.packed = p;
      packing.push_back([&table, &file, p, t, m, embedding] {
        p->repack(table, QuantMatrixView{m.dtype, m.rows, m.cols, m.data});
        if (!embedding) file.release(*t);
      });
    } else if (m.dtype == format::DType::F32 && !embedding) {
      w.panels.push_back(std::make_unique<PackedGemmB>());
      PackedGemmB* p = w.panels.back().get();
      m.panels = p;
      packing.push_back([&table, &file, p, t, m] {
        p->pack(table, m.rows, m.cols, static_cast<const float*>(m.data), m.cols);
        file.release(*t);
      });
    } else {
      return m;
    }
    m.table = &table;
    return m;
  };
  const bool tied_decoder = c.head == HeadType::MaskedLM && !file.find("cls.predictions.decoder.weight");
  w.word = matrix("embeddings.word_embeddings.weight", tied_decoder);
  w.position = matrix("embeddings.position_embeddings.weight", false);
  w.token_type = get("embeddings.token_type_embeddings.weight");
  w.emb_ln_g = get("embeddings.LayerNorm.weight");
  w.emb_ln_b = get("embeddings.LayerNorm.bias");
  for (uint32_t l = 0; l < c.num_layers; ++l) {
    auto L = [&](const char* suffix) { return get(layer_tensor(l, suffix)); };
    LayerWeights lw;
    auto M = [&](const char* suffix) { return matrix(layer_tensor(l, suffix)); };
    lw.wq = M("attention.self.query.weight"), lw.bq = L("attention.self.query.bias");
    lw.wk = M("attention.self.key.weight"), lw.bk = L("attention.self.key.bias");
    lw.wv = M("attention.self.value.weight"), lw.bv = L("attention.self.value.bias");
    lw.conv = c.conv_kernel ? L("attention.self.conv.weight") : nullptr;
    lw.wo = M("attention.output.dense.weight"), lw.bo = L("attention.output.dense.bias");
    lw.ln1_g = L("attention.output.LayerNorm.weight"), lw.ln1_b = L("attention.output.LayerNorm.bias");
    lw.w1 = M("intermediate.dense.weight"), lw.b1 = L("intermediate.dense.bias");
    lw.w2 = M("output.dense.weight"), lw.b2 = L("output.dense.bias");
    lw.ln2_g = L("output.LayerNorm.weight"), lw.ln2_b = L("output.LayerNorm.bias");
    w.layers.push_back(lw);
  }
  if (c.head == HeadType::MaskedLM) {
    w.mlm_dense_w = matrix("cls.predictions.transform.dense.weight");
    w.mlm_dense_b = get("cls.predictions.transform.dense.bias");
    w.mlm_ln_g = get("cls.predictions.transform.LayerNorm.weight");
    w.mlm_ln_b = get("cls.predictions.transform.LayerNorm.bias");
    w.decoder = file.find("cls.predictions.decoder.weight") ? matrix("cls.predictions.decoder.weight") : w.word;
    w.decoder_bias = get("cls.predictions.bias");
  } else if (c.head == HeadType::Classifier) {
    w.cls_dense_w = matrix("classifier.dense.weight");
    w.cls_dense_b = get("classifier.dense.bias");
    w.cls_out_w = matrix("classifier.out_proj.weight");
    w.cls_out_b = get("classifier.out_proj.bias");
  }

  // Packing is most of the load time (an f32 base model: ~195 ms of ~320 on
  // one core), and the matrices are independent: pack them on every thread.
  ThreadPool pool(std::max(1, std::min(threads, (int)packing.size())));
  pool.parallel_for(packing.size(), [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) packing[i]();
  });
  // The checksum read every page of the tables; a run reads only its rows
  // back (64k positions of a base model are 200 MB in f32).
  for (const char* name : {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight"})
    if (const TensorView* t = file.find(name)) {
      w.tables.push_back(*t);
      file.release(*t);
    }
  for (const auto& p : w.packed) w.packed_bytes += p->bytes();
  for (const auto& p : w.panels) w.packed_bytes += p->bytes();
  return w;
}

}  // namespace nystrom
