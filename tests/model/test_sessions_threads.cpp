// Sessions as applications use them: several sessions on their own threads
// sharing one Model give exactly the outputs of running the same inputs one
// after another; a batch is its sequences run one by one (SPEC section 2,
// "Batches"); pooled embeddings are row 0 or the mean of the rows.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "support.h"

using nystrom::AttentionMode;
using nystrom::Output;
using nystrom::RunOptions;

namespace {

using test::random_ids;

// Options by field name (RunOptions may grow fields in any place).
RunOptions options_of(AttentionMode attention, uint32_t landmarks, int threads,
                      nystrom::AttentionPrecision precision = nystrom::AttentionPrecision::F32) {
  RunOptions o;
  o.attention = attention;
  o.landmarks = landmarks;
  o.threads = threads;
  o.attention_precision = precision;
  return o;
}

using test::same_bits;

bool same_output(const Output& a, const Output& b) {
  return a.n == b.n && a.hidden == b.hidden && a.exact_attention == b.exact_attention &&
         a.landmarks == b.landmarks && a.logits_shape == b.logits_shape &&
         same_bits(a.last_hidden_state, b.last_hidden_state) && same_bits(a.logits, b.logits);
}

// Inputs of lengths below, at and above the landmark count, up to the
// longest the model takes.
std::vector<std::vector<int32_t>> inputs_for(const nystrom::ModelConfig& c, uint32_t seed) {
  std::vector<std::vector<int32_t>> inputs;
  for (size_t n : {(size_t)1, (size_t)4, (size_t)c.num_landmarks, (size_t)c.num_landmarks + 3,
                   (size_t)c.max_positions / 2 + 1, (size_t)c.max_positions})
    if (n <= c.max_positions) inputs.push_back(random_ids(n, c.vocab_size, seed + (uint32_t)n));
  return inputs;
}

}  // namespace

TEST_CASE("sessions: four sessions on threads sharing one model match sequential runs bit for bit") {
  // One round emulated: qemu runs the guest's threads on the host's two
  // cores, so more rounds add interleavings of the same code there at
  // ~10 s each (the order still changes the lengths from run to run).
  constexpr int kSessions = 5;
  const int kRounds = test::under_emulator() ? 1 : 3;
  for (const char* name : {"small-cls", "tiny-mlm"}) {
    CAPTURE(std::string(name));
    const auto model = test::reference_model(name);
    const nystrom::ModelConfig& c = model->config();
    // Each session its own options and thread count, inputs and order.
    const RunOptions options[kSessions] = {options_of(AttentionMode::Auto, 0, 1),
                                           options_of(AttentionMode::Nystrom, 4, 2),
                                           options_of(AttentionMode::Exact, 0, 3),
                                           options_of(AttentionMode::Nystrom, 0, 2, nystrom::AttentionPrecision::Int8),
                                           options_of(AttentionMode::Nystrom, 0, 3, nystrom::AttentionPrecision::BF16)};
    std::vector<std::vector<std::vector<int32_t>>> inputs;
    for (int s = 0; s < kSessions; ++s) inputs.push_back(inputs_for(c, 1000 * (uint32_t)s));

    // Sequential, single-threaded references.
    std::vector<std::vector<Output>> want(kSessions);
    for (int s = 0; s < kSessions; ++s) {
      RunOptions one = options[s];
      one.threads = 1;
      nystrom::Session session(model, one);
      for (const auto& ids : inputs[s]) want[s].push_back(session.run(ids));
    }

    // All at once, each session on its own std::thread, several rounds, in
    // an order of its own (so lengths change between runs).
    std::vector<std::vector<Output>> got(kSessions);
    std::vector<std::string> errors(kSessions);
    std::vector<std::thread> threads;
    for (int s = 0; s < kSessions; ++s) {
      threads.emplace_back([&, s] {
        try {
          nystrom::Session session(model, options[s]);
          const size_t count = inputs[s].size();
          got[s].resize(count * kRounds);
          for (int round = 0; round < kRounds; ++round)
            for (size_t k = 0; k < count; ++k) {
              size_t i = (k + s + round) % count;   // rotated,
              if ((s + round) % 2) i = count - 1 - i;  // and backwards every other time
              session.run(inputs[s][i].data(), inputs[s][i].size(), got[s][round * count + i]);
            }
        } catch (const std::exception& e) {
          errors[s] = e.what();
        }
      });
    }
    for (std::thread& t : threads) t.join();

    for (int s = 0; s < kSessions; ++s) {
      CAPTURE(s);
      REQUIRE(errors[s] == "");
      const size_t count = inputs[s].size();
      for (size_t j = 0; j < got[s].size(); ++j) {
        CAPTURE(j);
        CHECK(same_output(got[s][j], want[s][j % count]));
      }
    }
  }
}

