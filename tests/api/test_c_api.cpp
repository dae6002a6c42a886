// The C API (include/nystrom/nystrom_c.h): every function, every NULL or bad
// argument gives its status and a message (never a crash or an exception),
// and what it computes is bit for bit what the C++ API computes.
#include <doctest/doctest.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/convert.h"
#include "nystrom/nystrom.h"
#include "nystrom/nystrom_c.h"
#include "reference_models.h"
#include "support.h"
#include "cli_text_checkpoint.h"

namespace {

using test::random_ids;
using test::reference_nyf;

// Frees what it holds when it goes away.
struct CModel {
  nystrom_model* p = nullptr;
  ~CModel() { nystrom_model_free(p); }
};
struct CSession {
  nystrom_session* p = nullptr;
  ~CSession() { nystrom_session_free(p); }
};

bool same_bits(const float* a, size_t na, const std::vector<float>& b) {
  return na == b.size() && (na == 0 || std::memcmp(a, b.data(), na * sizeof(float)) == 0);
}

std::string last_error() { return nystrom_last_error(); }

// The status of a call, checking that a failure left a message and a
// success none.
#define CHECK_STATUS(call, expected)                                       \
  do {                                                                     \
    const nystrom_status got_ = (call);                                    \
    CHECK_MESSAGE(got_ == (expected), nystrom_status_name(got_) << ": " << last_error()); \
    if ((expected) == NYSTROM_OK) CHECK(last_error().empty());             \
    else CHECK_FALSE(last_error().empty());                                \
  } while (0)

// The C++ options that C options stand for.
nystrom::RunOptions cpp_options(const nystrom_session_options& c) {
  nystrom::RunOptions o;
  o.attention = c.attention == NYSTROM_ATTENTION_EXACT     ? nystrom::AttentionMode::Exact
                : c.attention == NYSTROM_ATTENTION_NYSTROM ? nystrom::AttentionMode::Nystrom
                                                           : nystrom::AttentionMode::Auto;
  o.landmarks = c.landmarks;
  o.threads = c.threads;
  o.attention_precision = c.attention_precision == NYSTROM_PRECISION_INT8   ? nystrom::AttentionPrecision::Int8
                          : c.attention_precision == NYSTROM_PRECISION_BF16 ? nystrom::AttentionPrecision::BF16
                                                                            : nystrom::AttentionPrecision::F32;
  return o;
}

}  // namespace

