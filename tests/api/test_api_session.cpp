// The C++ API's sessions and errors: Error codes, moving a Session, choosing
// the outputs, the progress callback, the shared thread pools and version().
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/nystrom.h"
#include "nystrom/nystrom_c.h"
#include "reference_models.h"
#include "support.h"

namespace {

using nystrom::ErrorCode;
using test::random_ids;
using test::reference_model;
using test::same_bits;

// The code of the nystrom::Error that f throws; fails the test if it throws
// none.
template <typename F>
ErrorCode code_of(F&& f) {
  try {
    f();
  } catch (const nystrom::Error& e) {
    return e.code();
  }
  FAIL("no nystrom::Error thrown");
  return ErrorCode::Internal;
}

// One row of a logits matrix.
std::vector<float> row_of(const nystrom::Output& out, size_t row) {
  const size_t V = out.logits_shape.at(1);
  return std::vector<float>(out.logits.begin() + row * V, out.logits.begin() + (row + 1) * V);
}

}  // namespace

TEST_CASE("api: Error codes are the C statuses and say what kind of failure it was") {
  CHECK((int)ErrorCode::InvalidArgument == NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK((int)ErrorCode::Cancelled == NYSTROM_ERROR_CANCELLED);
  CHECK((int)ErrorCode::Internal == NYSTROM_ERROR_INTERNAL);
  CHECK(nystrom::Error("x").code() == ErrorCode::Internal);
  CHECK(nystrom::Error(std::string("y"), ErrorCode::Io).code() == ErrorCode::Io);

  test::TempDir tmp;
  CHECK(code_of([&] { nystrom::Model::open(tmp / "missing.nyf"); }) == ErrorCode::Io);
  CHECK(code_of([&] { nystrom::Model::open(tmp.path); }) == ErrorCode::Io);  // a folder
  test::write_file(tmp / "junk.nyf", std::string(300, 'x'));
  CHECK(code_of([&] { nystrom::Model::open(tmp / "junk.nyf"); }) == ErrorCode::Format);

  auto model = reference_model("tiny-mlm");
  nystrom::RunOptions bad;
  bad.threads = -1;
  CHECK(code_of([&] { nystrom::Session(model, bad); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { nystrom::Session(nullptr); }) == ErrorCode::InvalidArgument);
  nystrom::Session s(model);
  CHECK(code_of([&] { s.run(std::vector<int32_t>{}); }) == ErrorCode::Input);
  CHECK(code_of([&] { s.run(std::vector<int32_t>{0, 512, 2}); }) == ErrorCode::Input);
  CHECK(code_of([&] { s.run(std::vector<int32_t>(65, 5)); }) == ErrorCode::Input);
  CHECK(code_of([&] { s.run_batch({{0, 5, 2}, {}}); }) == ErrorCode::Input);
  CHECK(code_of([&] { nystrom::pool_embedding(nystrom::Output{}, nystrom::Pooling::Mean); }) ==
        ErrorCode::InvalidArgument);
}

TEST_CASE("api: a moved Session runs as the original would; a moved-from one refuses with InvalidArgument") {
  auto model = reference_model("small-cls");
  const std::vector<int32_t> ids = random_ids(40, 1000, 3);
  nystrom::RunOptions o;
  o.threads = 2;
  nystrom::Session original(model, o);
  const nystrom::Output want = original.run(ids);

  nystrom::Session moved(std::move(original));
  CHECK(moved.options().threads == 2);
  const nystrom::Output got = moved.run(ids);
  CHECK(same_bits(got.last_hidden_state, want.last_hidden_state));
  CHECK(same_bits(got.logits, want.logits));
  CHECK(code_of([&] { original.run(ids); }) == ErrorCode::InvalidArgument);
  CHECK_ERROR(original.run(ids), "moved from");
  CHECK(code_of([&] { original.run_batch({ids}); }) == ErrorCode::InvalidArgument);

  // Assigning a live session to the moved-from one makes it usable again;
  // the session moved out of is then the empty one.
  original = std::move(moved);
  CHECK(same_bits(original.run(ids).last_hidden_state, want.last_hidden_state));
  CHECK(code_of([&] { moved.run(ids); }) == ErrorCode::InvalidArgument);

  std::vector<nystrom::Session> sessions;  // movable: fits in a vector
  for (int i = 0; i < 3; ++i) sessions.emplace_back(model);
  for (nystrom::Session& s : sessions) CHECK(same_bits(s.run(ids).logits, want.logits));
}

TEST_CASE("api: OutputSelection skips the head, or computes the chosen masked-LM rows bit for bit") {
  test::TempDir tmp;
  for (auto type : {nystrom::format::DType::F32, nystrom::format::DType::Q8_0, nystrom::format::DType::Q4_0}) {
    CAPTURE(nystrom::format::dtype_name(type));
    nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(test::testdata_dir() + "/tiny-mlm");
    nystrom::set_weight_type(ck, type, nullptr);
    nystrom::write_model_file(tmp / "m.nyf", ck.config, ck.tensors);
    auto model = nystrom::Model::open(tmp / "m.nyf");
    const std::vector<int32_t> ids = random_ids(37, 512, 11);
    for (int threads : {1, 3}) {
      CAPTURE(threads);
      nystrom::RunOptions o;
      o.threads = threads;
      nystrom::Session full(model, o);
      const nystrom::Output all = full.run(ids);
      REQUIRE(all.logits_shape == std::vector<size_t>{37, 512});
      REQUIRE(all.logit_positions.size() == 37);
      CHECK(all.logit_positions[36] == 36);

      nystrom::OutputSelection hidden_only;
      hidden_only.logits = false;
      const nystrom::Output h = full.run(ids, hidden_only);
      CHECK(same_bits(h.last_hidden_state, all.last_hidden_state));
      CHECK(h.logits.empty());
      CHECK(h.logits_shape.empty());
      CHECK(h.logit_positions.empty());

      // Out of order, repeated, first and last: each row as the full run's.
      nystrom::OutputSelection some;
      some.positions = {36, 0, 17, 17, 5};
      const nystrom::Output p = full.run(ids, some);
      CHECK(same_bits(p.last_hidden_state, all.last_hidden_state));
      REQUIRE(p.logits_shape == std::vector<size_t>{5, 512});
      CHECK(p.logit_positions == some.positions);
      for (size_t r = 0; r < some.positions.size(); ++r) {
        CAPTURE(r);
        CHECK(same_bits(row_of(p, r), row_of(all, some.positions[r])));
      }

      // As the session's default, through RunOptions.
      nystrom::RunOptions ho = o;
      ho.outputs.logits = false;
      nystrom::Session embedder(model, ho);
      nystrom::Output e = embedder.run(ids);
      CHECK(same_bits(e.last_hidden_state, all.last_hidden_state));
      CHECK(e.logits.empty());
      embedder.run(ids.data(), ids.size(), some, e);  // the per-call choice wins
      CHECK(e.logits_shape == std::vector<size_t>{5, 512});
    }
  }
  nystrom::Session s(reference_model("tiny-mlm"));
  nystrom::OutputSelection past;
  past.positions = {3};
  CHECK(code_of([&] { s.run(std::vector<int32_t>{0, 5, 2}, past); }) == ErrorCode::Input);
  CHECK_ERROR(s.run(std::vector<int32_t>{0, 5, 2}, past), "position 3");

  // A classifier: logits = false leaves out its class logits; positions do
  // not apply to it.
  nystrom::Session cls(reference_model("small-cls"));
  const std::vector<int32_t> ids = random_ids(20, 1000, 4);
  nystrom::OutputSelection none;
  none.logits = false;
  CHECK(cls.run(ids, none).logits.empty());
  CHECK(same_bits(cls.run(ids, past).logits, cls.run(ids).logits));
}

TEST_CASE("api: the progress callback sees every layer in order and can cancel the run") {
  auto model = reference_model("small-cls");
  const int layers = (int)model->config().num_layers;
  REQUIRE(layers >= 2);
  const std::vector<int32_t> ids = random_ids(30, 1000, 8);
  const nystrom::Output want = nystrom::Session(model).run(ids);

  std::vector<std::pair<int, int>> seen;
  nystrom::RunOptions o;
  o.progress = [&](int layer, int of) {
    seen.emplace_back(layer, of);
    return true;
  };
  nystrom::Session s(model, o);
  CHECK(same_bits(s.run(ids).logits, want.logits));
  REQUIRE(seen.size() == (size_t)layers);
  for (int l = 0; l < layers; ++l) CHECK(seen[l] == std::make_pair(l + 1, layers));

  int calls = 0;
  o.progress = [&](int layer, int) {
    ++calls;
    return layer < 1;  // stop after the first layer
  };
  nystrom::Session stopped(model, o);
  try {
    stopped.run(ids);
    FAIL("the run was not cancelled");
  } catch (const nystrom::Error& e) {
    CHECK(e.code() == ErrorCode::Cancelled);
    CHECK_CONTAINS(std::string(e.what()), "cancelled after layer 1 of " + std::to_string(layers));
  }
  CHECK(calls == 1);
  // A cancelled run leaves nothing behind: the next run is the full one.
  o.progress = nullptr;
  nystrom::Session again(model, o);
  CHECK(same_bits(again.run(ids).logits, want.logits));
  // A batch stops at the cancelled sequence, with its code.
  o.progress = [](int, int) { return false; };
  nystrom::Session batch(model, o);
  CHECK(code_of([&] { batch.run_batch({ids, ids}); }) == ErrorCode::Cancelled);
}

TEST_CASE("api: sessions running at once on shared thread pools give the one-thread results bit for bit") {
  auto model = reference_model("small-cls");
  constexpr int kSessions = 4;
  std::vector<std::vector<int32_t>> inputs;
  for (int t = 0; t < kSessions; ++t) inputs.push_back(random_ids(50 + 37 * t, 1000, 20 + t));
  std::vector<nystrom::Output> want;
  {
    nystrom::RunOptions one;
    one.threads = 1;
    nystrom::Session s(model, one);
    for (const auto& ids : inputs) want.push_back(s.run(ids));
  }
  // Two sessions per pool size (2 and 3 threads): each pair shares a pool
  // and takes turns on it while the other pair runs on its own pool.
  std::vector<int> failures(kSessions, 0);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kSessions; ++t) {
    threads.emplace_back([&, t] {
      nystrom::RunOptions o;
      o.threads = 2 + t % 2;
      nystrom::Session s(model, o);
      ++ready;
      while (ready.load() < kSessions) std::this_thread::yield();
      for (int round = 0; round < 5; ++round) {
        const nystrom::Output out = s.run(inputs[t]);
        if (!same_bits(out.last_hidden_state, want[t].last_hidden_state) || !same_bits(out.logits, want[t].logits))
          ++failures[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kSessions; ++t) {
    CAPTURE(t);
    CHECK(failures[t] == 0);
  }
}

TEST_CASE("api: version() is X.Y.Z, the C API's, and what every tool's --version prints") {
  const std::string v = nystrom::version();
  CHECK(v == nystrom_version());
  int a = -1, b = -1, c = -1;
  char end = 0;
  CHECK(std::sscanf(v.c_str(), "%d.%d.%d%c", &a, &b, &c, &end) == 3);
  CHECK(a >= 0);
  for (const char* name : {"nystrom", "nystrom-convert", "nystrom-bench"}) {
    CAPTURE(name);
    const test::RunResult r = test::run(test::tool(name) + " --version");
    CHECK(r.exit_code == 0);
    CHECK(r.out == std::string(name) + " " + v + "\n");
    CHECK(r.err.empty());
  }
}
