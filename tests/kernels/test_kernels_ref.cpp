// The kernel layer (src/kernels/ops.h), one function at a time, against the
// plainest loops in double precision written here. Whatever dispatch level
// the CPU selects must compute these; strided (ld > width) operands are used
// everywhere, with NaN in the gaps so a kernel that reads or writes outside
// its rows and columns is caught.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernel_support.h"
#include "kernels/ops.h"

namespace ops = nystrom::ops;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// A rows x cols matrix stored with leading dimension ld >= cols; the gap
// columns hold NaN.
struct Strided {
  int rows = 0, cols = 0, ld = 0;
  std::vector<float> v;
  Strided(int r, int c, int pad, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f)
      : rows(r), cols(c), ld(c + pad), v((size_t)r * (c + pad), kNaN) {
    std::uniform_real_distribution<float> u(lo, hi);
    for (int i = 0; i < r; ++i)
      for (int j = 0; j < c; ++j) v[(size_t)i * ld + j] = u(rng);
  }
  float& at(int i, int j) { return v[(size_t)i * ld + j]; }
  float at(int i, int j) const { return v[(size_t)i * ld + j]; }
  float* data() { return v.data(); }
  const float* data() const { return v.data(); }
};

// True when every gap element (columns cols..ld-1) is still NaN.
bool gaps_untouched(const Strided& s) {
  for (int i = 0; i < s.rows; ++i)
    for (int j = s.cols; j < s.ld; ++j)
      if (!std::isnan(s.at(i, j))) return false;
  return true;
}

double act_ref(double x, ops::Act act) {
  switch (act) {
    case ops::Act::None:
      return x;
    case ops::Act::Relu:
      return x > 0 ? x : 0;
    case ops::Act::GeluErf:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case ops::Act::GeluTanh: {
      const double k = std::sqrt(2.0 / M_PI);
      return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
    }
  }
  return x;
}

using test::act_name;

const ops::Act kActs[] = {ops::Act::None, ops::Act::GeluTanh, ops::Act::GeluErf, ops::Act::Relu};

// Runs one gemm on strided operands and compares every stored element with
// a double-precision loop; returns a description of the first problem, or "".
// Expected: C = act(A B + bias), or with accumulate C = act(C_old + A B + bias)
// (ops.h: the old C joins the sum, then the bias, then the activation).
std::string check_gemm(int M, int N, int K, bool ta, bool tb, const ops::Epilogue& ep_in, bool with_bias,
                       std::mt19937& rng) {
  // Stored shapes: A is M x K (or K x M when transposed), B is K x N (or N x K).
  Strided a = ta ? Strided(K, M, 3, rng) : Strided(M, K, 5, rng);
  Strided b = tb ? Strided(N, K, 2, rng) : Strided(K, N, 7, rng);
  Strided c(M, N, 4, rng);
  const Strided c_old = c;
  std::vector<float> bias = with_bias ? Strided(1, N, 0, rng).v : std::vector<float>();
  ops::Epilogue ep = ep_in;
  ep.bias = with_bias ? bias.data() : nullptr;

  ops::gemm(nullptr, M, N, K, a.data(), a.ld, ta, b.data(), b.ld, tb, c.data(), c.ld, ep);

  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double sum = 0, mag = 0;
      for (int k = 0; k < K; ++k) {
        double av = ta ? a.at(k, i) : a.at(i, k);
        double bv = tb ? b.at(j, k) : b.at(k, j);
        sum += av * bv;
        mag += std::fabs(av * bv);
      }
      if (with_bias) sum += bias[j], mag += std::fabs(bias[j]);
      if (ep.accumulate) sum += c_old.at(i, j), mag += std::fabs(c_old.at(i, j));
      double want = act_ref(sum, ep.act);
      // float accumulation of K products: error grows at most ~K ulps of the
      // magnitude of the terms; activations add a few ulps of their own.
      double tol = 1e-7 * (K + 16) * mag + 1e-6;
      double got = c.at(i, j);
      if (!(std::fabs(got - want) <= tol))
        return "C(" + std::to_string(i) + "," + std::to_string(j) + ") = " + std::to_string(got) +
               ", expected " + std::to_string(want);
    }
  }
  if (!gaps_untouched(c)) return "wrote outside the N columns of C";
  return "";
}

