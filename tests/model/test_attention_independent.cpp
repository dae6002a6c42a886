// The whole forward pass, re-derived from SPEC section 2 in double precision
// with the plainest loops, against the engine's public API (Model/Session) on
// the converted test checkpoints, at lengths that are NOT multiples of the
// landmark count (the uneven segment rule) and in every attention mode.
// The reference-case test pins the engine to the authors' code at one length
// per checkpoint; this one covers every other length and mode.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "support.h"

using nystrom::AttentionMode;
using nystrom::ModelConfig;

namespace {

// ---------------------------------------------------------------------------
// A dense row-major matrix of doubles and the few operations the model needs.

struct Mat {
  int rows = 0, cols = 0;
  std::vector<double> v;
  Mat() = default;
  Mat(int r, int c) : rows(r), cols(c), v((size_t)r * c, 0.0) {}
  double& operator()(int i, int j) { return v[(size_t)i * cols + j]; }
  double operator()(int i, int j) const { return v[(size_t)i * cols + j]; }
};

// x [n x in] times W^T, W stored [out x in] as Hugging Face Linear does, + b.
Mat linear(const Mat& x, const Mat& w, const std::vector<double>& b) {
  Mat y(x.rows, w.rows);
  for (int t = 0; t < x.rows; ++t)
    for (int o = 0; o < w.rows; ++o) {
      double s = b[o];
      for (int i = 0; i < x.cols; ++i) s += x(t, i) * w(o, i);
      y(t, o) = s;
    }
  return y;
}

Mat matmul(const Mat& a, const Mat& b) {
  Mat c(a.rows, b.cols);
  for (int i = 0; i < a.rows; ++i)
    for (int k = 0; k < a.cols; ++k)
      for (int j = 0; j < b.cols; ++j) c(i, j) += a(i, k) * b(k, j);
  return c;
}

Mat transpose(const Mat& a) {
  Mat t(a.cols, a.rows);
  for (int i = 0; i < a.rows; ++i)
    for (int j = 0; j < a.cols; ++j) t(j, i) = a(i, j);
  return t;
}

void softmax_rows(Mat& a) {
  for (int i = 0; i < a.rows; ++i) {
    double mx = a(i, 0);
    for (int j = 1; j < a.cols; ++j) mx = std::max(mx, a(i, j));
    double s = 0;
    for (int j = 0; j < a.cols; ++j) s += (a(i, j) = std::exp(a(i, j) - mx));
    for (int j = 0; j < a.cols; ++j) a(i, j) /= s;
  }
}

void layer_norm(Mat& x, const std::vector<double>& g, const std::vector<double>& b, double eps) {
  for (int t = 0; t < x.rows; ++t) {
    double mean = 0, var = 0;
    for (int i = 0; i < x.cols; ++i) mean += x(t, i);
    mean /= x.cols;
    for (int i = 0; i < x.cols; ++i) var += (x(t, i) - mean) * (x(t, i) - mean);
    var /= x.cols;
    for (int i = 0; i < x.cols; ++i) x(t, i) = (x(t, i) - mean) / std::sqrt(var + eps) * g[i] + b[i];
  }
}

double activation(double x, nystrom::Activation a) {
  switch (a) {
    case nystrom::Activation::GeluTanh:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case nystrom::Activation::GeluErf:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case nystrom::Activation::Relu:
      return x > 0 ? x : 0;
  }
  return x;
}

void activate(Mat& x, nystrom::Activation a) {
  for (double& e : x.v) e = activation(e, a);
}

// ---------------------------------------------------------------------------
// The model's weights, read by name out of the converted .nyf and widened.

struct RefWeights {
  const nystrom::ModelFile* file = nullptr;

