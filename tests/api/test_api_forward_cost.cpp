// nystrom::forward_cost: the plan it reports is the one Session::run follows
// (attention, landmarks), and its figures are the spec's arithmetic and
// buffer sizes for that plan.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "nystrom/convert.h"
#include "nystrom/nystrom.h"
#include "small_config.h"
#include "support.h"

namespace {

using nystrom::AttentionMode;
using nystrom::ForwardCost;
using nystrom::HeadType;
using nystrom::ModelConfig;
using nystrom::RunOptions;

ModelConfig cost_config(HeadType head = HeadType::None) {
  ModelConfig c = test::small_config(8, head);
  c.vocab_size = 40;
  c.intermediate_size = 24;
  c.max_positions = 48;
  c.num_landmarks = 4;
  c.segment_means_len = 48;
  return c;
}

RunOptions options(AttentionMode mode, uint32_t landmarks = 0, int threads = 1) {
  RunOptions o;
  o.attention = mode;
  o.landmarks = landmarks;
  o.threads = threads;
  return o;
}

}  // namespace

TEST_CASE("forward_cost: the attention it reports is the one a session runs, for every mode and length") {
  test::TempDir dir;
  const ModelConfig c = cost_config();
  nystrom::write_random_model(dir / "m.nyf", c);
  auto model = nystrom::Model::open(dir / "m.nyf");
  for (AttentionMode mode : {AttentionMode::Auto, AttentionMode::Nystrom, AttentionMode::Exact}) {
    for (uint32_t landmarks : {0u, 6u}) {
      const RunOptions o = options(mode, landmarks);
      nystrom::Session session(model, o);
      for (size_t n : {1, 4, 6, 7, 30, 48}) {
        CAPTURE((int)mode);
        CAPTURE(landmarks);
        CAPTURE(n);
        const ForwardCost cost = nystrom::forward_cost(c, n, o);
        const nystrom::Output out = session.run(test::random_ids(n, c.vocab_size, 3));
        CHECK(cost.exact_attention == out.exact_attention);
        CHECK(cost.landmarks == out.landmarks);
        CHECK_FALSE(cost.reason.empty());
      }
    }
  }
}

TEST_CASE("forward_cost: why auto runs what it runs, in words") {
  ModelConfig c = cost_config();
  CHECK(nystrom::forward_cost(c, 48, {}).reason ==
        "nystrom with 4 landmarks: auto follows the checkpoint, whose num_landmarks (4) differs from its "
        "segment_means_seq_len (48)");
  CHECK(nystrom::forward_cost(c, 3, {}).reason.find("exact: 3 tokens are no more than the 4 landmarks") == 0);
  c.segment_means_len = 4;  // as the published checkpoints say
  CHECK(nystrom::forward_cost(c, 48, {}).reason.find(
            "exact: auto follows the checkpoint, whose num_landmarks (4) equals its segment_means_seq_len (4)") == 0);
  CHECK(nystrom::forward_cost(c, 48, options(AttentionMode::Auto, 6)).reason ==
        "nystrom with 6 landmarks: a landmark count was given");
  CHECK(nystrom::forward_cost(c, 48, options(AttentionMode::Exact)).reason == "exact: asked for");
}