std::vector<double> softmax_ref(const std::vector<double>& x) {
  double mx = *std::max_element(x.begin(), x.end());
  std::vector<double> y(x.size());
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += (y[i] = std::exp(x[i] - mx));
  for (double& v : y) v /= s;
  return y;
}

// Double-precision Nystrom pinv iterations (SPEC 2 step 3).
std::vector<double> pinv_ref(const std::vector<double>& a, int m, double c, int iters) {
  auto mul = [m](const std::vector<double>& x, const std::vector<double>& y) {
    std::vector<double> r((size_t)m * m, 0.0);
    for (int i = 0; i < m; ++i)
      for (int k = 0; k < m; ++k)
        for (int j = 0; j < m; ++j) r[(size_t)i * m + j] += x[(size_t)i * m + k] * y[(size_t)k * m + j];
    return r;
  };
  auto diag_minus = [m](double d, const std::vector<double>& x) {
    std::vector<double> r(x.size());
    for (size_t e = 0; e < x.size(); ++e) r[e] = -x[e];
    for (int i = 0; i < m; ++i) r[(size_t)i * m + i] += d;
    return r;
  };
  std::vector<double> z((size_t)m * m);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) z[(size_t)i * m + j] = a[(size_t)j * m + i] / c;
  for (int it = 0; it < iters; ++it) {
    std::vector<double> az = mul(a, z);
    std::vector<double> t = diag_minus(13.0, mul(az, diag_minus(15.0, mul(az, diag_minus(7.0, az)))));
    z = mul(z, t);
    for (double& v : z) v *= 0.25;
  }
  return z;
}

// A row-stochastic m x m matrix softmax(S) with a dominant diagonal: what the
// landmark kernel looks like when attention is sharp, and well conditioned.
std::vector<float> softmax_matrix(int m, std::mt19937& rng, float diag, float noise) {
  std::normal_distribution<double> g(0.0, noise);
  std::vector<float> a((size_t)m * m);
  for (int i = 0; i < m; ++i) {
    std::vector<double> row(m);
    for (int j = 0; j < m; ++j) row[j] = g(rng) + (i == j ? diag : 0.0);
    std::vector<double> p = softmax_ref(row);
    for (int j = 0; j < m; ++j) a[(size_t)i * m + j] = (float)p[j];
  }
  return a;
}

}  // namespace

TEST_CASE("kernels: gemm computes A*B for every transpose combination, size and stride") {
  std::mt19937 rng(101);
  const int sizes[] = {1, 2, 3, 7, 17, 33, 64, 100};
  int failures = 0;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int M : sizes)
        for (int N : sizes)
          for (int K : sizes) {
            std::string problem = check_gemm(M, N, K, ta, tb, ops::Epilogue{}, false, rng);
            if (!problem.empty() && ++failures <= 10) {
              INFO("trans_a=" << ta << " trans_b=" << tb << " M=" << M << " N=" << N << " K=" << K);
              CHECK_MESSAGE(problem.empty(), problem);
            }
          }
  CHECK(failures == 0);
}

TEST_CASE("kernels: gemm epilogue adds the bias to every row, then applies the activation") {
  std::mt19937 rng(102);
  for (ops::Act act : kActs)
    for (int M : {1, 3, 17, 64})
      for (int N : {1, 7, 33, 100})
        for (int K : {1, 2, 17, 64})
          for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb) {
              const std::string act_str = act_name(act);
              INFO("act=" << act_str << " M=" << M << " N=" << N << " K=" << K << " ta=" << ta
                          << " tb=" << tb);
              ops::Epilogue ep;
              ep.act = act;
              std::string with_bias = check_gemm(M, N, K, ta, tb, ep, true, rng);
              CHECK_MESSAGE(with_bias.empty(), "with bias: " << with_bias);
              std::string without = check_gemm(M, N, K, ta, tb, ep, false, rng);
              CHECK_MESSAGE(without.empty(), "without bias: " << without);
            }
}

