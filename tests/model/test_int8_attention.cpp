// The int8 variant of the Nystrom products (AttentionPrecision::Int8) stays
// close to f32 attention, and is really used when the head size allows it.
#include <doctest/doctest.h>

#include <cmath>

#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "support.h"

TEST_CASE("int8 Nystrom products agree with f32 ones within 8-bit noise (small-cls, head size 32)") {
  const auto model = test::reference_model("small-cls");
  const std::vector<int32_t> all = test::reference_ids("small-cls");
  for (size_t n : {all.size(), (size_t)100, (size_t)37}) {  // also lengths that are not multiples of 32
    CAPTURE(n);
    const std::vector<int32_t> ids(all.begin(), all.begin() + n);
    nystrom::RunOptions o;
    o.attention = nystrom::AttentionMode::Nystrom;
    nystrom::Output f32 = nystrom::Session(model, o).run(ids);
    o.attention_precision = nystrom::AttentionPrecision::Int8;
    nystrom::Output i8 = nystrom::Session(model, o).run(ids);
    const double cosine = test::cosine(f32.last_hidden_state, i8.last_hidden_state);
    INFO("cosine " << cosine);
    CHECK(cosine >= 0.99);
    CHECK(f32.last_hidden_state != i8.last_hidden_state);  // the int8 path ran
  }
}