  std::vector<double> vec(const std::string& name) const {
    const nystrom::TensorView* t = file->find(name);
    REQUIRE_MESSAGE(t != nullptr, "no tensor " << name);
    REQUIRE(t->dtype == nystrom::format::DType::F32);
    const float* p = static_cast<const float*>(t->data);
    return std::vector<double>(p, p + t->size / 4);
  }
  Mat mat(const std::string& name) const {
    const nystrom::TensorView* t = file->find(name);
    REQUIRE_MESSAGE(t != nullptr, "no tensor " << name);
    REQUIRE(t->shape.size() == 2);
    Mat m((int)t->shape[0], (int)t->shape[1]);
    m.v = vec(name);
    return m;
  }
  bool has(const std::string& name) const { return file->find(name) != nullptr; }
};

std::string layer(int l, const std::string& suffix) {
  return "encoder.layer." + std::to_string(l) + "." + suffix;
}

// Which attention the engine is expected to run, decided from SPEC 2
// ("Which mode runs") independently of the engine's own planner.
struct Plan {
  bool exact;
  int m;
};

Plan expected_plan(const ModelConfig& c, AttentionMode mode, int user_landmarks, int n) {
  const int m = user_landmarks ? user_landmarks : (int)c.num_landmarks;
  bool exact =
      mode == AttentionMode::Exact || (mode == AttentionMode::Auto && c.num_landmarks == c.segment_means_len);
  if (n <= m) exact = true;
  return {exact, m};
}

// SPEC 2 step 1: s = floor(n/m), r = (s+1)m - n; the first r segments hold s
// tokens, the rest s + 1 (when m divides n, r = m and all hold s).
Mat segment_means(const Mat& x, int m) {
  const int n = x.rows, s = n / m, r = (s + 1) * m - n;
  Mat out(m, x.cols);
  int start = 0;
  for (int j = 0; j < m; ++j) {
    const int len = j < r ? s : s + 1;
    for (int t = start; t < start + len; ++t)
      for (int c = 0; c < x.cols; ++c) out(j, c) += x(t, c) / len;
    start += len;
  }
  REQUIRE(start == n);
  return out;
}

// SPEC 2 step 3: 6 iterations of Z <- 0.25 Z (13I - AZ (15I - AZ (7I - AZ)))
// from Z0 = A^T / c.
Mat pinv(const Mat& a, double c) {
  const int m = a.rows;
  auto diag_minus = [m](double d, const Mat& x) {
    Mat r(m, m);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) r(i, j) = (i == j ? d : 0.0) - x(i, j);
    return r;
  };
  Mat z = transpose(a);
  for (double& e : z.v) e /= c;
  for (int it = 0; it < 6; ++it) {
    Mat az = matmul(a, z);
    z = matmul(z, diag_minus(13, matmul(az, diag_minus(15, matmul(az, diag_minus(7, az))))));
    for (double& e : z.v) e *= 0.25;
  }
  return z;
}

Mat head_columns(const Mat& x, int h, int d) {
  Mat out(x.rows, d);
  for (int t = 0; t < x.rows; ++t)
    for (int c = 0; c < d; ++c) out(t, c) = x(t, h * d + c);
  return out;
}