TEST_CASE("kernels: gemm with accumulate adds A*B + bias to what C held") {
  std::mt19937 rng(103);
  for (int M : {1, 2, 7, 33, 100})
    for (int N : {1, 3, 17, 64})
      for (int K : {1, 3, 33, 100})
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb) {
            INFO("M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb);
            ops::Epilogue ep;
            ep.accumulate = true;
            std::string with_bias = check_gemm(M, N, K, ta, tb, ep, true, rng);
            CHECK_MESSAGE(with_bias.empty(), "with bias: " << with_bias);
            std::string without = check_gemm(M, N, K, ta, tb, ep, false, rng);
            CHECK_MESSAGE(without.empty(), "without bias: " << without);
          }
}

// The activation applies to the whole sum, old C included: the epilogue runs
// once on the finished tile, so a residual can be accumulated before it.
TEST_CASE("kernels: gemm with accumulate and an activation stores act(C_old + A*B + bias)") {
  std::mt19937 rng(104);
  for (ops::Act act : {ops::Act::GeluTanh, ops::Act::GeluErf, ops::Act::Relu})
    for (int M : {1, 7, 33})
      for (int N : {1, 17, 64})
        for (int K : {1, 33}) {
          const std::string act_str = act_name(act);
          INFO("act=" << act_str << " M=" << M << " N=" << N << " K=" << K);
          ops::Epilogue ep;
          ep.accumulate = true;
          ep.act = act;
          std::string problem = check_gemm(M, N, K, false, true, ep, true, rng);
          CHECK_MESSAGE(problem.empty(), problem);
        }
}

TEST_CASE("kernels: gemm with K = 1 is an outer product") {
  // Spelled out by hand: a = [1, 2, 3]^T, b = [4, 5], C = a b.
  const float a[] = {1, 2, 3}, b[] = {4, 5};
  float c[6] = {};
  ops::gemm(nullptr, 3, 2, 1, a, 1, false, b, 2, false, c, 2);
  const float want[] = {4, 5, 8, 10, 12, 15};
  for (int i = 0; i < 6; ++i) CHECK(c[i] == want[i]);
}

TEST_CASE("kernels: linear computes x W^T + bias then the activation, W stored [out x in]") {
  std::mt19937 rng(105);
  for (ops::Act act : kActs)
    for (int n : {1, 5, 64})
      for (int in : {1, 7, 64})
        for (int out : {1, 17, 100}) {
          const std::string act_str = act_name(act);
          INFO("act=" << act_str << " n=" << n << " in=" << in << " out=" << out);
          Strided x(n, in, 3, rng);
          Strided w(out, in, 0, rng);
          Strided bias(1, out, 0, rng);
          Strided y(n, out, 5, rng);
          ops::linear(nullptr, n, in, out, x.data(), x.ld, w.data(), bias.data(), y.data(), y.ld, act);
          double worst = 0;
          for (int i = 0; i < n; ++i)
            for (int o = 0; o < out; ++o) {
              double s = bias.at(0, o), mag = std::fabs(s);
              for (int k = 0; k < in; ++k)
                s += (double)x.at(i, k) * w.at(o, k), mag += std::fabs(x.at(i, k) * w.at(o, k));
              double err = std::fabs(y.at(i, o) - act_ref(s, act)) / (1e-7 * (in + 16) * mag + 1e-6);
              worst = std::max(worst, std::isnan(err) ? INFINITY : err);
            }
          CHECK(worst <= 1.0);
          CHECK(gaps_untouched(y));
        }
}

