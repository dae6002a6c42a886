// f32 weight matrices are packed into GEMM panels once, when a model is
// opened (PackedGemmB, kernels/gemm.h). The promise is that nothing changes
// but the time: a product through the prepacked panels has exactly the bits
// of the per-call packing path (the micro-kernel sees the same panels in the
// same order), on every dispatch level this CPU runs, and a model opened
// under one level and run under another falls back to per-call packing with
// the same bits as a model opened under the level it runs on.
#include <doctest/doctest.h>

#include <vector>

#include "convert/hf_checkpoint.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/kernel_support.h"
#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "runtime/thread_pool.h"
#include "support.h"

using nystrom::KernelTable;
using nystrom::PackedGemmB;
using nystrom::ops::Act;
using nystrom::ops::Epilogue;

namespace {

using test::same_bits;

struct Shape {
  int M, N, K;
};

// N off every NR (4..32) and past one and two NC blocks, K = 1, K past one
// and two KC blocks, M = 1 and M past one MC block, for a level's blocks.
std::vector<Shape> shapes(const nystrom::GemmBlocks& b) {
  return {{1, 1, 1},    {1, 37, 1},           {5, 13, 7},          {1, 100, b.kc + 1}, {b.mc + 7, 45, 2 * b.kc + 1},
          {49, 33, b.kc}, {7, b.nc + 29, 3}, {3, 2 * b.nc + 1, 20}};
}

// C = A W^T both ways: W packed once, and W packed by gemm_blocked.
void check_shape(const KernelTable& t, nystrom::ThreadPool* pool, const Shape& s, bool trans_a, const Epilogue& ep) {
  const int ldw = s.K + 3, lda = (trans_a ? s.M : s.K) + 2, ldc = s.N + 1;
  const std::vector<float> w = test::random_vector((size_t)s.N * ldw, 1);
  const std::vector<float> a = test::random_vector((size_t)(trans_a ? s.K : s.M) * lda, 2);
  const std::vector<float> c_old = test::random_vector((size_t)s.M * ldc, 3);
  std::vector<float> per_call = c_old, prepacked = c_old;

  nystrom::gemm_blocked(t, pool, s.M, s.N, s.K, a.data(), lda, trans_a, w.data(), ldw, true, per_call.data(), ldc,
                        ep);
  const PackedGemmB packed(t, s.N, s.K, w.data(), ldw);
  nystrom::gemm_blocked_prepacked(pool, s.M, a.data(), lda, trans_a, packed, prepacked.data(), ldc, ep);
  CHECK(same_bits(prepacked, per_call));
}

}  // namespace

TEST_CASE("gemm prepacked: the bits of per-call packing on awkward shapes, every level, 1 and 3 threads") {
  nystrom::ThreadPool pool(3);
  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    const std::vector<float> bias = test::random_vector(2 * t->gemm.nc + 1, 4);
    Epilogue plain, full;
    full.bias = bias.data();
    full.act = Act::GeluErf;
    full.accumulate = true;
    full.scale = 0.5f;
    for (const Shape& s : shapes(t->gemm)) {
      CAPTURE(s.M);
      CAPTURE(s.N);
      CAPTURE(s.K);
      for (bool trans_a : {false, true}) {
        CAPTURE(trans_a);
        check_shape(*t, nullptr, s, trans_a, plain);
        check_shape(*t, &pool, s, trans_a, full);
      }
    }
  }
}

TEST_CASE("gemm prepacked: K floats per column, N rounded up to NR in each NC block") {
  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    const int NR = t->gemm.nr, NC = t->gemm.nc, K = 70;
    auto round_up = [&](int n) { return (size_t)(n + NR - 1) / NR * NR; };
    const std::vector<float> w = test::random_vector((size_t)(NC + 5) * K, 5);
    CHECK(PackedGemmB(*t, 5, K, w.data(), K).bytes() == round_up(5) * K * sizeof(float));
    CHECK(PackedGemmB(*t, NC + 5, K, w.data(), K).bytes() == (round_up(NC) + round_up(5)) * K * sizeof(float));
  }
}

TEST_CASE("gemm prepacked: ops::linear uses panels of the level in use, and packs per call under another") {
  const KernelTable& in_use = nystrom::kernels();
  const int M = 9, N = 21, K = 400;
  const std::vector<float> w = test::random_vector((size_t)N * K, 6), x = test::random_vector((size_t)M * K, 7);
  const std::vector<float> bias = test::random_vector(N, 8);
  std::vector<float> expected((size_t)M * N);
  Epilogue ep;
  ep.bias = bias.data();
  ep.act = Act::Relu;
  nystrom::gemm_blocked(in_use, nullptr, M, N, K, x.data(), K, false, w.data(), K, true, expected.data(), N, ep);
  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    const PackedGemmB packed(*t, N, K, w.data(), K);
    nystrom::ops::WeightMatrix m;
    m.rows = N, m.cols = K, m.data = w.data(), m.panels = &packed, m.table = t;
    std::vector<float> y((size_t)M * N);
    nystrom::ops::linear(nullptr, M, x.data(), K, m, bias.data(), y.data(), N, Act::Relu);
    CHECK(same_bits(y, expected));
  }
}

TEST_CASE("gemm prepacked: a model opened under a lower level runs with the bits of one opened under the level in use") {
  const nystrom::InstructionSet best = nystrom::instruction_set();
  if (best == nystrom::InstructionSet::Scalar) return;  // one level only: nothing to compare
  for (const std::string& name : test::reference_cases()) {
    CAPTURE(name);
    nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(test::testdata_dir() + "/" + name);
    test::TempDir tmp;
    const std::string path = tmp / "f32.nyf";
    nystrom::write_model_file(path, ck.config, ck.tensors);
    const std::vector<int32_t> ids = test::reference_ids(name);

    nystrom::set_instruction_set_cap(nystrom::InstructionSet::Scalar);
    std::shared_ptr<const nystrom::Model> scalar_packed = nystrom::Model::open(path);
    nystrom::set_instruction_set_cap(best);
    std::shared_ptr<const nystrom::Model> best_packed = nystrom::Model::open(path);

    nystrom::Session fallback(scalar_packed), prepacked(best_packed);
    const nystrom::Output a = fallback.run(ids), b = prepacked.run(ids);
    CHECK(same_bits(a.last_hidden_state, b.last_hidden_state));
    CHECK(same_bits(a.logits, b.logits));
  }
}