// Self-attention of one layer for all heads, conv skip included: [n x D].
Mat attention(const ModelConfig& c, const RefWeights& w, int l, const Mat& x, const Plan& plan) {
  const int n = x.rows, D = (int)c.hidden_size, H = (int)c.num_heads, d = D / H;
  Mat q =
      linear(x, w.mat(layer(l, "attention.self.query.weight")), w.vec(layer(l, "attention.self.query.bias")));
  Mat k = linear(x, w.mat(layer(l, "attention.self.key.weight")), w.vec(layer(l, "attention.self.key.bias")));
  Mat v =
      linear(x, w.mat(layer(l, "attention.self.value.weight")), w.vec(layer(l, "attention.self.value.bias")));
  const double qk = std::pow((double)d, -0.25);
  for (double& e : q.v) e *= qk;
  for (double& e : k.v) e *= qk;

  std::vector<Mat> qh(H), kh(H), vh(H), ctx(H);
  for (int h = 0; h < H; ++h)
    qh[h] = head_columns(q, h, d), kh[h] = head_columns(k, h, d), vh[h] = head_columns(v, h, d);

  if (plan.exact) {
    for (int h = 0; h < H; ++h) {
      Mat s = matmul(qh[h], transpose(kh[h]));
      softmax_rows(s);
      ctx[h] = matmul(s, vh[h]);
    }
  } else {
    const int m = plan.m;
    std::vector<Mat> ql(H), kl(H), a(H);
    double scale = 0;  // largest column sum of A over all heads of the layer
    for (int h = 0; h < H; ++h) {
      ql[h] = segment_means(qh[h], m);
      kl[h] = segment_means(kh[h], m);
      a[h] = matmul(ql[h], transpose(kl[h]));
      softmax_rows(a[h]);
      for (int j = 0; j < m; ++j) {
        double col = 0;
        for (int i = 0; i < m; ++i) col += a[h](i, j);
        scale = std::max(scale, col);
      }
    }
    for (int h = 0; h < H; ++h) {
      Mat f = matmul(qh[h], transpose(kl[h]));
      softmax_rows(f);
      Mat b = matmul(ql[h], transpose(kh[h]));
      softmax_rows(b);
      ctx[h] = matmul(matmul(f, pinv(a[h], scale)), matmul(b, vh[h]));
    }
  }
  if (c.conv_kernel) {
    const int K = (int)c.conv_kernel;
    std::vector<double> cw = w.vec(layer(l, "attention.self.conv.weight"));  // [H, 1, K, 1]
    for (int h = 0; h < H; ++h)
      for (int t = 0; t < n; ++t)
        for (int kk = 0; kk < K; ++kk) {
          const int src = t + kk - K / 2;
          if (src < 0 || src >= n) continue;
          for (int col = 0; col < d; ++col) ctx[h](t, col) += cw[(size_t)h * K + kk] * vh[h](src, col);
        }
  }
  Mat out(n, D);
  for (int h = 0; h < H; ++h)
    for (int t = 0; t < n; ++t)
      for (int col = 0; col < d; ++col) out(t, h * d + col) = ctx[h](t, col);
  return out;
}

struct RefOutput {
  std::vector<double> hidden, logits;
};