TEST_CASE("kernels: act_of maps each model activation to the kernel activation of the same name") {
  CHECK(ops::act_of(nystrom::Activation::GeluTanh) == ops::Act::GeluTanh);
  CHECK(ops::act_of(nystrom::Activation::GeluErf) == ops::Act::GeluErf);
  CHECK(ops::act_of(nystrom::Activation::Relu) == ops::Act::Relu);
}

TEST_CASE("kernels: softmax_rows normalises each row's first cols entries and leaves the stride gap alone") {
  std::mt19937 rng(106);
  for (int rows : {1, 3, 17})
    for (int cols : {1, 2, 7, 16, 33, 100, 257}) {
      INFO("rows=" << rows << " cols=" << cols);
      // Wide range of logits, with an offset so that exp without the max
      // subtracted would overflow.
      Strided x(rows, cols, 9, rng, -30.0f, 30.0f);
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) x.at(i, j) += 500.0f;
      Strided orig = x;
      ops::softmax_rows(x.data(), rows, cols, x.ld);
      for (int i = 0; i < rows; ++i) {
        std::vector<double> row(cols);
        for (int j = 0; j < cols; ++j) row[j] = orig.at(i, j);
        std::vector<double> want = softmax_ref(row);
        double worst = 0, sum = 0;
        for (int j = 0; j < cols; ++j) {
          double e = std::fabs(x.at(i, j) - want[j]) - (1e-5 * want[j] + 1e-7);
          worst = std::max(worst, std::isnan(e) ? INFINITY : e);
          sum += x.at(i, j);
        }
        CHECK(worst <= 0.0);
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
      }
      CHECK(gaps_untouched(x));
    }
}

TEST_CASE("kernels: softmax_rows of equal logits is uniform") {
  std::vector<float> x(10, 3.25f);
  ops::softmax_rows(x.data(), 2, 5, 5);
  for (float v : x) CHECK(v == doctest::Approx(0.2).epsilon(1e-6));
}

namespace {

// LayerNorm(x + residual) * gamma + beta for one row, in double.
std::vector<double> layer_norm_ref(const float* x, const float* residual, int n, const float* gamma,
                                   const float* beta, float eps) {
  std::vector<double> v(n);
  double mean = 0;
  for (int i = 0; i < n; ++i) mean += (v[i] = (double)x[i] + (residual ? residual[i] : 0.0));
  mean /= n;
  double var = 0;
  for (int i = 0; i < n; ++i) var += (v[i] - mean) * (v[i] - mean);
  var /= n;
  for (int i = 0; i < n; ++i) v[i] = (v[i] - mean) / std::sqrt(var + eps) * gamma[i] + beta[i];
  return v;
}

enum class Alias { None, OutIsX, OutIsResidual };

void check_layer_norm(int rows, int cols, bool with_residual, Alias alias, std::mt19937& rng) {
  Strided x(rows, cols, 3, rng, -2.0f, 2.0f);
  Strided res(rows, cols, 3, rng, -2.0f, 2.0f);
  // A large common offset: a one-pass variance in float would lose it.
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) x.at(i, j) += 100.0f;
  Strided gamma(1, cols, 0, rng, 0.5f, 1.5f), beta(1, cols, 0, rng);
  Strided out(rows, cols, 3, rng);
  const Strided x0 = x, res0 = res;
  float* dst = alias == Alias::OutIsX ? x.data() : alias == Alias::OutIsResidual ? res.data() : out.data();
  const float eps = 1e-5f;
  ops::layer_norm_rows(x.data(), with_residual ? res.data() : nullptr, dst, rows, cols, x.ld, gamma.data(),
                       beta.data(), eps);
  const Strided& got = alias == Alias::OutIsX ? x : alias == Alias::OutIsResidual ? res : out;
  double worst = 0;
  for (int i = 0; i < rows; ++i) {
    std::vector<double> want =
        layer_norm_ref(&x0.v[(size_t)i * x0.ld], with_residual ? &res0.v[(size_t)i * res0.ld] : nullptr, cols,
                       gamma.data(), beta.data(), eps);
    for (int j = 0; j < cols; ++j) {
      double e = std::fabs(got.at(i, j) - want[j]);
      worst = std::max(worst, std::isnan(e) ? INFINITY : e);
    }
  }
  CHECK(worst <= 2e-4);  // values are O(1..3); ~1e-5 relative of an input near 100
  CHECK(gaps_untouched(got));
}

}  // namespace

