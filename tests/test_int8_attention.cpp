// The int8 variant of the Nystrom products (AttentionPrecision::Int8) stays
// close to f32 attention, and is really used when the head size allows it.
#include <doctest/doctest.h>

#include <cmath>

#include "convert/hf_checkpoint.h"
#include "format/npy.h"
#include "nystrom/nystrom.h"
#include "support.h"

TEST_CASE("int8 Nystrom products agree with f32 ones within 8-bit noise (small-cls, head size 32)") {
  const std::string dir = test::testdata_dir() + "/small-cls";
  test::TempDir tmp;
  nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(dir);
  nystrom::write_model_file(tmp / "m.nyf", ck.config, ck.tensors);
  auto model = nystrom::Model::open(tmp / "m.nyf");
  std::vector<int64_t> ids64 = nystrom::read_npy_ids(dir + "/input_ids.npy");
  for (size_t n : {ids64.size(), (size_t)100, (size_t)37}) {  // also lengths that are not multiples of 32
    CAPTURE(n);
    std::vector<int32_t> ids(ids64.begin(), ids64.begin() + n);
    nystrom::RunOptions o;
    o.attention = nystrom::AttentionMode::Nystrom;
    nystrom::Output f32 = nystrom::Session(model, o).run(ids);
    o.attention_precision = nystrom::AttentionPrecision::Int8;
    nystrom::Output i8 = nystrom::Session(model, o).run(ids);
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < f32.last_hidden_state.size(); ++i) {
      const double a = f32.last_hidden_state[i], b = i8.last_hidden_state[i];
      ab += a * b, aa += a * a, bb += b * b;
    }
    const double cosine = ab / std::sqrt(aa * bb);
    INFO("cosine " << cosine);
    CHECK(cosine >= 0.99);
    CHECK(f32.last_hidden_state != i8.last_hidden_state);  // the int8 path ran
  }
}
