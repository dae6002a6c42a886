// The whole model is deterministic: a Session gives bit-identical outputs for
// every thread count (GEMMs split work over rows and columns of C, never over
// a sum; the row kernels work on whole rows), in Nystrom and exact attention,
// at lengths that are and are not multiples of the landmark count, on every
// dispatch level this CPU runs. And each of those levels, not only the best
// one, reproduces the reference outputs of testdata/hf within SPEC section 3.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "kernels/dispatch.h"
#include "kernels/kernel_support.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "support.h"

using nystrom::AttentionMode;
using nystrom::Isa;

namespace {

using test::random_ids;
using test::reference_model;

using test::same_bits;

// Selects one level for the life of the object, then restores the level in
// use before (set_isa_cap of a level in use selects that same level).
struct IsaCap {
  Isa saved = nystrom::kernels().isa;
  explicit IsaCap(Isa isa) { nystrom::set_isa_cap(isa); }
  ~IsaCap() { nystrom::set_isa_cap(saved); }
};

const char* mode_name(AttentionMode m) {
  switch (m) {
    case AttentionMode::Auto: return "auto";
    case AttentionMode::Nystrom: return "nystrom";
    case AttentionMode::Exact: return "exact";
  }
  return "?";
}

struct DeterminismCase {
  const char* model;
  std::vector<int> lengths;  // at most m run exact attention in any mode
};

}  // namespace

TEST_CASE("determinism: 1, 2, 3 and 4 threads give bit-identical outputs in Nystrom and exact attention") {
  const DeterminismCase cases[] = {
      {"tiny-mlm", {1, 8, 13, 37, 64}},  // m = 8, max 64; masked-LM logits
      {"small-cls", {7, 16, 100, 255}},  // m = 16, max 256; classifier logits
  };
  const Isa original = nystrom::kernels().isa;
  // Under an emulator (the aarch64 runs) the levels whose f32 code differs,
  // less the scalar one (test::f32_gemm_levels()): these models are f32
  // with f32 attention, so neon_dot (neon's table with SDOT integer
  // micro-kernels only) would run neon's instructions again, and the scalar
  // level is portable C++ that the native, ASan and TSan suites run in full.
  // Emulated, the three levels took 81 s of CPU time, neon alone 27 s.
  const std::vector<const nystrom::KernelTable*> levels =
      test::under_emulator() ? test::f32_gemm_levels() : test::levels();
  for (const nystrom::KernelTable* level : levels) {
    const Isa isa = level->isa;
    IsaCap cap(isa);
    REQUIRE(nystrom::kernels().isa == isa);
    for (const DeterminismCase& dc : cases) {
      const std::shared_ptr<const nystrom::Model> model = reference_model(dc.model);
      for (AttentionMode mode : {AttentionMode::Nystrom, AttentionMode::Exact}) {
        // One session per thread count, re-planned from length to length.
        std::vector<std::unique_ptr<nystrom::Session>> sessions;
        for (int threads = 1; threads <= 4; ++threads) {
          nystrom::RunOptions opt;
          opt.attention = mode;
          opt.threads = threads;
          sessions.push_back(std::make_unique<nystrom::Session>(model, opt));
        }
        for (int n : dc.lengths) {
          const std::vector<int32_t> ids = random_ids(n, model->config().vocab_size, 7u * n + 1);
          const nystrom::Output base = sessions[0]->run(ids);
          REQUIRE(base.last_hidden_state.size() == (size_t)n * model->config().hidden_size);
          for (size_t s = 1; s < sessions.size(); ++s) {
            const nystrom::Output out = sessions[s]->run(ids);
            INFO(std::string(nystrom::isa_name(isa)) << " " << dc.model << " " << mode_name(mode)
                                                     << " n=" << n << " threads=" << s + 1 << " vs 1");
            CHECK(same_bits(out.last_hidden_state, base.last_hidden_state));
            CHECK(out.logits_shape == base.logits_shape);
            CHECK(same_bits(out.logits, base.logits));
          }
        }
      }
    }
  }
  CHECK(nystrom::kernels().isa == original);
}

TEST_CASE(
    "isa caps: every level this CPU runs reproduces the reference outputs of testdata/hf within SPEC tolerance") {
  const Isa original = nystrom::kernels().isa;
  for (const nystrom::KernelTable* level : test::levels()) {
    const Isa isa = level->isa;
    IsaCap cap(isa);
    REQUIRE(nystrom::kernels().isa == isa);
    for (const std::string& name : test::reference_cases()) {
      const std::string dir = test::testdata_dir() + "/" + name;
      const std::shared_ptr<const nystrom::Model> model = reference_model(name);
      const std::vector<int32_t> ids = test::reference_ids(name);
      nystrom::RunOptions opt;
      opt.threads = 2;
      nystrom::Session session(model, opt);
      const nystrom::Output out = session.run(ids);

      for (const char* output : {"last_hidden_state.npy", "logits.npy"}) {
        CAPTURE(output);
        const bool logits = std::string(output) == "logits.npy";
        const std::vector<float>& got = logits ? out.logits : out.last_hidden_state;
        if (!test::exists(dir + "/" + output)) {
          CHECK(got.empty());  // no head, no logits
          continue;
        }
        const std::vector<float> want = nystrom::read_npy_f32(dir + "/" + output);
        const test::Diff d = test::diff(got, want);
        INFO(std::string(nystrom::isa_name(isa)) << " " << name << ": max abs diff " << d.max_abs
                                                 << ", max |ref| " << d.max_ref);
        CHECK(got.size() == want.size());
        CHECK(test::within_spec(d));
      }
    }
  }
  CHECK(nystrom::kernels().isa == original);
}

TEST_CASE("determinism: a model packed at load on 1 or 3 threads runs bit-identically (f32 and q8_0)") {
  // OpenOptions::threads splits the repacking of weight matrices by matrix;
  // each matrix is packed by one thread into the same layout either way.
  test::TempDir tmp;
  for (auto type : {nystrom::format::DType::F32, nystrom::format::DType::Q8_0}) {
    nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(test::testdata_dir() + "/small-cls");
    nystrom::set_weight_type(ck, type, nullptr);
    nystrom::write_model_file(tmp / "m.nyf", ck.config, ck.tensors);
    const std::vector<int32_t> ids = random_ids(100, ck.config.vocab_size, 5);
    std::vector<nystrom::Output> outs;
    for (int threads : {1, 3}) {
      nystrom::OpenOptions open;
      open.threads = threads;
      nystrom::Session s(nystrom::Model::open(tmp / "m.nyf", open));
      outs.push_back(s.run(ids));
    }
    INFO(nystrom::format::dtype_name(type));
    CHECK(same_bits(outs[0].last_hidden_state, outs[1].last_hidden_state));
    CHECK(same_bits(outs[0].logits, outs[1].logits));
  }
}