TEST_CASE(
    "kernels: layer_norm_rows normalises x (+ residual) per row, also when out aliases x or the residual") {
  std::mt19937 rng(107);
  for (int rows : {1, 4, 9})
    for (int cols : {2, 3, 7, 16, 64, 100, 128}) {  // one column: see the constant-row case
      INFO("rows=" << rows << " cols=" << cols);
      {
        INFO("no residual, separate out");
        check_layer_norm(rows, cols, false, Alias::None, rng);
      }
      {
        INFO("residual, separate out");
        check_layer_norm(rows, cols, true, Alias::None, rng);
      }
      {
        INFO("no residual, out aliases x");
        check_layer_norm(rows, cols, false, Alias::OutIsX, rng);
      }
      {
        INFO("residual, out aliases x");
        check_layer_norm(rows, cols, true, Alias::OutIsX, rng);
      }
      {
        INFO("residual, out aliases residual");
        check_layer_norm(rows, cols, true, Alias::OutIsResidual, rng);
      }
    }
}

TEST_CASE("kernels: layer_norm_rows of a constant row gives beta (variance 0 is guarded by eps)") {
  const float x[4] = {7, 7, 7, 7}, gamma[4] = {1, 2, 3, 4}, beta[4] = {0.5f, -1, 0, 2};
  float out[4];
  ops::layer_norm_rows(x, nullptr, out, 1, 4, 4, gamma, beta, 1e-5f);
  for (int i = 0; i < 4; ++i) CHECK(out[i] == doctest::Approx(beta[i]).epsilon(1e-6));
}

TEST_CASE("kernels: activate applies each activation element-wise, at every length") {
  std::mt19937 rng(108);
  for (ops::Act act : kActs)
    for (size_t n : {1, 2, 7, 8, 15, 16, 17, 31, 33, 64, 1000}) {
      const std::string act_str = act_name(act);
      INFO("act=" << act_str << " n=" << n);
      std::vector<float> x = Strided(1, (int)n, 0, rng, -8.0f, 8.0f).v;
      if (n >= 7) x[0] = 0.0f, x[1] = -0.0f, x[2] = 1e-3f, x[3] = -1e-3f, x[4] = 20.0f, x[5] = -20.0f;
      std::vector<float> y = x;
      ops::activate(y.data(), n, act);
      double worst = 0;
      for (size_t i = 0; i < n; ++i) {
        double want = act_ref(x[i], act);
        double e = std::fabs(y[i] - want) / (2e-6 * std::fabs(want) + 1e-6);
        worst = std::max(worst, std::isnan(e) ? INFINITY : e);
      }
      CHECK(worst <= 1.0);
    }
}

TEST_CASE("kernels: activate gives the textbook values at a few points") {
  float x[4] = {1.0f, 1.0f, 1.0f, -1.0f};
  ops::activate(x + 0, 1, ops::Act::GeluErf);
  ops::activate(x + 1, 1, ops::Act::GeluTanh);
  ops::activate(x + 2, 1, ops::Act::None);
  ops::activate(x + 3, 1, ops::Act::Relu);
  CHECK(x[0] == doctest::Approx(0.8413447460685429).epsilon(1e-6));  // Phi(1)
  CHECK(x[1] == doctest::Approx(0.8411919906082768).epsilon(1e-6));  // tanh form at 1
  CHECK(x[2] == 1.0f);
  CHECK(x[3] == 0.0f);
}