RefOutput forward(const ModelConfig& c, const RefWeights& w, const std::vector<int32_t>& ids,
                  const Plan& plan) {
  const int n = (int)ids.size(), D = (int)c.hidden_size;
  const double eps = c.layer_norm_eps;
  const Mat word = w.mat("embeddings.word_embeddings.weight");
  const Mat pos = w.mat("embeddings.position_embeddings.weight");
  const Mat type = w.mat("embeddings.token_type_embeddings.weight");
  Mat x(n, D);
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < D; ++i) x(t, i) = word(ids[t], i) + type(0, i) + pos(t + 2, i);
  layer_norm(x, w.vec("embeddings.LayerNorm.weight"), w.vec("embeddings.LayerNorm.bias"), eps);

  for (int l = 0; l < (int)c.num_layers; ++l) {
    Mat ctx = attention(c, w, l, x, plan);
    Mat a = linear(ctx, w.mat(layer(l, "attention.output.dense.weight")),
                   w.vec(layer(l, "attention.output.dense.bias")));
    for (size_t e = 0; e < a.v.size(); ++e) a.v[e] += x.v[e];
    layer_norm(a, w.vec(layer(l, "attention.output.LayerNorm.weight")),
               w.vec(layer(l, "attention.output.LayerNorm.bias")), eps);
    Mat mid =
        linear(a, w.mat(layer(l, "intermediate.dense.weight")), w.vec(layer(l, "intermediate.dense.bias")));
    activate(mid, c.activation);
    x = linear(mid, w.mat(layer(l, "output.dense.weight")), w.vec(layer(l, "output.dense.bias")));
    for (size_t e = 0; e < x.v.size(); ++e) x.v[e] += a.v[e];
    layer_norm(x, w.vec(layer(l, "output.LayerNorm.weight")), w.vec(layer(l, "output.LayerNorm.bias")), eps);
  }

  RefOutput out;
  out.hidden = x.v;
  if (c.head == nystrom::HeadType::MaskedLM) {
    Mat t = linear(x, w.mat("cls.predictions.transform.dense.weight"),
                   w.vec("cls.predictions.transform.dense.bias"));
    activate(t, c.activation);
    layer_norm(t, w.vec("cls.predictions.transform.LayerNorm.weight"),
               w.vec("cls.predictions.transform.LayerNorm.bias"), eps);
    const bool tied = !w.has("cls.predictions.decoder.weight");
    out.logits =
        linear(t, tied ? word : w.mat("cls.predictions.decoder.weight"), w.vec("cls.predictions.bias")).v;
  } else if (c.head == nystrom::HeadType::Classifier) {
    Mat first(1, D);
    for (int i = 0; i < D; ++i) first(0, i) = x(0, i);
    Mat hdn = linear(first, w.mat("classifier.dense.weight"), w.vec("classifier.dense.bias"));
    activate(hdn, c.activation);
    out.logits = linear(hdn, w.mat("classifier.out_proj.weight"), w.vec("classifier.out_proj.bias")).v;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Converted test checkpoints, once per process.

// The converted file (read back for the weights) and the engine's model.
struct Converted {
  std::unique_ptr<nystrom::ModelFile> file;
  std::shared_ptr<const nystrom::Model> model;
  RefWeights weights;
};

const Converted& converted(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Converted>> cache;
  std::unique_ptr<Converted>& slot = cache[name];
  if (!slot) {
    auto c = std::make_unique<Converted>();
    c->file = std::make_unique<nystrom::ModelFile>(test::reference_nyf(name));
    c->model = test::reference_model(name);
    c->weights.file = c->file.get();
    slot = std::move(c);
  }
  return *slot;
}

using test::random_ids;

test::Diff diff_d(const std::vector<float>& got, const std::vector<double>& ref) {
  test::Diff d;
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) {
    const double e = std::fabs((double)got[i] - ref[i]);
    d.max_abs = std::max(d.max_abs, std::isnan(e) ? INFINITY : e);
    d.max_ref = std::max(d.max_ref, std::fabs(ref[i]));
  }
  if (got.size() != ref.size()) d.max_abs = INFINITY;
  return d;
}

const char* mode_name(AttentionMode m) {
  switch (m) {
    case AttentionMode::Auto:
      return "auto";
    case AttentionMode::Nystrom:
      return "nystrom";
    case AttentionMode::Exact:
      return "exact";
  }
  return "?";
}

struct ModeCase {
  AttentionMode mode;
  uint32_t landmarks;
};

// Runs every length through one Session per mode (so the session re-plans
// between lengths) and compares each output with the double forward pass.
void check_against_reference(const std::string& name, const std::vector<int>& lengths,
                             const std::vector<ModeCase>& modes) {
  const Converted& cv = converted(name);
  const ModelConfig& c = cv.model->config();
  for (const ModeCase& mc : modes) {
    nystrom::RunOptions opt;
    opt.attention = mc.mode;
    opt.landmarks = mc.landmarks;
    nystrom::Session session(cv.model, opt);
    std::vector<nystrom::Output> first_outputs;
    for (int n : lengths) {
      const std::string mode_str = mode_name(mc.mode);
      const Plan plan = expected_plan(c, mc.mode, (int)mc.landmarks, n);
      INFO(name << ": n=" << n << " mode=" << mode_str << " landmarks=" << mc.landmarks << " -> expected "
                << (plan.exact ? "exact" : "nystrom m=" + std::to_string(plan.m)));
      const std::vector<int32_t> ids = random_ids(n, c.vocab_size, 1000 + n);
      nystrom::Output out = session.run(ids);
      REQUIRE(out.n == (size_t)n);
      REQUIRE(out.hidden == c.hidden_size);
      const RefOutput ref = forward(c, cv.weights, ids, plan);

      test::Diff dh = diff_d(out.last_hidden_state, ref.hidden);
      INFO("last_hidden_state: max |diff| " << dh.max_abs << ", max |ref| " << dh.max_ref);
      CHECK(test::within_spec(dh));

      if (c.head == nystrom::HeadType::MaskedLM)
        CHECK(out.logits_shape == std::vector<size_t>{(size_t)n, c.vocab_size});
      else if (c.head == nystrom::HeadType::Classifier)
        CHECK(out.logits_shape == std::vector<size_t>{c.labels.size()});
      else
        CHECK(out.logits_shape.empty());
      test::Diff dl = diff_d(out.logits, ref.logits);
      INFO("logits: max |diff| " << dl.max_abs << ", max |ref| " << dl.max_ref);
      CHECK(test::within_spec(dl));
      first_outputs.push_back(std::move(out));
    }
    // The same input again, after every other length: the very same bits.
    nystrom::Output again = session.run(random_ids(lengths[0], c.vocab_size, 1000 + lengths[0]));
    CHECK(again.last_hidden_state == first_outputs[0].last_hidden_state);
    CHECK(again.logits == first_outputs[0].logits);
  }
}

}  // namespace