TEST_CASE("forward_cost: FLOPs and work memory follow the plan: quadratic for exact, linear for Nystrom") {
  const ModelConfig c = cost_config();
  const double D = 8, I = 24, H = 2, d = 4, L = 1;
  for (size_t n : {8, 48}) {
    CAPTURE(n);
    const double N = (double)n;
    const ForwardCost exact = nystrom::forward_cost(c, n, options(AttentionMode::Exact, 0, 1));
    CHECK(exact.flops == L * (2 * N * (4 * D * D + 2 * D * I) + H * 4 * N * N * d));
    // x, q, k, v, the FFN chunk's two buffers, the column sums, and one
    // thread's block of scores.
    CHECK(exact.work_bytes == 4 * (4 * N * D + N * D + N * I + H + std::min<size_t>(n, 256) * N));
    CHECK(exact.output_bytes == 4 * N * D);  // no head

    const double m = 4;
    const ForwardCost nys = nystrom::forward_cost(c, n, options(AttentionMode::Nystrom, 0, 1));
    REQUIRE_FALSE(nys.exact_attention);
    CHECK(nys.flops ==
          L * (2 * N * (4 * D * D + 2 * D * I) + H * (2 * m * m * d + 8 * N * m * d + 2 * N * m * m + 48 * m * m * m)));
    const double shared = 4 * N * D + N * D + N * I + 2 * H * m * d + H * m * m + H;
    const double per_thread = m * m + 3 * m * m + 2 * N * m + m * N + m * d;
    CHECK(nys.work_bytes == 4 * (shared + per_thread));
    // Two threads: the per-thread scratch twice.
    CHECK(nystrom::forward_cost(c, n, options(AttentionMode::Nystrom, 0, 2)).work_bytes ==
          4 * (shared + 2 * per_thread));
    // bf16 products: each thread also holds their operands as pairs, the
    // largest of the five products' (nystrom::bf16_scratch_size on the level
    // in use: MR-row tiles of A, NR-column panels of B, one panel's rows).
    RunOptions bf16 = options(AttentionMode::Nystrom, 0, 2);
    bf16.attention_precision = nystrom::AttentionPrecision::BF16;
    const nystrom::KernelTable& t = nystrom::kernels();
    auto up = [](double x, int r) { return std::ceil(x / r) * r; };
    const double MR = t.bf16.mr, NR = t.bf16.nr;
    const double a = std::max({up(m, MR) * d / 2, up(m, MR) * N / 2, up(N, MR) * d / 2, up(N, MR) * m / 2});
    const double b = std::max({d / 2 * up(N, NR), N / 2 * up(d, NR), d / 2 * up(m, NR), m / 2 * up(m, NR),
                               m / 2 * up(d, NR)});
    const double rows = NR * d / 2;
    CHECK(nystrom::forward_cost(c, n, bf16).work_bytes == 4 * (shared + 2 * per_thread) + 2 * 4 * (a + b + rows));
  }
}

TEST_CASE("forward_cost: a head's logits count as the outputs ask") {
  ModelConfig c = cost_config(HeadType::MaskedLM);
  const ForwardCost all = nystrom::forward_cost(c, 10, options(AttentionMode::Exact));
  RunOptions two = options(AttentionMode::Exact);
  two.outputs.positions = {1, 3};
  const ForwardCost masks = nystrom::forward_cost(c, 10, two);
  CHECK(all.output_bytes == 4 * (10 * 8 + 10 * 40));
  CHECK(masks.output_bytes == 4 * (10 * 8 + 2 * 40));
  CHECK(all.flops - masks.flops == 8 * 2.0 * 8 * (8 + 40));  // 8 rows fewer through transform and decoder
  RunOptions hidden = options(AttentionMode::Exact);
  hidden.outputs.logits = false;
  CHECK(nystrom::forward_cost(c, 10, hidden).output_bytes == 4 * 10 * 8);
}

TEST_CASE("forward_cost: a length the model does not accept, or bad options, are errors with their codes") {
  const ModelConfig c = cost_config();
  auto code = [&](size_t n, const RunOptions& o) {
    try {
      nystrom::forward_cost(c, n, o);
    } catch (const nystrom::Error& e) {
      return e.code();
    }
    return nystrom::ErrorCode::Internal;
  };
  CHECK(code(0, {}) == nystrom::ErrorCode::Input);
  CHECK(code(49, {}) == nystrom::ErrorCode::Input);
  CHECK(code(8, options(AttentionMode::Auto, nystrom::kMaxLandmarks + 1)) == nystrom::ErrorCode::InvalidArgument);
  CHECK(code(8, options(AttentionMode::Auto, 0, -1)) == nystrom::ErrorCode::InvalidArgument);
}