TEST_CASE("kernels: scale multiplies rows x cols entries and leaves the stride gap alone") {
  std::mt19937 rng(109);
  for (int rows : {1, 5, 64})
    for (int cols : {1, 3, 16, 33}) {
      INFO("rows=" << rows << " cols=" << cols);
      Strided x(rows, cols, 6, rng);
      Strided orig = x;
      ops::scale(x.data(), rows, cols, x.ld, 0.375f);
      bool ok = true;
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) ok &= x.at(i, j) == orig.at(i, j) * 0.375f;  // exact in binary
      CHECK(ok);
      CHECK(gaps_untouched(x));
    }
}

namespace {

// SPEC 2 step 1, written out: s = floor(n/m), r = (s+1) m - n; the first r
// segments hold s rows, the rest s + 1 (with m | n, r = m: all s).
std::vector<int> segment_lengths(int n, int m) {
  int s = n / m, r = (s + 1) * m - n;
  std::vector<int> len(m);
  for (int j = 0; j < m; ++j) len[j] = j < r ? s : s + 1;
  return len;
}

void check_segment_means(int n, int m, int cols, std::mt19937& rng) {
  Strided x(n, cols, 5, rng);
  Strided out(m, cols, 3, rng);
  ops::segment_means(x.data(), n, cols, x.ld, m, out.data(), out.ld);
  std::vector<int> len = segment_lengths(n, m);
  int start = 0;
  double worst = 0;
  for (int j = 0; j < m; ++j) {
    for (int c = 0; c < cols; ++c) {
      double s = 0;
      for (int t = start; t < start + len[j]; ++t) s += x.at(t, c);
      double e = std::fabs(out.at(j, c) - s / len[j]);
      worst = std::max(worst, std::isnan(e) ? INFINITY : e);
    }
    start += len[j];
  }
  REQUIRE(start == n);
  CHECK(worst <= 1e-6);
  CHECK(gaps_untouched(out));
}

}  // namespace

TEST_CASE(
    "kernels: segment lengths follow the uneven rule: first r = (s+1)m - n segments hold s = n/m tokens") {
  // Hand-worked: n = 13, m = 8 -> s = 1, r = 3: 1,1,1,2,2,2,2,2.
  CHECK(segment_lengths(13, 8) == std::vector<int>{1, 1, 1, 2, 2, 2, 2, 2});
  CHECK(segment_lengths(64, 8) == std::vector<int>(8, 8));
  // Seen through the kernel: a column holding the row index gives each segment's mean index.
  std::vector<float> x(13);
  for (int t = 0; t < 13; ++t) x[t] = (float)t;
  std::vector<float> out(8);
  ops::segment_means(x.data(), 13, 1, 1, 8, out.data(), 1);
  const float want[] = {0, 1, 2, 3.5f, 5.5f, 7.5f, 9.5f, 11.5f};
  for (int j = 0; j < 8; ++j) CHECK(out[j] == want[j]);
}

TEST_CASE("kernels: segment_means averages contiguous segments for even and uneven n, m = n and m = 1") {
  std::mt19937 rng(110);
  struct Case {
    int n, m;
  };
  for (Case k : {Case{64, 8}, Case{256, 16}, Case{13, 8}, Case{9, 8}, Case{63, 8}, Case{37, 5}, Case{255, 16},
                 Case{100, 7}, Case{17, 16}, Case{8, 8}, Case{1, 1}, Case{5, 1}, Case{100, 1}, Case{33, 33}})
    for (int cols : {1, 16, 33}) {
      INFO("n=" << k.n << " m=" << k.m << " cols=" << cols);
      check_segment_means(k.n, k.m, cols, rng);
    }
}