TEST_CASE(
    "forward: tiny-mlm (m = 8) matches the double-precision forward pass at lengths off multiples of m") {
  check_against_reference("tiny-mlm", {1, 5, 8, 9, 13, 37, 63, 64},
                          {{AttentionMode::Auto, 0},
                           {AttentionMode::Nystrom, 0},
                           {AttentionMode::Nystrom, 5},
                           {AttentionMode::Nystrom, 7},
                           {AttentionMode::Exact, 0}});
}

TEST_CASE(
    "forward: small-cls (m = 16, conv 33) matches the double-precision forward pass at uneven lengths") {
  check_against_reference("small-cls", {17, 100, 255},
                          {{AttentionMode::Auto, 0}, {AttentionMode::Nystrom, 7}, {AttentionMode::Exact, 0}});
}

TEST_CASE(
    "forward: tiny-exact (num_landmarks == segment_means_seq_len) matches the double forward pass in every "
    "mode") {
  check_against_reference("tiny-exact", {7, 31, 32},
                          {{AttentionMode::Auto, 0},
                           {AttentionMode::Nystrom, 4},
                           {AttentionMode::Nystrom, 5},
                           {AttentionMode::Exact, 0}});
}

TEST_CASE("forward: Auto on a checkpoint with num_landmarks == segment_means_seq_len runs exact attention") {
  const Converted& cv = converted("tiny-exact");
  const ModelConfig& c = cv.model->config();
  REQUIRE(c.num_landmarks == c.segment_means_len);
  const std::vector<int32_t> ids = random_ids(32, c.vocab_size, 77);
  nystrom::RunOptions exact_opt;
  exact_opt.attention = AttentionMode::Exact;
  nystrom::Session auto_session(cv.model), exact_session(cv.model, exact_opt);
  CHECK(auto_session.run(ids).last_hidden_state == exact_session.run(ids).last_hidden_state);
}

TEST_CASE("forward: forcing Nystrom with m = 4 changes the result of an exact-attention checkpoint") {
  const Converted& cv = converted("tiny-exact");
  const ModelConfig& c = cv.model->config();
  const std::vector<int32_t> ids = random_ids(32, c.vocab_size, 78);
  nystrom::RunOptions nys;
  nys.attention = AttentionMode::Nystrom;
  nys.landmarks = 4;
  nystrom::Session nys_session(cv.model, nys), auto_session(cv.model);
  const nystrom::Output a = nys_session.run(ids), b = auto_session.run(ids);
  test::Diff d = test::diff(a.last_hidden_state, b.last_hidden_state);
  INFO("max |nystrom - exact| " << d.max_abs << ", max |exact| " << d.max_ref);
  CHECK(d.max_abs > 1e-2 * d.max_ref);  // far outside any rounding difference
  // ... and the forced Nystrom result is the Nystrom formula with 4 landmarks.
  const RefOutput ref = forward(c, cv.weights, ids, Plan{false, 4});
  CHECK(test::within_spec(diff_d(a.last_hidden_state, ref.hidden)));
}