TEST_CASE("sessions: run_batch gives each sequence exactly what run gives it alone") {
  for (const std::string& name : test::reference_cases()) {
    CAPTURE(name);
    const auto model = test::reference_model(name);
    const nystrom::ModelConfig& c = model->config();
    for (const RunOptions& o : {options_of(AttentionMode::Auto, 0, 0), options_of(AttentionMode::Nystrom, 4, 3)}) {
      CAPTURE(o.landmarks);
      nystrom::Session batch_session(model, o);
      std::vector<std::vector<int32_t>> batch = inputs_for(c, 77);
      batch.push_back(batch[1]);  // a repeat, and lengths that go down as well as up
      batch.push_back(random_ids(3, c.vocab_size, 5));

      const std::vector<Output> outs = batch_session.run_batch(batch);
      REQUIRE(outs.size() == batch.size());
      nystrom::Session alone(model, o);
      for (size_t i = 0; i < batch.size(); ++i) {
        CAPTURE(i);
        CHECK(outs[i].n == batch[i].size());
        CHECK(same_output(outs[i], alone.run(batch[i])));
        // and in a fresh session, so no state carries over between sequences
        CHECK(same_output(outs[i], nystrom::Session(model, o).run(batch[i])));
      }
    }
  }
}

TEST_CASE("sessions: run_batch names the invalid sequence and returns nothing") {
  const auto model = test::reference_model("small-cls");
  nystrom::Session session(model);
  std::vector<std::vector<int32_t>> batch = {{0, 5, 2}, {0, 6, 2}, {0, 1000, 2}};
  CHECK_THROWS_WITH_AS(session.run_batch(batch),
                       "batch sequence 2: token id 1000 at position 1 is outside the vocabulary (0..999)",
                       nystrom::Error);
  batch[2] = {};
  CHECK_THROWS_WITH_AS(session.run_batch(batch), "batch sequence 2: input is empty", nystrom::Error);
  batch[2] = std::vector<int32_t>(model->config().max_positions + 1, 7);
  CHECK_THROWS_AS(session.run_batch(batch), nystrom::Error);
  // The session still works afterwards.
  CHECK(session.run(batch[0]).n == 3);
}

TEST_CASE("sessions: pool_embedding takes row 0 or the mean of the rows") {
  const auto model = test::reference_model("small-cls");
  nystrom::Session session(model);
  const Output out = session.run(random_ids(37, 1000, 3));
  const size_t D = out.hidden;
  REQUIRE(D == 128);

  const std::vector<float> first = nystrom::pool_embedding(out, nystrom::Pooling::First);
  CHECK(same_bits(first, std::vector<float>(out.last_hidden_state.begin(), out.last_hidden_state.begin() + D)));

  const std::vector<float> mean = nystrom::pool_embedding(out, nystrom::Pooling::Mean);
  REQUIRE(mean.size() == D);
  for (size_t j = 0; j < D; ++j) {
    double sum = 0;
    for (size_t r = 0; r < out.n; ++r) sum += out.last_hidden_state[r * D + j];
    CHECK(mean[j] == (float)(sum / (double)out.n));
  }

  // A hand-made output: the mean of rows {1, 2, 3} and {3, 6, 9} is {2, 4, 6}.
  Output two;
  two.n = 2;
  two.hidden = 3;
  two.last_hidden_state = {1, 2, 3, 3, 6, 9};
  CHECK(nystrom::pool_embedding(two, nystrom::Pooling::Mean) == std::vector<float>{2, 4, 6});
  CHECK(nystrom::pool_embedding(two, nystrom::Pooling::First) == std::vector<float>{1, 2, 3});
  // One row: both poolings are that row.
  two.n = 1;
  two.last_hidden_state.resize(3);
  CHECK(nystrom::pool_embedding(two, nystrom::Pooling::Mean) == std::vector<float>{1, 2, 3});

  CHECK_THROWS_AS(nystrom::pool_embedding(Output(), nystrom::Pooling::Mean), nystrom::Error);
  Output inconsistent = two;
  inconsistent.n = 5;  // more rows than it holds
  CHECK_THROWS_AS(nystrom::pool_embedding(inconsistent, nystrom::Pooling::First), nystrom::Error);
}