TEST_CASE(
    "kernels: depthwise_conv_add adds sum_k w[k] v[t+k-K/2] with zeros outside the sequence, also when n < "
    "K") {
  std::mt19937 rng(111);
  for (int K : {1, 3, 9, 33})
    for (int n : {1, 2, 5, 17, 64})
      for (int cols : {1, 16, 32}) {
        INFO("K=" << K << " n=" << n << " cols=" << cols);
        Strided v(n, cols, 4, rng);
        Strided w(1, K, 0, rng);
        Strided out(n, cols, 2, rng);  // nonzero: the kernel adds to it
        Strided before = out;
        ops::depthwise_conv_add(v.data(), n, cols, v.ld, w.data(), K, out.data(), out.ld);
        double worst = 0;
        for (int t = 0; t < n; ++t)
          for (int c = 0; c < cols; ++c) {
            double s = before.at(t, c);
            for (int k = 0; k < K; ++k) {
              int src = t + k - K / 2;
              if (src >= 0 && src < n) s += (double)w.at(0, k) * v.at(src, c);
            }
            double e = std::fabs(out.at(t, c) - s);
            worst = std::max(worst, std::isnan(e) ? INFINITY : e);
          }
        CHECK(worst <= 1e-5);
        CHECK(gaps_untouched(out));
      }
}

TEST_CASE("kernels: depthwise_conv_add is a cross-correlation (no kernel flip)") {
  // v = [1, 0, 0], w = [a, b, c]: out[t] = sum_k w[k] v[t+k-1], so out[0] = b
  // (v[0] under the centre) and out[1] = a (v[0] under the first tap).
  const float v[3] = {1, 0, 0}, w[3] = {2, 3, 5};
  float out[3] = {0, 0, 0};
  ops::depthwise_conv_add(v, 3, 1, 1, w, 3, out, 1);
  CHECK(out[0] == 3.0f);
  CHECK(out[1] == 2.0f);
  CHECK(out[2] == 0.0f);
}

TEST_CASE("kernels: max_column_sum is the largest sum down a column (not along a row)") {
  // Row sums are 6 and 4; column sums 1+3 = 4, 5+0 = 5, 0+1 = 1 -> 5.
  const float a3[9] = {1, 5, 0, 3, 0, 1, 0, 0, 0};
  CHECK(ops::max_column_sum(a3, 3) == 5.0f);
  std::mt19937 rng(112);
  for (int m : {1, 2, 7, 16, 64}) {
    CAPTURE(m);
    std::vector<float> a = softmax_matrix(m, rng, 2.0f, 1.0f);
    double best = 0;
    for (int j = 0; j < m; ++j) {
      double s = 0;
      for (int i = 0; i < m; ++i) s += a[(size_t)i * m + j];
      best = std::max(best, s);
    }
    CHECK(ops::max_column_sum(a.data(), m) == doctest::Approx(best).epsilon(1e-6));
  }
}

TEST_CASE("kernels: nystrom_pinv of a well-conditioned softmax matrix is a pseudo-inverse: A Z A = A") {
  std::mt19937 rng(113);
  for (int m : {1, 2, 3, 8, 16, 33, 64}) {
    CAPTURE(m);
    std::vector<float> a = softmax_matrix(m, rng, 5.0f, 0.5f);
    float c = ops::max_column_sum(a.data(), m);
    std::vector<float> z((size_t)m * m, kNaN), work((size_t)3 * m * m, kNaN);
    ops::nystrom_pinv(nullptr, a.data(), m, c, 6, z.data(), work.data());
    double worst = 0;
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) {
        double s = 0;
        for (int k = 0; k < m; ++k)
          for (int l = 0; l < m; ++l)
            s += (double)a[(size_t)i * m + k] * z[(size_t)k * m + l] * a[(size_t)l * m + j];
        double e = std::fabs(s - a[(size_t)i * m + j]);
        worst = std::max(worst, std::isnan(e) ? INFINITY : e);
      }
    CHECK(worst <= 1e-4);
  }
}