TEST_CASE("forward: Nystrom on tiny-mlm differs from exact attention once n exceeds m") {
  const Converted& cv = converted("tiny-mlm");
  const std::vector<int32_t> ids = random_ids(37, cv.model->config().vocab_size, 79);
  nystrom::RunOptions exact;
  exact.attention = AttentionMode::Exact;
  nystrom::Session auto_session(cv.model), exact_session(cv.model, exact);
  test::Diff d =
      test::diff(auto_session.run(ids).last_hidden_state, exact_session.run(ids).last_hidden_state);
  INFO("max |nystrom - exact| " << d.max_abs << ", max |exact| " << d.max_ref);
  CHECK(d.max_abs > 1e-2 * d.max_ref);
}

TEST_CASE(
    "forward: an input of at most m tokens gives bit-for-bit the exact-attention output in every mode") {
  const Converted& cv = converted("tiny-mlm");
  const ModelConfig& c = cv.model->config();
  for (int n : {1, 4, 5, 8}) {
    CAPTURE(n);
    const std::vector<int32_t> ids = random_ids(n, c.vocab_size, 80 + n);
    nystrom::RunOptions exact;
    exact.attention = AttentionMode::Exact;
    const nystrom::Output want = nystrom::Session(cv.model, exact).run(ids);
    std::vector<nystrom::RunOptions> others(3);
    others[0].attention = AttentionMode::Auto;  // m = 8 >= n
    others[1].attention = AttentionMode::Nystrom;
    others[2].attention = AttentionMode::Nystrom;
    others[2].landmarks = (uint32_t)std::max(n, 1);  // m = n
    for (const nystrom::RunOptions& o : others) {
      const nystrom::Output got = nystrom::Session(cv.model, o).run(ids);
      CHECK(got.last_hidden_state == want.last_hidden_state);
      CHECK(got.logits == want.logits);
    }
  }
}

namespace {

using test::error_of;

}  // namespace

TEST_CASE("forward: bad inputs throw nystrom::Error with a one-line message and leave the session usable") {
  const Converted& cv = converted("tiny-mlm");
  const ModelConfig& c = cv.model->config();
  nystrom::Session session(cv.model);
  std::string msg, phrase;
  SUBCASE("over-long input") {
    msg = error_of([&] { session.run(random_ids((int)c.max_positions + 1, c.vocab_size, 5)); });
    phrase = std::to_string(c.max_positions);
  }
  SUBCASE("id equal to the vocabulary size") {
    std::vector<int32_t> ids = random_ids(10, c.vocab_size, 6);
    ids[3] = (int32_t)c.vocab_size;
    msg = error_of([&] { session.run(ids); });
    phrase = std::to_string(c.vocab_size);
  }
  SUBCASE("negative id") {
    std::vector<int32_t> ids = random_ids(10, c.vocab_size, 7);
    ids[9] = -1;
    msg = error_of([&] { session.run(ids); });
    phrase = "-1";
  }
  SUBCASE("empty input") {
    msg = error_of([&] { session.run(std::vector<int32_t>{}); });
    phrase = "empty";
  }
  INFO("message: " << msg);
  CHECK(msg != "(no error)");
  CHECK(msg.find(phrase) != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
  // The failed call did not disturb the session.
  const std::vector<int32_t> ids = random_ids(13, c.vocab_size, 8);
  nystrom::Output after = session.run(ids);
  nystrom::Output fresh = nystrom::Session(cv.model).run(ids);
  CHECK(after.last_hidden_state == fresh.last_hidden_state);
}

TEST_CASE("forward: the longest allowed input (n = max_position_embeddings) runs") {
  const Converted& cv = converted("tiny-mlm");
  const ModelConfig& c = cv.model->config();
  nystrom::Session session(cv.model);
  const std::vector<int32_t> ids = random_ids((int)c.max_positions, c.vocab_size, 9);
  nystrom::Output out = session.run(ids);
  CHECK(out.n == c.max_positions);
  CHECK(test::within_spec(
      diff_d(out.last_hidden_state, forward(c, cv.weights, ids, Plan{false, (int)c.num_landmarks}).hidden)));
}
