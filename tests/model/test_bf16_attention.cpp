// The bf16 variant of the Nystrom products (AttentionPrecision::BF16) stays
// close to f32 attention, really runs, gives the same bits for every thread
// count, and leaves exact attention alone.
#include <doctest/doctest.h>

#include <cmath>

#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "support.h"

namespace {

nystrom::Output run(const std::shared_ptr<const nystrom::Model>& model, const std::vector<int32_t>& ids,
                    nystrom::AttentionMode mode, nystrom::AttentionPrecision precision, int threads) {
  nystrom::RunOptions o;
  o.attention = mode;
  o.attention_precision = precision;
  o.threads = threads;
  return nystrom::Session(model, o).run(ids);
}

}  // namespace

TEST_CASE("bf16 Nystrom products agree with f32 ones within bf16 rounding (cosine >= 0.999), and really run") {
  int compared = 0;
  for (const char* name : {"small-cls", "tiny-mlm"}) {
    const auto model = test::reference_model(name);
    const std::vector<int32_t> all = test::reference_ids(name);
    for (size_t n : {all.size(), (size_t)100, (size_t)37}) {  // also lengths off every tile
      if (n > all.size()) continue;
      CAPTURE(std::string(name));
      CAPTURE(n);
      const std::vector<int32_t> ids(all.begin(), all.begin() + n);
      const auto f32 = run(model, ids, nystrom::AttentionMode::Nystrom, nystrom::AttentionPrecision::F32, 1);
      const auto bf16 = run(model, ids, nystrom::AttentionMode::Nystrom, nystrom::AttentionPrecision::BF16, 1);
      if (f32.exact_attention) continue;  // too short for Nystrom: nothing to compare
      ++compared;
      const double cosine = test::cosine(f32.last_hidden_state, bf16.last_hidden_state);
      INFO("cosine " << cosine);
      CHECK(cosine >= 0.999);
      CHECK(f32.last_hidden_state != bf16.last_hidden_state);  // the bf16 path ran
      // Every thread count: the same bits (heads run whole on one thread).
      const auto bf16_3 = run(model, ids, nystrom::AttentionMode::Nystrom, nystrom::AttentionPrecision::BF16, 3);
      CHECK(test::same_bits(bf16.last_hidden_state, bf16_3.last_hidden_state));
    }
  }
  CHECK(compared >= 4);
}

TEST_CASE("bf16 precision leaves exact attention in f32") {
  const auto model = test::reference_model("small-cls");
  const std::vector<int32_t> ids = test::reference_ids("small-cls");
  const auto f32 = run(model, ids, nystrom::AttentionMode::Exact, nystrom::AttentionPrecision::F32, 1);
  const auto bf16 = run(model, ids, nystrom::AttentionMode::Exact, nystrom::AttentionPrecision::BF16, 1);
  CHECK(test::same_bits(f32.last_hidden_state, bf16.last_hidden_state));
}