TEST_CASE(
    "kernels: nystrom_pinv equals six double-precision iterations from Z0 = A^T / c within 1e-4 relative") {
  std::mt19937 rng(114);
  for (int m : {1, 2, 3, 8, 16, 33, 64})
    for (float noise : {0.5f, 1.5f}) {
      INFO("m=" << m << " noise=" << noise);
      std::vector<float> a = softmax_matrix(m, rng, 4.0f, noise);
      // c larger than the column sum (as when another head's sum is larger):
      // the result depends on c, and the kernel must use the one it is given.
      const float c = ops::max_column_sum(a.data(), m) * 1.25f;
      std::vector<float> z((size_t)m * m, kNaN), work((size_t)3 * m * m, kNaN);
      ops::nystrom_pinv(nullptr, a.data(), m, c, 6, z.data(), work.data());
      std::vector<double> ad(a.begin(), a.end());
      std::vector<double> want = pinv_ref(ad, m, c, 6);
      double max_abs = 0, max_ref = 0;
      for (size_t e = 0; e < want.size(); ++e) {
        double d = std::fabs(z[e] - want[e]);
        max_abs = std::max(max_abs, std::isnan(d) ? INFINITY : d);
        max_ref = std::max(max_ref, std::fabs(want[e]));
      }
      INFO("max |diff| " << max_abs << ", max |Z| " << max_ref);
      CHECK(max_abs <= 1e-4 * max_ref);
    }
}

TEST_CASE("kernels: nystrom_pinv runs exactly the requested number of iterations") {
  // With 0 iterations Z is Z0 = A^T / c itself.
  std::mt19937 rng(115);
  const int m = 5;
  std::vector<float> a = softmax_matrix(m, rng, 2.0f, 1.0f);
  std::vector<float> z(m * m, kNaN), work(3 * m * m, kNaN);
  ops::nystrom_pinv(nullptr, a.data(), m, 2.0f, 0, z.data(), work.data());
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) CHECK(z[i * m + j] == doctest::Approx(a[j * m + i] / 2.0f).epsilon(1e-6));
  // One iteration differs from zero and from six.
  std::vector<double> ad(a.begin(), a.end());
  std::vector<double> one = pinv_ref(ad, m, 2.0, 1);
  ops::nystrom_pinv(nullptr, a.data(), m, 2.0f, 1, z.data(), work.data());
  for (int e = 0; e < m * m; ++e) CHECK(z[e] == doctest::Approx(one[e]).epsilon(1e-4).scale(1.0));
}

TEST_CASE("kernels: nystrom_pinv gives the bits of the formula written out, T = dI - P T by loops and Z scaled first") {
  // The function folds the subtractions from dI into its products'
  // epilogues and applies Z's 0.25 after the product; both must round as
  // the plain steps do, for any size (tiles and tails of every level).
  std::mt19937 rng(116);
  for (int m : {1, 5, 13, 32, 64, 77}) {
    CAPTURE(m);
    const std::vector<float> a = softmax_matrix(m, rng, 2.0f, 1.0f);
    const float c = ops::max_column_sum(a.data(), m);
    const size_t mm = (size_t)m * m;
    std::vector<float> z(mm), p(mm), t(mm), u(mm);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) z[i * m + j] = a[j * m + i] * (1.0f / c);
    auto d_minus = [&](const std::vector<float>& src, float d) {
      for (size_t e = 0; e < mm; ++e) t[e] = -src[e];
      for (int i = 0; i < m; ++i) t[i * m + i] += d;
    };
    for (int it = 0; it < 6; ++it) {
      ops::gemm(nullptr, m, m, m, a.data(), m, false, z.data(), m, false, p.data(), m);
      d_minus(p, 7.0f);
      ops::gemm(nullptr, m, m, m, p.data(), m, false, t.data(), m, false, u.data(), m);
      d_minus(u, 15.0f);
      ops::gemm(nullptr, m, m, m, p.data(), m, false, t.data(), m, false, u.data(), m);
      d_minus(u, 13.0f);
      for (float& v : z) v *= 0.25f;
      ops::gemm(nullptr, m, m, m, z.data(), m, false, t.data(), m, false, u.data(), m);
      z = u;
    }
    std::vector<float> got(mm, kNaN), work(3 * mm, kNaN);
    ops::nystrom_pinv(nullptr, a.data(), m, c, 6, got.data(), work.data());
    for (size_t e = 0; e < mm; ++e) {
      CAPTURE(e);
      CHECK(got[e] == z[e]);
    }
  }
}
