// Session::run_batch packs short sequences into shared passes (every step
// but attention is row by row): each sequence's outputs are bit for bit
// those of running it alone, whatever its neighbours, the attention, the
// weight type and the thread count.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "model/forward.h"
#include "nystrom/convert.h"
#include "nystrom/nystrom.h"
#include "small_config.h"
#include "support.h"

using nystrom::AttentionMode;
using nystrom::format::DType;
using nystrom::format::dtype_name;
using nystrom::Output;

namespace {

bool same_output(const Output& a, const Output& b) {
  return a.n == b.n && a.hidden == b.hidden && a.exact_attention == b.exact_attention &&
         a.landmarks == b.landmarks && a.logits_shape == b.logits_shape && a.logit_positions == b.logit_positions &&
         test::same_bits(a.last_hidden_state, b.last_hidden_state) && test::same_bits(a.logits, b.logits);
}

// Two layers, head size 32 (so the 8-bit attention products run too), 16
// landmarks: sequences of up to 16 tokens are attended exactly, longer ones
// with Nystrom attention under auto.
nystrom::ModelConfig batch_config(nystrom::HeadType head) {
  nystrom::ModelConfig c = test::small_config(64, head);
  c.num_layers = 2;
  c.intermediate_size = 128;
  c.vocab_size = 50;
  c.max_positions = 256;
  c.num_landmarks = 16;
  c.segment_means_len = 1;
  return c;
}

std::shared_ptr<const nystrom::Model> batch_model(const test::TempDir& dir, nystrom::HeadType head, DType type) {
  const std::string path = dir / (std::string("m-") + std::to_string((int)head) + "-" + dtype_name(type) + ".nyf");
  nystrom::write_random_model(path, batch_config(head), 9, type);
  return nystrom::Model::open(path);
}

std::vector<std::vector<int32_t>> batch_of(const std::vector<size_t>& lengths, uint32_t vocab) {
  std::vector<std::vector<int32_t>> batch;
  for (size_t i = 0; i < lengths.size(); ++i) batch.push_back(test::random_ids(lengths[i], vocab, 100 + (uint32_t)i));
  return batch;
}

}  // namespace

TEST_CASE("batch packing: each sequence of a packed pass is bit for bit its run alone") {
  test::TempDir dir;
  const std::vector<size_t> lengths = {1, 7, 32, 33, 200, 7};
  for (nystrom::HeadType head : {nystrom::HeadType::None, nystrom::HeadType::MaskedLM, nystrom::HeadType::Classifier})
    for (DType type : {DType::F32, DType::Q8_0}) {
      CAPTURE((int)head);
      CAPTURE(dtype_name(type));
      const auto model = batch_model(dir, head, type);
      const auto batch = batch_of(lengths, model->config().vocab_size);
      for (AttentionMode mode : {AttentionMode::Auto, AttentionMode::Exact})
        for (auto precision :
             {nystrom::AttentionPrecision::F32, nystrom::AttentionPrecision::Int8, nystrom::AttentionPrecision::BF16})
          for (int threads : {1, 2}) {
            if (mode == AttentionMode::Exact && precision != nystrom::AttentionPrecision::F32) continue;
            CAPTURE((int)mode);
            CAPTURE((int)precision);
            CAPTURE(threads);
            nystrom::RunOptions o;
            o.attention = mode;
            o.attention_precision = precision;
            o.threads = threads;
            nystrom::Session packed(model, o), alone(model, o);
            const std::vector<Output> outs = packed.run_batch(batch);
            REQUIRE(outs.size() == batch.size());
            for (size_t i = 0; i < batch.size(); ++i) {
              CAPTURE(i);
              const Output want = alone.run(batch[i]);
              CHECK(want.exact_attention == (mode == AttentionMode::Exact || batch[i].size() <= 16));
              CHECK(same_output(outs[i], want));
            }
          }
    }
}

TEST_CASE("batch packing: a batch larger than one pass is split between passes, in order") {
  test::TempDir dir;
  const auto model = batch_model(dir, nystrom::HeadType::MaskedLM, DType::Q8_0);
  // 40 sequences of 33 tokens and a long one in the middle: several passes.
  std::vector<size_t> lengths(40, 33);
  lengths[17] = 256;
  REQUIRE(33 * 40 > nystrom::kBatchRows);
  const auto batch = batch_of(lengths, model->config().vocab_size);
  nystrom::RunOptions o;
  o.threads = 2;
  o.outputs.positions = {0, 5};  // chosen logits rows, as fill-mask asks
  nystrom::Session packed(model, o), alone(model, o);
  const std::vector<Output> outs = packed.run_batch(batch);
  REQUIRE(outs.size() == batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    CAPTURE(i);
    CHECK(same_output(outs[i], alone.run(batch[i])));
  }
  // The session then runs a single sequence as before.
  CHECK(same_output(packed.run(batch[3]), alone.run(batch[3])));
}

TEST_CASE("batch packing: errors name the sequence, and an empty batch is an error") {
  test::TempDir dir;
  const auto model = batch_model(dir, nystrom::HeadType::MaskedLM, DType::F32);
  nystrom::Session session(model);
  CHECK_THROWS_WITH_AS(session.run_batch({}), "the batch holds no sequences", nystrom::Error);
  std::vector<std::vector<int32_t>> batch = batch_of({3, 5, 257, 4}, 50);
  CHECK_THROWS_WITH_AS(session.run_batch(batch),
                       "batch sequence 2: input has 257 tokens but the model accepts at most 256",
                       nystrom::Error);
  nystrom::RunOptions o;
  o.outputs.positions = {4};
  nystrom::Session chosen(model, o);
  batch[2].resize(5);
  CHECK_THROWS_WITH_AS(chosen.run_batch(batch),
                       "batch sequence 0: logits asked for position 4 of an input of 3 tokens",
                       nystrom::Error);
}

TEST_CASE("memory: the planned working set of a 64k-token pass of the base model stays under 900 MB") {
  // The base model: 12 layers of width 768, 12 heads, 64 landmarks.
  nystrom::ModelConfig c = test::small_config(768);
  c.num_heads = 12;
  c.intermediate_size = 3072;
  c.max_positions = 65536;
  nystrom::AttentionPlan nystrom_plan;
  nystrom_plan.exact = false;
  nystrom_plan.landmarks = 64;
  const size_t bytes = nystrom::Workspace::planned_bytes(c, {nystrom::SequenceSpan{0, 65536, nystrom_plan}}, 2);
  // The floor is the hidden state and Q, K, V: 4 x 65536 x 768 floats.
  const size_t floor = 4ull * 65536 * 768 * sizeof(float);
  CHECK(bytes >= floor);
  // With the weights (~90 MB in q8_0) and the runtime, under 1 GB.
  CHECK(bytes <= 900ull * 1000 * 1000);
  // Nothing else grows with n as a whole [n x something] buffer: the rest is
  // the per-thread [landmarks x n] of B and fixed-size blocks.
  CHECK(bytes - floor <= 2 * (64ull * 65536 * sizeof(float)) + 24ull * 1000 * 1000);
}
