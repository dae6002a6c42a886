// Session::set_profiling and Session::profile (include/nystrom/nystrom.h):
// the public per-step timings nystrom-bench splits a layer with.
#include <doctest/doctest.h>

#include <vector>

#include "nystrom/convert.h"
#include "nystrom/nystrom.h"
#include "small_config.h"
#include "support.h"

namespace {

double sum(const nystrom::LayerProfile& p) { return p.projections + p.attention + p.ffn + p.norms; }

// A model big enough that every step takes measurable time.
std::shared_ptr<const nystrom::Model> profiling_model(const test::TempDir& dir) {
  nystrom::ModelConfig c = test::small_config(64);
  c.num_layers = 2;
  c.max_positions = 256;
  c.num_landmarks = 8;
  c.segment_means_len = 1;  // Nystrom attention
  nystrom::write_random_model(dir / "m.nyf", c, 3);
  return nystrom::Model::open(dir / "m.nyf");
}

}  // namespace

TEST_CASE("profiling: off by default, on it times each step, and a second run adds to the first") {
  test::TempDir dir;
  auto model = profiling_model(dir);
  nystrom::RunOptions o;
  o.threads = 1;
  nystrom::Session s(model, o);
  const std::vector<int32_t> ids = test::random_ids(200, model->config().vocab_size, 1);
  s.run(ids);
  CHECK(sum(s.profile()) == 0);

  s.set_profiling(true);
  CHECK(sum(s.profile()) == 0);
  s.run(ids);
  const nystrom::LayerProfile one = s.profile();
  CHECK(one.projections > 0);
  CHECK(one.attention > 0);
  CHECK(one.ffn > 0);
  CHECK(one.norms > 0);
  s.run(ids);
  const nystrom::LayerProfile two = s.profile();
  CHECK(two.projections > one.projections);
  CHECK(two.attention > one.attention);
  CHECK(two.ffn > one.ffn);
  CHECK(two.norms > one.norms);

  // Off keeps the figures and adds nothing; on again starts from zero.
  s.set_profiling(false);
  CHECK(sum(s.profile()) == sum(two));
  s.run(ids);
  CHECK(sum(s.profile()) == sum(two));
  s.set_profiling(true);
  CHECK(sum(s.profile()) == 0);
}

TEST_CASE("profiling: the outputs are bit for bit the same with it on or off") {
  test::TempDir dir;
  auto model = profiling_model(dir);
  nystrom::Session plain(model), timed(model);
  timed.set_profiling(true);
  const std::vector<int32_t> ids = test::random_ids(150, model->config().vocab_size, 2);
  CHECK(test::same_bits(plain.run(ids).last_hidden_state, timed.run(ids).last_hidden_state));
  CHECK(sum(timed.profile()) > 0);
}