TEST_CASE("c api: status names, last error, freeing NULL") {
  CHECK(std::string(nystrom_status_name(NYSTROM_OK)) == "NYSTROM_OK");
  CHECK(std::string(nystrom_status_name(NYSTROM_ERROR_IO)) == "NYSTROM_ERROR_IO");
  CHECK(std::string(nystrom_status_name(NYSTROM_ERROR_INTERNAL)) == "NYSTROM_ERROR_INTERNAL");
  CHECK(std::string(nystrom_status_name(NYSTROM_ERROR_BUFFER_TOO_SMALL)) == "NYSTROM_ERROR_BUFFER_TOO_SMALL");
  CHECK(std::string(nystrom_status_name(99)) == "unknown");
  CHECK(nystrom_last_error() != nullptr);
  nystrom_model_free(nullptr);
  nystrom_session_free(nullptr);

  // A failure's message stays until the next call, which clears it.
  CHECK(nystrom_model_open(nullptr, nullptr) == NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(last_error() == "nystrom_model_open: model is NULL");
  CHECK(last_error() == "nystrom_model_open: model is NULL");
  CModel m;
  CHECK_STATUS(nystrom_model_open(reference_nyf("small-cls").c_str(), &m.p), NYSTROM_OK);
}

TEST_CASE("c api: the last error belongs to the calling thread") {
  CHECK(nystrom_set_isa_cap(nullptr) == NYSTROM_ERROR_INVALID_ARGUMENT);
  const std::string mine = last_error();
  std::string theirs;
  std::thread t([&] {
    theirs = last_error();  // nothing has failed on this thread
    nystrom_model_open("/nonexistent/model.nyf", nullptr);
  });
  t.join();
  CHECK(theirs.empty());
  CHECK(last_error() == mine);
}

TEST_CASE("c api: nystrom_set_isa_cap takes the five names in any case and refuses others") {
  const nystrom::InstructionSet saved = nystrom::instruction_set();
  CHECK_STATUS(nystrom_set_isa_cap(nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_set_isa_cap("sse9"), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(last_error().find("'sse9'") != std::string::npos);
  CHECK_STATUS(nystrom_set_isa_cap(""), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_set_isa_cap("NEON_DOT"), NYSTROM_OK);  // a cap on any machine
  CHECK_STATUS(nystrom_set_isa_cap("Scalar"), NYSTROM_OK);
  CHECK(std::string(nystrom_isa()) == "scalar");
  CHECK(nystrom::instruction_set() == nystrom::InstructionSet::Scalar);
  // Back to the level in use before (the best level at or below a cap).
  CHECK_STATUS(nystrom_set_isa_cap(nystrom::instruction_set_name(saved)), NYSTROM_OK);
  CHECK(nystrom::instruction_set() == saved);
  CHECK(std::string(nystrom_isa()) == nystrom::instruction_set_name(saved));
}

TEST_CASE("c api: nystrom_model_open tells bad arguments, unreadable files and bad formats apart") {
  test::TempDir dir;
  nystrom_model* m = reinterpret_cast<nystrom_model*>(&dir);  // must be overwritten with NULL

  CHECK_STATUS(nystrom_model_open("x.nyf", nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_model_open(nullptr, &m), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(m == nullptr);
  CHECK(last_error() == "nystrom_model_open: path is NULL");

  m = reinterpret_cast<nystrom_model*>(&dir);
  CHECK_STATUS(nystrom_model_open((dir / "missing.nyf").c_str(), &m), NYSTROM_ERROR_IO);
  CHECK(m == nullptr);
  CHECK(last_error() == dir / "missing.nyf" + ": cannot open: No such file or directory");

  CHECK_STATUS(nystrom_model_open(dir.path.c_str(), &m), NYSTROM_ERROR_IO);
  CHECK(last_error().find("not a regular file") != std::string::npos);

  std::ofstream(dir / "junk.nyf") << "this is not a model file";
  CHECK_STATUS(nystrom_model_open((dir / "junk.nyf").c_str(), &m), NYSTROM_ERROR_FORMAT);
  CHECK(m == nullptr);
  CHECK(last_error().find("junk.nyf") != std::string::npos);

  // A good file with one byte changed fails its checksum.
  std::string bytes = test::slurp(reference_nyf("small-cls"));
  bytes[bytes.size() - 1] ^= 1;
  std::ofstream(dir / "flipped.nyf", std::ios::binary) << bytes;
  CHECK_STATUS(nystrom_model_open((dir / "flipped.nyf").c_str(), &m), NYSTROM_ERROR_FORMAT);
  CHECK(m == nullptr);

  CHECK_STATUS(nystrom_model_open(reference_nyf("small-cls").c_str(), &m), NYSTROM_OK);
  CHECK(m != nullptr);
  nystrom_model_free(m);
}

TEST_CASE("c api: nystrom_model_config and nystrom_model_label give the C++ configuration") {
  for (const std::string& name : test::reference_cases()) {
    CAPTURE(name);
    const auto cpp = nystrom::Model::open(reference_nyf(name));
    const nystrom::ModelConfig& c = cpp->config();
    CModel m;
    REQUIRE(nystrom_model_open(reference_nyf(name).c_str(), &m.p) == NYSTROM_OK);

    nystrom_config cfg;
    CHECK_STATUS(nystrom_model_config(nullptr, &cfg), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nystrom_model_config(m.p, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nystrom_model_config(m.p, &cfg), NYSTROM_OK);
    CHECK(cfg.vocab_size == c.vocab_size);
    CHECK(cfg.hidden_size == c.hidden_size);
    CHECK(cfg.num_layers == c.num_layers);
    CHECK(cfg.num_heads == c.num_heads);
    CHECK(cfg.intermediate_size == c.intermediate_size);
    CHECK(cfg.max_positions == c.max_positions);
    CHECK(cfg.type_vocab_size == c.type_vocab_size);
    CHECK(cfg.num_landmarks == c.num_landmarks);
    CHECK(cfg.segment_means_len == c.segment_means_len);
    CHECK(cfg.conv_kernel == c.conv_kernel);
    CHECK(cfg.activation == (int32_t)c.activation);  // the enums list the same values in the same order
    CHECK(cfg.head == (int32_t)c.head);
    CHECK(cfg.layer_norm_eps == c.layer_norm_eps);
    CHECK(cfg.num_labels == (c.head == nystrom::HeadType::Classifier ? c.labels.size() : 0u));
    CHECK(cfg.problem_type == (int32_t)c.problem_type);

    const char* label = "unchanged";
    CHECK_STATUS(nystrom_model_label(m.p, 0, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nystrom_model_label(nullptr, 0, &label), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK(label == nullptr);
    for (size_t i = 0; i < cfg.num_labels; ++i) {
      CHECK_STATUS(nystrom_model_label(m.p, i, &label), NYSTROM_OK);
      CHECK(std::string(label) == c.labels[i]);
    }
    CHECK_STATUS(nystrom_model_label(m.p, cfg.num_labels, &label), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK(label == nullptr);
    CHECK(last_error().find("out of range") != std::string::npos);
  }
  CModel m;
  REQUIRE(nystrom_model_open(reference_nyf("small-cls").c_str(), &m.p) == NYSTROM_OK);
  nystrom_config cfg;
  REQUIRE(nystrom_model_config(m.p, &cfg) == NYSTROM_OK);
  CHECK(cfg.head == NYSTROM_HEAD_CLASSIFIER);
  CHECK(cfg.num_labels == 3);
  CHECK(cfg.problem_type == NYSTROM_PROBLEM_SINGLE_LABEL);
}

TEST_CASE("c api: nystrom_config gives a multi-label or regression classifier's problem type") {
  for (nystrom::ProblemType t : {nystrom::ProblemType::MultiLabel, nystrom::ProblemType::Regression}) {
    test::TempDir dir;
    nystrom::ModelConfig c = nystrom::Model::open(reference_nyf("small-cls"))->config();
    c.problem_type = t;
    nystrom::write_random_model(dir / "m.nyf", c);
    CModel m;
    REQUIRE(nystrom_model_open((dir / "m.nyf").c_str(), &m.p) == NYSTROM_OK);
    nystrom_config cfg;
    REQUIRE(nystrom_model_config(m.p, &cfg) == NYSTROM_OK);
    CHECK(cfg.problem_type == (t == nystrom::ProblemType::MultiLabel ? NYSTROM_PROBLEM_MULTI_LABEL
                                                                     : NYSTROM_PROBLEM_REGRESSION));
  }
}

TEST_CASE("c api: nystrom_session_create checks every option") {
  CModel m;
  REQUIRE(nystrom_model_open(reference_nyf("small-cls").c_str(), &m.p) == NYSTROM_OK);
  nystrom_session* s = reinterpret_cast<nystrom_session*>(&m);  // must be overwritten with NULL
  nystrom_session_options o;
  std::memset(&o, 0, sizeof o);

  CHECK_STATUS(nystrom_session_create(m.p, &o, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_create(nullptr, &o, &s), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(s == nullptr);
  CHECK(last_error() == "nystrom_session_create: model is NULL");

  for (int32_t attention : {-1, 3, INT32_MAX}) {
    o.attention = attention;
    CHECK_STATUS(nystrom_session_create(m.p, &o, &s), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK(last_error().find("attention") != std::string::npos);
  }
  o.attention = NYSTROM_ATTENTION_AUTO;
  for (int32_t precision : {-1, 3}) {
    o.attention_precision = precision;
    CHECK_STATUS(nystrom_session_create(m.p, &o, &s), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK(last_error().find("attention_precision") != std::string::npos);
  }
  o.attention_precision = NYSTROM_PRECISION_F32;
  for (int32_t threads : {-1, 1025, INT32_MIN}) {
    o.threads = threads;
    CHECK_STATUS(nystrom_session_create(m.p, &o, &s), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK(s == nullptr);
    CHECK(last_error().find("threads") != std::string::npos);
  }
  o.threads = 0;
  o.landmarks = (uint32_t)INT_MAX + 1u;
  CHECK_STATUS(nystrom_session_create(m.p, &o, &s), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(last_error().find("landmarks") != std::string::npos);

  o.landmarks = 0;
  CHECK_STATUS(nystrom_session_create(m.p, &o, &s), NYSTROM_OK);  // all zeros: the defaults
  nystrom_session_free(s);
  CHECK_STATUS(nystrom_session_create(m.p, nullptr, &s), NYSTROM_OK);  // NULL: the defaults
  nystrom_session_free(s);

  // A session keeps its model alive.
  o.threads = 2;
  o.attention = NYSTROM_ATTENTION_NYSTROM;
  o.landmarks = 4;
  CHECK_STATUS(nystrom_session_create(m.p, &o, &s), NYSTROM_OK);
  nystrom_model_free(m.p);
  m.p = nullptr;
  const int32_t ids[] = {0, 5, 6, 7, 8, 9, 2};
  CHECK_STATUS(nystrom_session_run(s, ids, 7), NYSTROM_OK);
  nystrom_session_free(s);
}

TEST_CASE("c api: nystrom_session_run refuses bad input; the accessors need a result") {
  CModel m;
  REQUIRE(nystrom_model_open(reference_nyf("small-cls").c_str(), &m.p) == NYSTROM_OK);
  nystrom_config cfg;
  REQUIRE(nystrom_model_config(m.p, &cfg) == NYSTROM_OK);
  CSession s;
  REQUIRE(nystrom_session_create(m.p, nullptr, &s.p) == NYSTROM_OK);

  const float* data = reinterpret_cast<const float*>(&cfg);
  size_t n = 7, hidden = 7, count = 7;
  float pooled[128];

  // No result before the first run.
  CHECK_STATUS(nystrom_session_hidden(s.p, &data, &n, &hidden), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(last_error().find("no result") != std::string::npos);
  CHECK(data == nullptr);
  CHECK(n == 0);
  CHECK(hidden == 0);
  CHECK_STATUS(nystrom_session_logits(s.p, &data, &count), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_pooled(s.p, NYSTROM_POOLING_MEAN, pooled, 128), NYSTROM_ERROR_INVALID_ARGUMENT);

  const std::vector<int32_t> good = {0, 17, 42, 2};
  CHECK_STATUS(nystrom_session_run(nullptr, good.data(), good.size()), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_run(s.p, nullptr, 4), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(last_error() == "nystrom_session_run: ids is NULL");
  CHECK_STATUS(nystrom_session_run(s.p, nullptr, 0), NYSTROM_ERROR_INPUT);
  CHECK(last_error() == "input is empty");
  CHECK_STATUS(nystrom_session_run(s.p, good.data(), 0), NYSTROM_ERROR_INPUT);

  std::vector<int32_t> bad = good;
  bad[2] = (int32_t)cfg.vocab_size;
  CHECK_STATUS(nystrom_session_run(s.p, bad.data(), bad.size()), NYSTROM_ERROR_INPUT);
  CHECK(last_error().find("token id 1000 at position 2") != std::string::npos);
  bad[2] = -1;
  CHECK_STATUS(nystrom_session_run(s.p, bad.data(), bad.size()), NYSTROM_ERROR_INPUT);
  std::vector<int32_t> too_long(cfg.max_positions + 1, 5);
  CHECK_STATUS(nystrom_session_run(s.p, too_long.data(), too_long.size()), NYSTROM_ERROR_INPUT);
  CHECK(last_error().find("at most") != std::string::npos);

  CHECK_STATUS(nystrom_session_run(s.p, good.data(), good.size()), NYSTROM_OK);
  CHECK_STATUS(nystrom_session_hidden(s.p, &data, &n, &hidden), NYSTROM_OK);
  CHECK(n == good.size());
  CHECK(hidden == cfg.hidden_size);

  // NULL out-pointers and sessions.
  CHECK_STATUS(nystrom_session_hidden(nullptr, &data, &n, &hidden), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_hidden(s.p, nullptr, &n, &hidden), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_hidden(s.p, &data, nullptr, &hidden), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_hidden(s.p, &data, &n, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_logits(nullptr, &data, &count), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_logits(s.p, nullptr, &count), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_logits(s.p, &data, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_pooled(nullptr, NYSTROM_POOLING_MEAN, pooled, 128), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_pooled(s.p, NYSTROM_POOLING_MEAN, nullptr, 128), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_pooled(s.p, 2, pooled, 128), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(last_error().find("pooling") != std::string::npos);
  CHECK_STATUS(nystrom_session_pooled(s.p, -1, pooled, 128), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_pooled(s.p, NYSTROM_POOLING_FIRST, pooled, 127), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(last_error().find("out_len 127") != std::string::npos);
  CHECK_STATUS(nystrom_session_pooled(s.p, NYSTROM_POOLING_FIRST, pooled, 128), NYSTROM_OK);

  // A failed run leaves no result behind.
  CHECK_STATUS(nystrom_session_run(s.p, bad.data(), bad.size()), NYSTROM_ERROR_INPUT);
  CHECK_STATUS(nystrom_session_hidden(s.p, &data, &n, &hidden), NYSTROM_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("c api: results, logits and pooling are bit for bit the C++ API's, for every head and mode") {
  for (const std::string& name : test::reference_cases()) {
    const auto cpp_model = nystrom::Model::open(reference_nyf(name));
    const nystrom::ModelConfig& c = cpp_model->config();
    CModel m;
    REQUIRE(nystrom_model_open(reference_nyf(name).c_str(), &m.p) == NYSTROM_OK);
    const nystrom_session_options modes[] = {{NYSTROM_ATTENTION_AUTO, 0, 0, NYSTROM_PRECISION_F32, NYSTROM_OUTPUTS_ALL},
                                             {NYSTROM_ATTENTION_NYSTROM, 4, 2, NYSTROM_PRECISION_F32, NYSTROM_OUTPUTS_ALL},
                                             {NYSTROM_ATTENTION_NYSTROM, 0, 1, NYSTROM_PRECISION_INT8, NYSTROM_OUTPUTS_ALL},
                                             {NYSTROM_ATTENTION_NYSTROM, 0, 2, NYSTROM_PRECISION_BF16, NYSTROM_OUTPUTS_ALL},
                                             {NYSTROM_ATTENTION_EXACT, 0, 3, NYSTROM_PRECISION_F32, NYSTROM_OUTPUTS_ALL}};
    for (const nystrom_session_options& o : modes) {
      CAPTURE(name);
      CAPTURE(o.attention);
      CSession s;
      REQUIRE(nystrom_session_create(m.p, &o, &s.p) == NYSTROM_OK);
      nystrom::Session cpp(cpp_model, cpp_options(o));
      for (size_t n : {(size_t)1, (size_t)9, (size_t)c.max_positions / 2 + 3, (size_t)c.max_positions}) {
        CAPTURE(n);
        const std::vector<int32_t> ids = random_ids(n, c.vocab_size, (uint32_t)n);
        const nystrom::Output want = cpp.run(ids);
        CHECK_STATUS(nystrom_session_run(s.p, ids.data(), ids.size()), NYSTROM_OK);

        const float* data;
        size_t rows, hidden, count;
        CHECK_STATUS(nystrom_session_hidden(s.p, &data, &rows, &hidden), NYSTROM_OK);
        CHECK(rows == want.n);
        CHECK(hidden == want.hidden);
        CHECK(same_bits(data, rows * hidden, want.last_hidden_state));

        CHECK_STATUS(nystrom_session_logits(s.p, &data, &count), NYSTROM_OK);
        CHECK(same_bits(data, count, want.logits));
        if (c.head == nystrom::HeadType::None) CHECK(data == nullptr);
        if (c.head == nystrom::HeadType::MaskedLM) CHECK(count == n * c.vocab_size);
        if (c.head == nystrom::HeadType::Classifier) CHECK(count == c.labels.size());

        std::vector<float> pooled(c.hidden_size + 1, -7.0f);
        CHECK_STATUS(nystrom_session_pooled(s.p, NYSTROM_POOLING_MEAN, pooled.data(), pooled.size()), NYSTROM_OK);
        CHECK(pooled.back() == -7.0f);  // writes hidden_size floats, no more
        pooled.pop_back();
        CHECK(pooled == nystrom::pool_embedding(want, nystrom::Pooling::Mean));
        CHECK_STATUS(nystrom_session_pooled(s.p, NYSTROM_POOLING_FIRST, pooled.data(), pooled.size()), NYSTROM_OK);
        CHECK(same_bits(pooled.data(), pooled.size(),
                        std::vector<float>(want.last_hidden_state.begin(),
                                           want.last_hidden_state.begin() + c.hidden_size)));
      }
    }
  }
}

namespace {

// What a batch callback saw of each sequence.
struct Seen {
  std::vector<size_t> indices;
  std::vector<std::vector<float>> hidden, logits;
  size_t stop_after = SIZE_MAX;  // return nonzero at this index
};

int record(void* user, size_t index, const nystrom_session* session) {
  Seen& seen = *static_cast<Seen*>(user);
  seen.indices.push_back(index);
  const float* data;
  size_t n, hidden, count;
  if (nystrom_session_hidden(session, &data, &n, &hidden) != NYSTROM_OK) return 1;
  seen.hidden.emplace_back(data, data + n * hidden);
  if (nystrom_session_logits(session, &data, &count) != NYSTROM_OK) return 1;
  seen.logits.emplace_back(data, data + count);
  // A failed call inside the callback must not leak into the batch's result.
  nystrom_session_pooled(session, NYSTROM_POOLING_MEAN, nullptr, 0);
  return index == seen.stop_after ? 1 : 0;
}

}  // namespace

TEST_CASE("c api: nystrom_session_run_batch runs each sequence on its own and calls back in order") {
  CModel m;
  REQUIRE(nystrom_model_open(reference_nyf("tiny-mlm").c_str(), &m.p) == NYSTROM_OK);
  nystrom_config cfg;
  REQUIRE(nystrom_model_config(m.p, &cfg) == NYSTROM_OK);
  const nystrom_session_options o = {NYSTROM_ATTENTION_NYSTROM, 8, 2, NYSTROM_PRECISION_F32, NYSTROM_OUTPUTS_ALL};
  CSession s, one;
  REQUIRE(nystrom_session_create(m.p, &o, &s.p) == NYSTROM_OK);
  REQUIRE(nystrom_session_create(m.p, &o, &one.p) == NYSTROM_OK);

  std::vector<std::vector<int32_t>> batch;
  for (size_t n : {5, 60, 1, 5, 33}) batch.push_back(random_ids(n, cfg.vocab_size, (uint32_t)(batch.size() + 100)));
  std::vector<const int32_t*> ids;
  std::vector<size_t> lengths;
  for (const auto& b : batch) ids.push_back(b.data()), lengths.push_back(b.size());

  Seen seen;
  CHECK_STATUS(nystrom_session_run_batch(s.p, ids.data(), lengths.data(), ids.size(), record, &seen), NYSTROM_OK);
  REQUIRE(seen.indices == std::vector<size_t>{0, 1, 2, 3, 4});
  for (size_t i = 0; i < batch.size(); ++i) {
    CAPTURE(i);
    REQUIRE(nystrom_session_run(one.p, ids[i], lengths[i]) == NYSTROM_OK);
    const float* data;
    size_t n, hidden, count;
    REQUIRE(nystrom_session_hidden(one.p, &data, &n, &hidden) == NYSTROM_OK);
    CHECK(same_bits(data, n * hidden, seen.hidden[i]));
    REQUIRE(nystrom_session_logits(one.p, &data, &count) == NYSTROM_OK);
    CHECK(same_bits(data, count, seen.logits[i]));
  }
  // Afterwards the last result is the last sequence's.
  const float* data;
  size_t n, hidden;
  CHECK_STATUS(nystrom_session_hidden(s.p, &data, &n, &hidden), NYSTROM_OK);
  CHECK(same_bits(data, n * hidden, seen.hidden.back()));

  // Bad arguments.
  CHECK_STATUS(nystrom_session_run_batch(nullptr, ids.data(), lengths.data(), 1, record, &seen),
               NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_run_batch(s.p, ids.data(), lengths.data(), 1, nullptr, &seen),
               NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_run_batch(s.p, nullptr, lengths.data(), 1, record, &seen),
               NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_run_batch(s.p, ids.data(), nullptr, 1, record, &seen),
               NYSTROM_ERROR_INVALID_ARGUMENT);
  seen = Seen();
  CHECK_STATUS(nystrom_session_run_batch(s.p, nullptr, nullptr, 0, record, &seen), NYSTROM_OK);  // empty batch
  CHECK(seen.indices.empty());
  CHECK_STATUS(nystrom_session_hidden(s.p, &data, &n, &hidden), NYSTROM_ERROR_INVALID_ARGUMENT);

  std::vector<const int32_t*> with_null = ids;
  with_null[2] = nullptr;
  seen = Seen();
  CHECK_STATUS(nystrom_session_run_batch(s.p, with_null.data(), lengths.data(), ids.size(), record, &seen),
               NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(last_error() == "nystrom_session_run_batch: ids[2] is NULL");
  CHECK(seen.indices.size() == 2);  // the callbacks before stand

  // An invalid sequence stops the batch and is named.
  std::vector<int32_t> bad = batch[3];
  bad[1] = (int32_t)cfg.vocab_size + 3;
  std::vector<const int32_t*> with_bad = ids;
  with_bad[3] = bad.data();
  seen = Seen();
  CHECK_STATUS(nystrom_session_run_batch(s.p, with_bad.data(), lengths.data(), ids.size(), record, &seen),
               NYSTROM_ERROR_INPUT);
  CHECK(last_error().rfind("batch sequence 3: token id", 0) == 0);
  CHECK(seen.indices.size() == 3);
  std::vector<size_t> with_empty = lengths;
  with_empty[0] = 0;
  CHECK_STATUS(nystrom_session_run_batch(s.p, ids.data(), with_empty.data(), ids.size(), record, &seen),
               NYSTROM_ERROR_INPUT);
  CHECK(last_error() == "batch sequence 0: input is empty");
  CHECK_STATUS(nystrom_session_hidden(s.p, &data, &n, &hidden), NYSTROM_ERROR_INVALID_ARGUMENT);

  // A callback that returns nonzero stops it.
  seen = Seen();
  seen.stop_after = 1;
  CHECK_STATUS(nystrom_session_run_batch(s.p, ids.data(), lengths.data(), ids.size(), record, &seen),
               NYSTROM_ERROR_CANCELLED);
  CHECK(seen.indices == std::vector<size_t>{0, 1});
  CHECK(last_error().find("sequence 1") != std::string::npos);
}

TEST_CASE("c api: sessions on threads sharing one model give the sequential results") {
  CModel m;
  REQUIRE(nystrom_model_open(reference_nyf("small-cls").c_str(), &m.p) == NYSTROM_OK);
  constexpr int kThreads = 4;
  std::vector<std::vector<int32_t>> inputs;
  for (int t = 0; t < kThreads; ++t) inputs.push_back(random_ids(20 + 31 * t, 1000, 7 + t));

  std::vector<std::vector<float>> want(kThreads);
  {
    CSession s;
    const nystrom_session_options o = {NYSTROM_ATTENTION_AUTO, 0, 1, NYSTROM_PRECISION_F32, NYSTROM_OUTPUTS_ALL};
    REQUIRE(nystrom_session_create(m.p, &o, &s.p) == NYSTROM_OK);
    for (int t = 0; t < kThreads; ++t) {
      REQUIRE(nystrom_session_run(s.p, inputs[t].data(), inputs[t].size()) == NYSTROM_OK);
      want[t].resize(128);
      REQUIRE(nystrom_session_pooled(s.p, NYSTROM_POOLING_MEAN, want[t].data(), 128) == NYSTROM_OK);
    }
  }
  std::vector<std::vector<float>> got(kThreads, std::vector<float>(128));
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const nystrom_session_options o = {NYSTROM_ATTENTION_AUTO, 0, 1 + t % 2, NYSTROM_PRECISION_F32, NYSTROM_OUTPUTS_ALL};
      nystrom_session* s = nullptr;
      if (nystrom_session_create(m.p, &o, &s) != NYSTROM_OK) return void(++failures[t]);
      for (int round = 0; round < 3; ++round) {
        if (nystrom_session_run(s, inputs[t].data(), inputs[t].size()) != NYSTROM_OK) ++failures[t];
        if (nystrom_session_pooled(s, NYSTROM_POOLING_MEAN, got[t].data(), 128) != NYSTROM_OK) ++failures[t];
        if (std::memcmp(got[t].data(), want[t].data(), 128 * sizeof(float)) != 0) ++failures[t];
        if (nystrom_session_run(s, nullptr, 3) != NYSTROM_ERROR_INVALID_ARGUMENT) ++failures[t];
      }
      nystrom_session_free(s);
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    CAPTURE(t);
    CHECK(failures[t] == 0);
  }
}

TEST_CASE("c api: nystrom_tokenize gives the C++ tokenizer's ids and says how many when they do not fit") {
  test::TempDir dir;
  const std::string path = texttest::text_model(dir, "small-cls", texttest::tokenizer_json(1000));
  CModel m;
  REQUIRE(nystrom_model_open(path.c_str(), &m.p) == NYSTROM_OK);
  int has = -1;
  CHECK_STATUS(nystrom_model_has_tokenizer(m.p, &has), NYSTROM_OK);
  CHECK(has == 1);

  const char* text = "the cat sat on a mat , and it was good";
  const std::vector<int32_t> expected = nystrom::Model::open(path)->tokenizer()->encode(text, true);
  REQUIRE(expected.size() == 13);
  std::vector<int32_t> ids(16, -7);
  size_t count = 0;
  CHECK_STATUS(nystrom_tokenize(m.p, text, 1, ids.data(), ids.size(), &count), NYSTROM_OK);
  CHECK(count == expected.size());
  CHECK(std::vector<int32_t>(ids.begin(), ids.begin() + count) == expected);
  CHECK(ids[count] == -7);  // nothing written past the ids
  CHECK_STATUS(nystrom_tokenize(m.p, text, 0, ids.data(), ids.size(), &count), NYSTROM_OK);
  CHECK(count == expected.size() - 2);
  CHECK(ids[0] == expected[1]);

  // Too small a buffer: the count, a distinct status, and nothing written.
  std::fill(ids.begin(), ids.end(), -7);
  count = 0;
  CHECK_STATUS(nystrom_tokenize(m.p, text, 1, ids.data(), 12, &count), NYSTROM_ERROR_BUFFER_TOO_SMALL);
  CHECK(count == 13);
  CHECK(ids[0] == -7);
  CHECK(last_error().find("capacity 12") != std::string::npos);
  CHECK_STATUS(nystrom_tokenize(m.p, text, 1, nullptr, 0, &count), NYSTROM_ERROR_BUFFER_TOO_SMALL);
  CHECK(count == 13);
  CHECK_STATUS(nystrom_tokenize(m.p, "", 0, nullptr, 0, &count), NYSTROM_OK);
  CHECK(count == 0);

  // Bad arguments.
  CHECK_STATUS(nystrom_tokenize(nullptr, text, 1, ids.data(), ids.size(), &count), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_tokenize(m.p, nullptr, 1, ids.data(), ids.size(), &count), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_tokenize(m.p, text, 1, nullptr, 4, &count), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_tokenize(m.p, text, 1, ids.data(), ids.size(), nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_model_has_tokenizer(nullptr, &has), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_model_has_tokenizer(m.p, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("c api: nystrom_token_string and nystrom_tokenizer_mask_id") {
  test::TempDir dir;
  CModel m;
  REQUIRE(nystrom_model_open(texttest::text_model(dir, "tiny-mlm", texttest::tokenizer_json(512)).c_str(), &m.p) ==
          NYSTROM_OK);
  int32_t mask = 0;
  CHECK_STATUS(nystrom_tokenizer_mask_id(m.p, &mask), NYSTROM_OK);
  CHECK(mask == texttest::kMask);

  char buf[8];
  size_t length = 0;
  CHECK_STATUS(nystrom_token_string(m.p, mask, buf, sizeof buf, &length), NYSTROM_OK);
  CHECK(std::string(buf) == "[MASK]");
  CHECK(length == 6);
  CHECK_STATUS(nystrom_token_string(m.p, 511, buf, 5, &length), NYSTROM_OK);  // "w511" and its NUL
  CHECK(std::string(buf) == "w511");
  std::memset(buf, 'x', sizeof buf);
  CHECK_STATUS(nystrom_token_string(m.p, mask, buf, 6, &length), NYSTROM_ERROR_BUFFER_TOO_SMALL);
  CHECK(length == 6);
  CHECK(buf[0] == 'x');
  CHECK_STATUS(nystrom_token_string(m.p, mask, nullptr, 0, &length), NYSTROM_ERROR_BUFFER_TOO_SMALL);
  CHECK(length == 6);
  CHECK_STATUS(nystrom_token_string(m.p, 512, buf, sizeof buf, &length), NYSTROM_ERROR_INPUT);
  CHECK(last_error().find("id 512") != std::string::npos);
  CHECK_STATUS(nystrom_token_string(m.p, -1, buf, sizeof buf, &length), NYSTROM_ERROR_INPUT);
  CHECK_STATUS(nystrom_token_string(m.p, 0, buf, sizeof buf, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_token_string(m.p, 0, nullptr, 8, &length), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_tokenizer_mask_id(m.p, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_tokenizer_mask_id(nullptr, &mask), NYSTROM_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("c api: the tokenizer functions on a model without one, and on broken tokenizer files") {
  test::TempDir dir;
  int has = -1;
  size_t count = 9;
  int32_t ids[4], mask = 0;
  char buf[8];
  {
    CModel m;
    REQUIRE(nystrom_model_open(reference_nyf("tiny-mlm").c_str(), &m.p) == NYSTROM_OK);
    CHECK_STATUS(nystrom_model_has_tokenizer(m.p, &has), NYSTROM_OK);
    CHECK(has == 0);
    CHECK_STATUS(nystrom_tokenize(m.p, "the cat", 1, ids, 4, &count), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK(last_error().find("has no tokenizer") != std::string::npos);
    CHECK(count == 0);
    CHECK_STATUS(nystrom_token_string(m.p, 0, buf, sizeof buf, &count), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nystrom_tokenizer_mask_id(m.p, &mask), NYSTROM_ERROR_INVALID_ARGUMENT);
    CHECK(mask == -1);
  }
  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", "");
  const nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(folder);
  nystrom::write_model_file(dir / "broken.nyf", ck.config, ck.tensors, {{"tokenizer.json", "[1, 2"}});
  CModel m;
  CHECK_STATUS(nystrom_model_open((dir / "broken.nyf").c_str(), &m.p), NYSTROM_OK);
  CHECK_STATUS(nystrom_model_has_tokenizer(m.p, &has), NYSTROM_OK);
  CHECK(has == 1);
  CHECK_STATUS(nystrom_tokenize(m.p, "the cat", 1, ids, 4, &count), NYSTROM_ERROR_FORMAT);
  CHECK(last_error().find("tokenizer.json") != std::string::npos);
  CHECK_STATUS(nystrom_tokenizer_mask_id(m.p, &mask), NYSTROM_ERROR_FORMAT);
}

TEST_CASE("c api: nystrom_version is the C++ version; nystrom_model_open_with takes threads and the checksum choice") {
  CHECK(std::string(nystrom_version()) == nystrom::version());

  // One byte of the last tensor flipped: only the whole-file checksum sees it.
  test::TempDir dir;
  std::string bytes = test::slurp(reference_nyf("tiny-mlm"));
  bytes[bytes.size() - 5] ^= 0x40;
  test::write_file(dir / "flipped.nyf", bytes);
  CModel m;
  CHECK_STATUS(nystrom_model_open((dir / "flipped.nyf").c_str(), &m.p), NYSTROM_ERROR_FORMAT);
  CHECK(last_error().find("checksum") != std::string::npos);
  const nystrom_open_options defaults = {0, 0};
  CHECK_STATUS(nystrom_model_open_with((dir / "flipped.nyf").c_str(), &defaults, &m.p), NYSTROM_ERROR_FORMAT);
  CHECK(m.p == nullptr);
  const nystrom_open_options skip = {2, 1};
  CHECK_STATUS(nystrom_model_open_with((dir / "flipped.nyf").c_str(), &skip, &m.p), NYSTROM_OK);
  CHECK(m.p != nullptr);

  CModel plain;
  CHECK_STATUS(nystrom_model_open_with(reference_nyf("tiny-mlm").c_str(), nullptr, &plain.p), NYSTROM_OK);
  const nystrom_open_options bad = {-1, 0};
  CModel none;
  CHECK_STATUS(nystrom_model_open_with(reference_nyf("tiny-mlm").c_str(), &bad, &none.p),
               NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(none.p == nullptr);
  CHECK_STATUS(nystrom_model_open_with((dir / "missing.nyf").c_str(), &skip, &none.p), NYSTROM_ERROR_IO);
  CHECK_STATUS(nystrom_model_open_with(nullptr, &skip, &none.p), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_model_open_with(reference_nyf("tiny-mlm").c_str(), &skip, nullptr),
               NYSTROM_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("c api: nystrom_decode gives the C++ tokenizer's text; nystrom_tokenizer_vocab_size its size") {
  test::TempDir dir;
  const std::string path = texttest::text_model(dir, "tiny-mlm", texttest::tokenizer_json(512));
  CModel m;
  REQUIRE(nystrom_model_open(path.c_str(), &m.p) == NYSTROM_OK);
  const auto cpp_model = nystrom::Model::open(path);
  const nystrom::Tokenizer* tok = cpp_model->tokenizer();
  const std::vector<int32_t> ids = tok->encode("The cat sat on the mat.");
  char buf[64];
  size_t length = 0;
  for (int skip : {1, 0}) {
    CAPTURE(skip);
    CHECK_STATUS(nystrom_decode(m.p, ids.data(), ids.size(), skip, buf, sizeof buf, &length), NYSTROM_OK);
    const std::string want = tok->decode(ids, skip != 0);
    CHECK(std::string(buf) == want);
    CHECK(length == want.size());
  }
  CHECK(std::string(buf).find("[CLS]") != std::string::npos);
  std::memset(buf, 'x', sizeof buf);
  CHECK_STATUS(nystrom_decode(m.p, ids.data(), ids.size(), 1, buf, 4, &length), NYSTROM_ERROR_BUFFER_TOO_SMALL);
  CHECK(length == tok->decode(ids).size());
  CHECK(buf[0] == 'x');
  CHECK_STATUS(nystrom_decode(m.p, nullptr, 0, 1, buf, sizeof buf, &length), NYSTROM_OK);
  CHECK(std::string(buf).empty());
  const int32_t outside[] = {5, 512};
  CHECK_STATUS(nystrom_decode(m.p, outside, 2, 1, buf, sizeof buf, &length), NYSTROM_ERROR_INPUT);
  CHECK(last_error().find("id 512 at position 1") != std::string::npos);
  CHECK_STATUS(nystrom_decode(m.p, nullptr, 2, 1, buf, sizeof buf, &length), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_decode(m.p, ids.data(), ids.size(), 1, buf, sizeof buf, nullptr),
               NYSTROM_ERROR_INVALID_ARGUMENT);
  CModel bare;
  REQUIRE(nystrom_model_open(reference_nyf("tiny-mlm").c_str(), &bare.p) == NYSTROM_OK);
  CHECK_STATUS(nystrom_decode(bare.p, ids.data(), ids.size(), 1, buf, sizeof buf, &length),
               NYSTROM_ERROR_INVALID_ARGUMENT);

  int32_t size = -1;
  CHECK_STATUS(nystrom_tokenizer_vocab_size(m.p, &size), NYSTROM_OK);
  CHECK(size == tok->vocab_size());
  CHECK(size == 512);
  CHECK_STATUS(nystrom_tokenizer_vocab_size(bare.p, &size), NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK(size == 0);
  CHECK_STATUS(nystrom_tokenizer_vocab_size(m.p, nullptr), NYSTROM_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("c api: outputs HIDDEN_ONLY and nystrom_session_run_positions compute less, bit for bit") {
  CModel m;
  REQUIRE(nystrom_model_open(reference_nyf("tiny-mlm").c_str(), &m.p) == NYSTROM_OK);
  const std::vector<int32_t> ids = random_ids(23, 512, 9);
  CSession full;
  REQUIRE(nystrom_session_create(m.p, nullptr, &full.p) == NYSTROM_OK);
  REQUIRE(nystrom_session_run(full.p, ids.data(), ids.size()) == NYSTROM_OK);
  const float *all = nullptr, *hidden = nullptr, *data = nullptr;
  size_t count = 0, rows = 0, width = 0;
  REQUIRE(nystrom_session_logits(full.p, &all, &count) == NYSTROM_OK);
  REQUIRE(count == 23 * 512);
  REQUIRE(nystrom_session_hidden(full.p, &hidden, &rows, &width) == NYSTROM_OK);
  const std::vector<float> want_hidden(hidden, hidden + rows * width);

  nystrom_session_options o = {};
  o.outputs = NYSTROM_OUTPUTS_HIDDEN_ONLY;
  CSession embed;
  CHECK_STATUS(nystrom_session_create(m.p, &o, &embed.p), NYSTROM_OK);
  CHECK_STATUS(nystrom_session_run(embed.p, ids.data(), ids.size()), NYSTROM_OK);
  CHECK_STATUS(nystrom_session_logits(embed.p, &data, &count), NYSTROM_OK);
  CHECK(data == nullptr);
  CHECK(count == 0);
  CHECK_STATUS(nystrom_session_hidden(embed.p, &data, &rows, &width), NYSTROM_OK);
  CHECK(same_bits(data, rows * width, want_hidden));
  o.outputs = 2;
  CSession bad;
  CHECK_STATUS(nystrom_session_create(m.p, &o, &bad.p), NYSTROM_ERROR_INVALID_ARGUMENT);

  const size_t positions[] = {22, 3, 3};
  CSession some;
  REQUIRE(nystrom_session_create(m.p, nullptr, &some.p) == NYSTROM_OK);
  CHECK_STATUS(nystrom_session_run_positions(some.p, ids.data(), ids.size(), positions, 3), NYSTROM_OK);
  CHECK_STATUS(nystrom_session_logits(some.p, &data, &count), NYSTROM_OK);
  REQUIRE(count == 3 * 512);
  for (size_t r = 0; r < 3; ++r) {
    CAPTURE(r);
    CHECK(std::memcmp(data + r * 512, all + positions[r] * 512, 512 * sizeof(float)) == 0);
  }
  CHECK_STATUS(nystrom_session_run_positions(some.p, ids.data(), ids.size(), nullptr, 0), NYSTROM_OK);
  CHECK_STATUS(nystrom_session_logits(some.p, &data, &count), NYSTROM_OK);
  CHECK(count == 0);
  const size_t past[] = {23};
  CHECK_STATUS(nystrom_session_run_positions(some.p, ids.data(), ids.size(), past, 1), NYSTROM_ERROR_INPUT);
  CHECK_STATUS(nystrom_session_logits(some.p, &data, &count), NYSTROM_ERROR_INVALID_ARGUMENT);  // no result
  CHECK_STATUS(nystrom_session_run_positions(some.p, ids.data(), ids.size(), nullptr, 1),
               NYSTROM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(nystrom_session_run_positions(nullptr, ids.data(), ids.size(), positions, 1),
               NYSTROM_ERROR_INVALID_ARGUMENT);
}

namespace {
struct ProgressLog {
  std::vector<std::pair<int, int>> calls;
  int stop_at = 0;  // 0: never
};
int log_progress(void* user, int layer, int layers) {
  auto* log = static_cast<ProgressLog*>(user);
  log->calls.emplace_back(layer, layers);
  return layer == log->stop_at ? 1 : 0;
}
}  // namespace

TEST_CASE("c api: a progress callback sees each layer and can cancel a run") {
  CModel m;
  REQUIRE(nystrom_model_open(reference_nyf("tiny-mlm").c_str(), &m.p) == NYSTROM_OK);
  const std::vector<int32_t> ids = random_ids(10, 512, 2);
  CSession s;
  REQUIRE(nystrom_session_create(m.p, nullptr, &s.p) == NYSTROM_OK);
  ProgressLog log;
  CHECK_STATUS(nystrom_session_set_progress(s.p, log_progress, &log), NYSTROM_OK);
  CHECK_STATUS(nystrom_session_run(s.p, ids.data(), ids.size()), NYSTROM_OK);
  CHECK(log.calls == std::vector<std::pair<int, int>>{{1, 2}, {2, 2}});

  log = ProgressLog{};
  log.stop_at = 1;
  CHECK_STATUS(nystrom_session_run(s.p, ids.data(), ids.size()), NYSTROM_ERROR_CANCELLED);
  CHECK(last_error().find("cancelled") != std::string::npos);
  CHECK(log.calls.size() == 1);
  const float* data = nullptr;
  size_t count = 0;
  CHECK_STATUS(nystrom_session_logits(s.p, &data, &count), NYSTROM_ERROR_INVALID_ARGUMENT);

  CHECK_STATUS(nystrom_session_set_progress(s.p, nullptr, nullptr), NYSTROM_OK);
  CHECK_STATUS(nystrom_session_run(s.p, ids.data(), ids.size()), NYSTROM_OK);
  CHECK(log.calls.size() == 1);
  CHECK_STATUS(nystrom_session_set_progress(nullptr, log_progress, &log), NYSTROM_ERROR_INVALID_ARGUMENT);
}
