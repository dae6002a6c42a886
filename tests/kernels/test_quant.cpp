// Block quantization (kernels/quant.h) on every dispatch level this CPU runs:
//  - the q8_0 quantizer follows the rule of include/nystrom/format.h
//    (hand-worked blocks, ties, zero blocks); the q4_0 quantizer's scale
//    search finds a better d than the classic rule where one exists, is
//    never worse than it on random blocks of several kinds, and keeps it
//    for zero and non-finite blocks; both round-trip within half a step
//    (of the classic d, for q4_0); the dequantizers read the layout back;
//  - each table's activation quantizer gives exactly the bytes, scales and
//    offset corrections of quantize_row_q8_act;
//  - each table's f16 row conversion matches format/half.h on all 65536
//    patterns;
//  - qgemm (packing, blocking, threads, micro-kernels, epilogue) matches
//    qgemm_reference on shapes that straddle the register tiles and cache
//    blocks, and gives the same bits for every thread count.
//
// Tolerance of qgemm. Both sides quantize x identically and form the same
// exact integer dot products per block of 32, so they differ only in
// float rounding: the kernel sums the nb = K/32 block terms
// isum * (d_w * d_x) (one rounding in the scale product, one per FMA),
// then the old y, the bias and (after the activation) the scale, while the
// reference sums in double and rounds once. With S = sum_b |d_x d_w isum|
// + |y_old| + |bias| that is at most gamma_{nb+4} S apart (Higham 3.1; the
// bound taken twice for margin). An activation stretches the difference by
// its largest slope (1.13 for GELU) and adds its own approximation error
// (1e-6 + 2 ulp, tests/kernels/test_row_kernels); the scale multiplies all of it
// and rounds once more.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "format/half.h"
#include "kernel_support.h"
#include "kernels/dispatch.h"
#include "kernels/quant.h"
#include "runtime/thread_pool.h"
#include "support.h"

using nystrom::BlockQ4_0;
using nystrom::BlockQ8_0;
using nystrom::Isa;
using nystrom::KernelTable;
using nystrom::format::DType;
using nystrom::ops::Act;
using nystrom::ops::Epilogue;

namespace {

// ---------------------------------------------------------------------------
// Helpers

using test::act_name;
using test::is_sentinel;
using test::kUnit;
using test::sentinel;
using test::two_gamma;

bool same_bits(const void* a, const void* b, size_t bytes) { return std::memcmp(a, b, bytes) == 0; }

// A weight matrix [N x K] quantized by the reference quantizer.
struct QuantWeights {
  DType dtype;
  int rows, cols;
  std::vector<BlockQ8_0> q8;
  std::vector<BlockQ4_0> q4;
  std::vector<uint8_t> q8c;  // q8_c: n * k codes, then n f32 scales
  QuantWeights(DType type, int n, int k, uint32_t seed) : dtype(type), rows(n), cols(k) {
    const std::vector<float> w = test::random_vector((size_t)n * k, seed);
    const size_t blocks = (size_t)n * k / 32;
    if (type == DType::Q8_C) {
      q8c.resize((size_t)n * (k + 4));
      for (int j = 0; j < n; ++j)
        nystrom::quantize_matrix_row_q8_c(w.data() + (size_t)j * k, n, k, j, q8c.data());
    } else if (type == DType::Q8_0) {
      q8.resize(blocks);
      for (int j = 0; j < n; ++j) nystrom::quantize_row_q8_0(w.data() + (size_t)j * k, q8.data() + (size_t)j * k / 32, k);
    } else {
      q4.resize(blocks);
      for (int j = 0; j < n; ++j) nystrom::quantize_row_q4_0(w.data() + (size_t)j * k, q4.data() + (size_t)j * k / 32, k);
    }
  }
  // q8_c weights quantized from the given rows (for hand-made extremes).
  QuantWeights(int n, int k, const std::vector<float>& w) : dtype(DType::Q8_C), rows(n), cols(k) {
    q8c.resize((size_t)n * (k + 4));
    for (int j = 0; j < n; ++j)
      nystrom::quantize_matrix_row_q8_c(w.data() + (size_t)j * k, n, k, j, q8c.data());
  }
  nystrom::QuantMatrixView view() const {
    if (dtype == DType::Q8_C) return {dtype, rows, cols, q8c.data()};
    return {dtype, rows, cols, dtype == DType::Q8_0 ? (const void*)q8.data() : (const void*)q4.data()};
  }
  // Weight k of row j as an integer, and the scale of its block (q8_c: of its row).
  int value(int j, int k) const {
    if (dtype == DType::Q8_C) return (int8_t)q8c[(size_t)j * cols + k];
    const size_t blk = ((size_t)j * cols + k) / 32;
    if (dtype == DType::Q8_0) return q8[blk].qs[k % 32];
    const uint8_t byte = q4[blk].qs[k % 16];
    return (k % 32 < 16 ? byte & 15 : byte >> 4) - 8;
  }
  float scale(int j, int b) const {
    if (dtype == DType::Q8_C) {
      float s;
      std::memcpy(&s, &q8c[(size_t)rows * cols + 4 * j], 4);
      return s;
    }
    const size_t blk = (size_t)j * cols / 32 + b;
    return nystrom::f16_to_float(dtype == DType::Q8_0 ? q8[blk].d : q4[blk].d);
  }
};

// One qgemm problem: x [M x K] (leading dimension K + 5, the gaps NaN), the
// old y and the bias; y has leading dimension N + 3 and a guard row above
// and below, all sentinel outside the M x N corner.
struct Problem {
  int M, N, K;
  Epilogue ep;
  std::vector<float> x, y0, bias;
  int ldx() const { return K + 5; }
  int ldy() const { return N + 3; }

  Problem(int m, int n, int k, bool with_bias, Act act, bool accumulate, float scale, uint32_t seed)
      : M(m), N(n), K(k) {
    const std::vector<float> xs = test::random_vector((size_t)M * K, seed);
    x.assign((size_t)M * ldx(), NAN);
    for (int i = 0; i < M; ++i)
      for (int kk = 0; kk < K; ++kk) x[(size_t)i * ldx() + kk] = xs[(size_t)i * K + kk];
    y0 = test::random_vector((size_t)M * N, seed + 1);
    bias = test::random_vector((size_t)N, seed + 2);
    ep.bias = with_bias ? bias.data() : nullptr;
    ep.act = act;
    ep.accumulate = accumulate;
    ep.scale = scale;
  }

  std::string describe() const {
    return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
           " bias=" + (ep.bias ? "yes" : "no") + " act=" + act_name(ep.act) +
           " accumulate=" + (ep.accumulate ? "yes" : "no") + " scale=" + std::to_string(ep.scale);
  }

  std::vector<float> initial_y() const {
    std::vector<float> y((size_t)(M + 2) * ldy(), sentinel());
    if (ep.accumulate)
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) y[(size_t)(i + 1) * ldy() + j] = y0[(size_t)i * N + j];
    return y;
  }
};

// The reference result (laid out as Problem::initial_y) and each element's
// tolerance (the header comment derives it).
struct Expected {
  std::vector<float> y;
  std::vector<double> tol;
};

Expected expected(const Problem& p, const QuantWeights& w) {
  Expected e;
  const int ldy = p.ldy(), nb = p.K / 32;
  e.y = p.initial_y();
  nystrom::qgemm_reference(p.M, p.x.data(), p.ldx(), w.view(), e.y.data() + ldy, ldy, p.ep);

  const bool gelu = p.ep.act == Act::GeluTanh || p.ep.act == Act::GeluErf;
  const double slope = gelu ? 1.13 : 1.0;
  e.tol.assign(e.y.size(), 0.0);
  std::vector<int8_t> qa(p.K);
  std::vector<float> da(nb + 1);  // q8_c: one, even for K = 0
  std::vector<int32_t> corr(nb + 1);
  // q8_c: one term per output, whose int32 sum is rounded once more when
  // converted to float (it may pass 2^24).
  const bool per_channel = w.dtype == DType::Q8_C;
  const int nterms = per_channel ? 1 : nb, nscales = per_channel ? 1 : nb;
  // The weights' integers once, read through plain pointers below: the
  // sanitized suites build this file at -O0, where each value() and
  // operator[] call in the inner loop is a call (under TSan, an
  // instrumented one), most of this case's time there.
  std::vector<int8_t> wq((size_t)p.N * p.K);
  for (int j = 0; j < p.N; ++j)
    for (int k = 0; k < p.K; ++k) wq[(size_t)j * p.K + k] = (int8_t)w.value(j, k);
  for (int i = 0; i < p.M; ++i) {
    if (per_channel)
      nystrom::quantize_row_q8c_act(&p.x[(size_t)i * p.ldx()], p.K, qa.data(), da.data(), corr.data());
    else
      nystrom::quantize_row_q8_act(&p.x[(size_t)i * p.ldx()], p.K, qa.data(), da.data(), corr.data());
    for (int j = 0; j < p.N; ++j) {
      double terms = 0.0;  // S
      for (int b = 0; b < nscales; ++b) {
        long isum = 0;
        const int k0 = per_channel ? 0 : 32 * b, k1 = per_channel ? p.K : 32 * b + 32;
        const int8_t *a_row = qa.data(), *w_row = wq.data() + (size_t)j * p.K;
        for (int k = k0; k < k1; ++k) isum += (long)a_row[k] * w_row[k];
        terms += std::fabs((double)da[b] * w.scale(j, b) * (double)isum);
      }
      if (p.ep.accumulate) terms += std::fabs(p.y0[(size_t)i * p.N + j]);
      if (p.ep.bias) terms += std::fabs(p.bias[j]);
      const size_t idx = (size_t)(i + 1) * ldy + j;
      double tol = slope * two_gamma(nterms + 4 + (per_channel ? 1 : 0)) * terms;
      if (gelu) tol += 1e-6 + 2.5e-7 * std::fabs(e.y[idx] / p.ep.scale);
      e.tol[idx] = std::fabs(p.ep.scale) * tol + 2.0 * kUnit * std::fabs(e.y[idx]);
    }
  }
  return e;
}

std::vector<float> run_qgemm(const KernelTable& t, nystrom::ThreadPool* pool, const Problem& p,
                             const nystrom::PackedQuantMatrix& packed) {
  std::vector<float> y = p.initial_y();
  nystrom::qgemm(t, pool, p.M, p.x.data(), p.ldx(), packed, y.data() + p.ldy(), p.ldy(), p.ep);
  return y;
}

// Compares one qgemm result with the reference (test::check_corner).
void check_against(const Expected& e, const std::vector<float>& got, const Problem& p, const std::string& what) {
  test::check_corner(got, e.y, e.tol, p.M, p.N, (size_t)p.ldy(), what + ", " + p.describe());
}

// qgemm of every table and pool against one reference result, and the same
// bits from every pool as from none.
void check_problem(const Problem& p, DType dtype, const std::vector<nystrom::ThreadPool*>& pools, uint32_t seed) {
  const QuantWeights w(dtype, p.N, p.K, seed);
  const Expected e = expected(p, w);
  for (const KernelTable* t : test::levels()) {
    const nystrom::PackedQuantMatrix packed(*t, w.view());
    const std::vector<float> alone = run_qgemm(*t, nullptr, p, packed);
    const std::string what = std::string(nystrom::isa_name(t->isa)) + " " + nystrom::format::dtype_name(dtype);
    check_against(e, alone, p, what + " threads=none");
    // The thread split is qgemm.cpp's, the same code for every level, so
    // emulated or sanitized (test::emulated_or_sanitized()) only the level
    // the CPU would run walks it; the native suite runs every level's
    // repeats. Under ASan and TSan (-O1) the other levels' repeats were
    // 3/4 of this case's time (24 -> 15 s and 49 -> 34 s without the
    // scalar level's alone).
    if (t != test::levels().back() && test::emulated_or_sanitized()) continue;
    for (nystrom::ThreadPool* pool : pools) {
      const std::vector<float> got = run_qgemm(*t, pool, p, packed);
      INFO(what << " threads=" << pool->size() << ", " << p.describe());
      CHECK(same_bits(got.data(), alone.data(), got.size() * sizeof(float)));
    }
  }
}

std::vector<std::unique_ptr<nystrom::ThreadPool>> make_pools() {
  std::vector<std::unique_ptr<nystrom::ThreadPool>> pools;
  for (int n : {1, 2, 3}) pools.push_back(std::make_unique<nystrom::ThreadPool>(n));
  return pools;
}

std::vector<nystrom::ThreadPool*> raw(const std::vector<std::unique_ptr<nystrom::ThreadPool>>& pools) {
  std::vector<nystrom::ThreadPool*> out;
  for (const auto& p : pools) out.push_back(p.get());
  return out;
}

std::vector<float> zeros_with(std::initializer_list<std::pair<int, float>> values) {
  std::vector<float> x(32, 0.0f);
  for (const auto& [i, v] : values) x[i] = v;
  return x;
}

}  // namespace

// ---------------------------------------------------------------------------
// Quantizers

TEST_CASE("q8_0 quantization takes d = max|x| / 127, rounds x / d half away from zero, stores d as f16") {
  SUBCASE("a block whose largest magnitude is 127 has d = 1, and halves round away from zero") {
    const std::vector<float> x = zeros_with({{0, 127.0f}, {1, 2.5f}, {2, -2.5f}, {3, 0.5f}, {4, -0.5f},
                                             {5, 1.4999999f}, {6, -126.5f}, {7, 63.5f}, {31, -0.49f}});
    BlockQ8_0 b;
    nystrom::quantize_row_q8_0(x.data(), &b, 32);
    CHECK(b.d == 0x3C00);  // 1.0
    const int8_t want[32] = {127, 3, -3, 1, -1, 1, -127, 64};
    for (int i = 0; i < 32; ++i) {
      CAPTURE(i);
      CHECK(b.qs[i] == want[i]);
    }
  }
  SUBCASE("a negative extreme gives a positive d, the extreme itself -127") {
    const std::vector<float> x = zeros_with({{3, -63.5f}, {4, 0.25f}, {5, -0.75f}});  // d = 0.5
    BlockQ8_0 b;
    nystrom::quantize_row_q8_0(x.data(), &b, 32);
    CHECK(b.d == 0x3800);  // 0.5
    CHECK(b.qs[3] == -127);
    CHECK(b.qs[4] == 1);   // 0.5 rounds away from zero
    CHECK(b.qs[5] == -2);  // -1.5 too
  }
  SUBCASE("d is rounded to f16 after q is computed with d in float") {
    // d = 1 / 127 = 0.0078740157..; f16 keeps 2^-7 (1 + 8/1024) = 0x2008.
    const std::vector<float> x = zeros_with({{0, 1.0f}, {1, -1.0f}});
    BlockQ8_0 b;
    nystrom::quantize_row_q8_0(x.data(), &b, 32);
    CHECK(b.d == 0x2008);
    CHECK(b.qs[0] == 127);
    CHECK(b.qs[1] == -127);
  }
  SUBCASE("a zero block has d = 0 and q = 0") {
    std::vector<float> x(64, 0.0f);
    x[40] = -0.0f;
    BlockQ8_0 b[2];
    std::memset(b, 0x55, sizeof b);
    nystrom::quantize_row_q8_0(x.data(), b, 64);
    for (const BlockQ8_0& blk : b) {
      CHECK(blk.d == 0);
      for (int8_t q : blk.qs) CHECK(q == 0);
    }
  }
}

// The classic q4_0 rule (ggml's): v = the x of largest magnitude (the first
// on ties), d = v / -8, q = min(15, trunc(x / d + 8.5)), 8 when d == 0.
BlockQ4_0 classic_q4_0(const float* x) {
  float amax = 0.0f, v = 0.0f;
  for (int i = 0; i < 32; ++i)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), v = x[i];
  const float d = v / -8.0f;
  uint8_t q[32];
  for (int i = 0; i < 32; ++i) {
    const float t = d == 0.0f ? 8.0f : x[i] / d + 8.5f;
    q[i] = t >= 15.0f ? 15 : t >= 0.0f ? (uint8_t)t : 0;
  }
  BlockQ4_0 b;
  b.d = nystrom::float_to_f16(d);
  for (int j = 0; j < 16; ++j) b.qs[j] = (uint8_t)(q[j] | (q[j + 16] << 4));
  return b;
}

// The error the q4_0 quantizer minimises: sum (x / v)^2 (x - y)^2, y the
// dequantized block, v the x of largest magnitude.
double weighted_error(const float* x, const BlockQ4_0& b) {
  float y[32], amax = 0.0f, v = 0.0f;
  nystrom::dequantize_row_q4_0(&b, y, 32);
  for (int i = 0; i < 32; ++i)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), v = x[i];
  double e = 0.0;
  for (int i = 0; i < 32; ++i) {
    const double r = (double)x[i] / v, diff = (double)x[i] - y[i];
    e += r * r * diff * diff;
  }
  return e;
}

TEST_CASE("q4_0 quantization picks each block's d and codes for the least (x/v)^2-weighted squared error") {
  SUBCASE("a hand-worked block: d = -1 codes it exactly, where the classic d = 7 / -8 cannot reach -7") {
    // Classic: d = -0.875 and -7 clamps to code 7 (-6.125). The search tries
    // d = v / t for t = -8, -7.75 .. -6.5 first; at t = -7, d = -1 codes every x
    // exactly (error 0), and a later exact candidate (t = 7, d = 1) is not
    // strictly better, so d = -1 stays.
    const std::vector<float> x = zeros_with({{0, 7.0f}, {1, -7.0f}, {2, 3.0f}, {3, -2.0f}, {16, 1.0f}, {31, -5.0f}});
    BlockQ4_0 b;
    nystrom::quantize_row_q4_0(x.data(), &b, 32);
    CHECK(b.d == 0xBC00);  // -1.0
    uint8_t q[32];
    for (int i = 0; i < 32; ++i) q[i] = 8;  // x = 0
    q[0] = 1, q[1] = 15, q[2] = 5, q[3] = 10, q[16] = 7, q[31] = 13;  // q = 8 - x
    for (int j = 0; j < 16; ++j) {
      CAPTURE(j);
      CHECK(b.qs[j] == (uint8_t)(q[j] | (q[j + 16] << 4)));
    }
    CHECK(weighted_error(x.data(), b) == 0.0);
    CHECK(weighted_error(x.data(), classic_q4_0(x.data())) > 0.0);
  }
  SUBCASE("blocks the classic rule codes exactly keep its d and codes") {
    // v = -8 first: d = 1, every x an integer in -8..7.
    const std::vector<float> x = zeros_with({{4, -8.0f}, {5, 1.0f}, {6, 7.0f}, {20, -3.0f}});
    BlockQ4_0 b;
    nystrom::quantize_row_q4_0(x.data(), &b, 32);
    const BlockQ4_0 c = classic_q4_0(x.data());
    CHECK(b.d == 0x3C00);
    CHECK(same_bits(&b, &c, sizeof b));
  }
  SUBCASE("never a larger weighted error than the classic rule, and less in total, on blocks of several kinds") {
    // Gaussian, uniform, heavy-tailed (Cauchy, cut at 50) and Gaussian with
    // one outlier of 30 sigma, at scales from f16's subnormal d upwards.
    std::mt19937 rng(5);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::uniform_real_distribution<float> unif(-1.0f, 1.0f);
    std::cauchy_distribution<float> heavy(0.0f, 1.0f);
    for (float scale : {1e-6f, 0.02f, 1.0f, 3000.0f}) {
      for (int kind = 0; kind < 4; ++kind) {
        double total_new = 0.0, total_classic = 0.0;
        int worse = 0;
        for (int blk = 0; blk < 300; ++blk) {
          float x[32];
          for (int i = 0; i < 32; ++i) {
            const float u = kind == 0 ? gauss(rng) : kind == 1 ? unif(rng) : kind == 2 ? std::max(-50.0f, std::min(50.0f, heavy(rng))) : 0.1f * gauss(rng);
            x[i] = scale * u;
          }
          if (kind == 3) x[blk % 32] = scale * (blk % 2 ? 3.0f : -3.0f);  // one outlier
          BlockQ4_0 b;
          nystrom::quantize_row_q4_0(x, &b, 32);
          const double e_new = weighted_error(x, b), e_classic = weighted_error(x, classic_q4_0(x));
          worse += e_new > e_classic;
          total_new += e_new;
          total_classic += e_classic;
        }
        CAPTURE(scale);
        CAPTURE(kind);
        CHECK(worse == 0);
        // One outlier dominates its block's weighted error, and the classic
        // d codes it exactly: there the search may rarely find better.
        if (kind != 3) CHECK(total_new < total_classic);
      }
    }
  }
  SUBCASE("a zero block keeps the classic d = 0 / -8 = -0 and every q = 8") {
    std::vector<float> x(32, 0.0f);
    x[3] = -0.0f;
    BlockQ4_0 b;
    nystrom::quantize_row_q4_0(x.data(), &b, 32);
    CHECK(b.d == 0x8000);
    for (uint8_t byte : b.qs) CHECK(byte == 0x88);
  }
  SUBCASE("a block with a NaN or an infinity keeps the classic rule's bytes") {
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      std::vector<float> x = test::random_vector(32, 9);
      x[12] = bad;
      BlockQ4_0 b;
      nystrom::quantize_row_q4_0(x.data(), &b, 32);
      const BlockQ4_0 c = classic_q4_0(x.data());
      CAPTURE(bad);
      CHECK(same_bits(&b, &c, sizeof b));
    }
  }
  SUBCASE("the same bytes for a row as for its blocks one at a time") {
    const std::vector<float> x = test::random_vector(32 * 8, 13, -2.0f, 2.0f);
    std::vector<BlockQ4_0> row(8), one(8);
    nystrom::quantize_row_q4_0(x.data(), row.data(), 32 * 8);
    for (int b = 0; b < 8; ++b) nystrom::quantize_row_q4_0(x.data() + 32 * b, &one[b], 32);
    CHECK(same_bits(row.data(), one.data(), sizeof(BlockQ4_0) * 8));
  }
}

TEST_CASE("q8_c quantization takes one scale per row, s = max|x| / 127 in f32, rounds x / s half away from zero") {
  SUBCASE("a row whose largest magnitude is 127 (in its second block) has s = 1, and halves round away from zero") {
    std::vector<float> x(64, 0.0f);
    const std::pair<int, float> values[] = {{40, 127.0f}, {1, 2.5f},  {2, -2.5f},     {3, 0.5f},
                                            {4, -0.5f},   {5, 63.5f}, {6, -126.5f}, {63, -0.49f}};
    for (auto [i, v] : values) x[i] = v;
    int8_t q[64];
    float s = -1.0f;
    const int32_t sum = nystrom::quantize_row_q8_c(x.data(), 64, q, &s);
    CHECK(s == 1.0f);
    std::vector<int> want(64, 0);
    const std::pair<int, int> codes[] = {{40, 127}, {1, 3}, {2, -3}, {3, 1}, {4, -1}, {5, 64}, {6, -127}};
    for (auto [i, c] : codes) want[i] = c;
    int32_t want_sum = 0;
    for (int i = 0; i < 64; ++i) {
      CAPTURE(i);
      CHECK(q[i] == want[i]);
      want_sum += want[i];
    }
    CHECK(sum == want_sum);
  }
  SUBCASE("the scale is kept in f32, below f16's range too, and is the row's, not a block's") {
    std::vector<float> x(96, 0.0f);
    x[0] = 1e-7f;     // a block of its own: q8_0 would give it its own d
    x[70] = 254e-6f;  // s = 2e-6
    int8_t q[96];
    float s;
    nystrom::quantize_row_q8_c(x.data(), 96, q, &s);
    CHECK(s == 254e-6f / 127.0f);
    CHECK(q[70] == 127);
    CHECK(q[0] == 0);  // 1e-7 / 2e-6 = 0.05 rounds to 0
  }
  SUBCASE("a zero row has s = 0 and q = 0") {
    std::vector<float> x(32, 0.0f);
    int8_t q[32];
    float s = -1.0f;
    CHECK(nystrom::quantize_row_q8_c(x.data(), 32, q, &s) == 0);
    CHECK(s == 0.0f);
    for (int8_t v : q) CHECK(v == 0);
  }
  SUBCASE("a row with an infinity or NaN has s = NaN and q = 0") {
    for (float bad : {INFINITY, -INFINITY, NAN}) {
      std::vector<float> x = test::random_vector(64, 3);
      x[50] = bad;
      int8_t q[64];
      float s = 0.0f;
      CHECK(nystrom::quantize_row_q8_c(x.data(), 64, q, &s) == 0);
      CHECK(std::isnan(s));
      for (int8_t v : q) CHECK(v == 0);
    }
  }
  SUBCASE("the activation quantizer gives the same codes and scale, and corr = -128 * sum q") {
    const std::vector<float> x = test::random_vector(96, 11, -3.0f, 5.0f);
    int8_t q[96], qa[96];
    float s, d;
    int32_t corr;
    const int32_t sum = nystrom::quantize_row_q8_c(x.data(), 96, q, &s);
    nystrom::quantize_row_q8c_act(x.data(), 96, qa, &d, &corr);
    CHECK(std::memcmp(q, qa, 96) == 0);
    CHECK(d == s);
    CHECK(corr == -128 * sum);
  }
}

TEST_CASE("q8_c quantize then dequantize stays within half a step of the row's scale") {
  for (float range : {1e-3f, 1.0f, 300.0f}) {
    const int K = 32 * 24;
    const std::vector<float> x = test::random_vector(K, 17, -range, range);
    std::vector<int8_t> q(K);
    std::vector<float> y(K);
    float s;
    nystrom::quantize_row_q8_c(x.data(), K, q.data(), &s);
    nystrom::dequantize_row_q8_c(q.data(), s, y.data(), K);
    float amax = 0.0f;
    for (float v : x) amax = std::max(amax, std::fabs(v));
    CHECK(s == amax / 127.0f);
    int bad = 0;
    for (int i = 0; i < K; ++i) bad += std::fabs(x[i] - y[i]) > 0.5 * s * (1 + 1e-6);
    CAPTURE(range);
    CHECK(bad == 0);
  }
}

TEST_CASE("dequantization reads d * q (q8_0) and d * (nibble - 8) (q4_0), element j + 16 in the high nibble") {
  BlockQ8_0 b8;
  b8.d = 0x3C00;  // 1
  for (int i = 0; i < 32; ++i) b8.qs[i] = (int8_t)(i * 8 - 128);
  float y[32];
  nystrom::dequantize_row_q8_0(&b8, y, 32);
  for (int i = 0; i < 32; ++i) CHECK(y[i] == (float)(i * 8 - 128));

  BlockQ4_0 b4;
  b4.d = 0x4000;  // 2
  for (int j = 0; j < 16; ++j) b4.qs[j] = (uint8_t)(j | ((15 - j) << 4));
  nystrom::dequantize_row_q4_0(&b4, y, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == 2.0f * (j - 8));
    CHECK(y[j + 16] == 2.0f * (7 - j));
  }
}

TEST_CASE("quantize then dequantize stays within half a step, plus the f16 rounding of d") {
  for (float range : {1e-3f, 1.0f, 300.0f}) {
    const int K = 32 * 64;
    const std::vector<float> x = test::random_vector(K, 7, -range, range);
    std::vector<BlockQ8_0> b8(K / 32);
    std::vector<BlockQ4_0> b4(K / 32);
    std::vector<float> y8(K), y4(K);
    nystrom::quantize_row_q8_0(x.data(), b8.data(), K);
    nystrom::quantize_row_q4_0(x.data(), b4.data(), K);
    nystrom::dequantize_row_q8_0(b8.data(), y8.data(), K);
    nystrom::dequantize_row_q4_0(b4.data(), y4.data(), K);
    int q8_bad = 0, q4_bad = 0;
    for (int b = 0; b < K / 32; ++b) {
      float amax = 0.0f, v = 0.0f;
      for (int i = 32 * b; i < 32 * b + 32; ++i)
        if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), v = x[i];
      const double d8 = amax / 127.0f, d8s = nystrom::f16_to_float(b8[b].d);
      const double d4 = v / -8.0f, d4s = nystrom::f16_to_float(b4[b].d);
      for (int i = 32 * b; i < 32 * b + 32; ++i) {
        // q8: |x - d q| <= d/2 (the division rounds by 2^-24 at most), and
        // the stored d moves d q by at most 127 |d - d_f16|.
        q8_bad += std::fabs(x[i] - y8[i]) > 0.5 * d8 * (1 + 1e-6) + 127 * std::fabs(d8 - d8s);
        // q4: x/d in [-8, 8] rounds half up to q - 8, except that 8 clamps
        // to 7 (x/d > 7.5: the opposite extreme), an error of up to one d.
        const double steps = x[i] / d4 > 7.5 ? 1.0 : 0.5;
        q4_bad += std::fabs(x[i] - y4[i]) > steps * std::fabs(d4) * (1 + 1e-6) + 8 * std::fabs(d4 - d4s);
      }
    }
    CAPTURE(range);
    CHECK(q8_bad == 0);
    CHECK(q4_bad == 0);
  }
}

TEST_CASE("each table's activation quantizer gives exactly the bytes and scales of quantize_row_q8_act") {
  // Blocks of several kinds, one row: uniform, exact ties at d = 1 and
  // d = 0.5, zeros (and -0), tiny (subnormal) and huge values, and an
  // infinity and a NaN (d = NaN, q = 0 for that block only).
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> k(-126, 125);
  std::vector<float> x;
  auto block = [&](auto gen) {
    for (int i = 0; i < 32; ++i) x.push_back(gen(i));
  };
  block([&](int) { return u(rng); });
  block([&](int i) { return i == 5 ? 127.0f : (float)k(rng) + 0.5f; });
  block([&](int i) { return i == 0 ? -63.5f : 0.5f * ((float)k(rng) + 0.5f); });
  block([&](int i) { return i == 3 ? -0.0f : 0.0f; });
  block([&](int) { return 1e-41f * u(rng); });
  block([&](int) { return 3e37f * u(rng); });
  block([&](int i) { return i == 7 ? INFINITY : u(rng); });
  block([&](int i) { return i == 30 ? NAN : u(rng); });
  block([&](int) { return 1000.0f * u(rng); });
  const int K = (int)x.size(), nb = K / 32;

  std::vector<int8_t> q_ref(K);
  std::vector<float> d_ref(nb);
  std::vector<int32_t> c_ref(nb);
  nystrom::quantize_row_q8_act(x.data(), K, q_ref.data(), d_ref.data(), c_ref.data());
  // Hand checks of the reference itself.
  CHECK(d_ref[1] == 1.0f);
  for (int i = 0; i < 32; ++i) CHECK(q_ref[32 + i] == (int8_t)std::round(x[32 + i]));
  CHECK(d_ref[2] == 0.5f);
  CHECK(d_ref[3] == 0.0f);
  CHECK(std::isnan(d_ref[6]));
  CHECK(std::isnan(d_ref[7]));
  for (int b = 0; b < nb; ++b) {
    int sum = 0;
    for (int i = 0; i < 32; ++i) sum += q_ref[32 * b + i];
    CHECK(c_ref[b] == -128 * sum);
    if (b == 3 || b == 6 || b == 7) CHECK(sum == 0);
  }

  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    std::vector<int8_t> q(K, 99);
    std::vector<float> d(nb);
    std::vector<int32_t> c(nb);
    t->quantize_act_row(x.data(), K, q.data(), d.data(), c.data());
    CHECK(q == q_ref);
    CHECK(c == c_ref);
    for (int b = 0; b < nb; ++b) {
      CAPTURE(b);
      CHECK((std::isnan(d_ref[b]) ? std::isnan(d[b]) : same_bits(&d[b], &d_ref[b], 4)));
    }
  }
}

TEST_CASE("each table's activation quantizers round x / d as the division does, at near-ties and tiny scales") {
  // Quotients within a few ulps of k + 1/2 at scales that are not powers of
  // two: a quantizer that divides through a reciprocal without correcting
  // it lands on the other side of some of these ties. The scales run from
  // 1e-30 (below the SIMD levels' reciprocal path, 2^-64) to 1e30.
  std::mt19937 rng(23);
  std::uniform_int_distribution<int> k(-127, 126), nudge(-3, 3);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  const float scales[] = {1e-30f, 3e-20f, 7.1e-12f, 0.0123f, 0.77f, 1.3f, 91.0f, 5e9f, 1e30f};
  std::vector<float> x;
  for (float base : scales)
    for (int b = 0; b < 8; ++b) {  // blocks of 32 with one |x| = 127 d each, so d is what we chose
      const float d = base * mant(rng);
      const float top = 127.0f * d;
      for (int i = 0; i < 32; ++i) {
        float v = i == 0 ? top : ((float)k(rng) + 0.5f) * d;
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        bits += (uint32_t)nudge(rng);
        std::memcpy(&v, &bits, 4);
        x.push_back(std::fabs(v) > top ? top : v);
      }
    }
  const int K = (int)x.size(), nb = K / 32;
  std::vector<int8_t> q_ref(K), qc_ref(K);
  std::vector<float> d_ref(nb);
  std::vector<int32_t> c_ref(nb);
  nystrom::quantize_row_q8_act(x.data(), K, q_ref.data(), d_ref.data(), c_ref.data());
  // q8_c: one row per block, so that each block keeps its own scale.
  std::vector<float> dc_ref(nb);
  std::vector<int32_t> cc_ref(nb);
  for (int b = 0; b < nb; ++b)
    nystrom::quantize_row_q8c_act(&x[32 * b], 32, &qc_ref[32 * b], &dc_ref[b], &cc_ref[b]);
  int ties = 0;  // how many quotients sit within 1e-5 of a tie: the case must have many
  for (int b = 0; b < nb; ++b)
    for (int i = 0; i < 32; ++i) {
      const float t = x[32 * b + i] / d_ref[b];
      ties += std::fabs(std::fabs(t - std::trunc(t)) - 0.5f) < 1e-5f;
    }
  CHECK(ties > K / 2);

  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    std::vector<int8_t> q(K, 99), qc(K, 99);
    std::vector<float> d(nb), dc(nb);
    std::vector<int32_t> c(nb), cc(nb);
    t->quantize_act_row(x.data(), K, q.data(), d.data(), c.data());
    for (int b = 0; b < nb; ++b) t->quantize_act_row_c(&x[32 * b], 32, &qc[32 * b], &dc[b], &cc[b]);
    CHECK(q == q_ref);
    CHECK(c == c_ref);
    CHECK(d == d_ref);
    CHECK(qc == qc_ref);
    CHECK(cc == cc_ref);
    CHECK(dc == dc_ref);
  }
}

TEST_CASE("each table's f16 row conversion (unquantized half-precision weights) matches format/half.h on all 65536 patterns") {
  std::vector<uint16_t> h(65536 + 64);
  for (size_t i = 0; i < h.size(); ++i) h[i] = (uint16_t)i;
  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    std::vector<float> f(h.size());
    t->f16_to_f32_row(h.data(), f.data(), 65536);
    int bad = 0;
    for (int i = 0; i < 65536; ++i) {
      const float want = nystrom::f16_to_float((uint16_t)i);
      const bool ok = std::isnan(want) ? std::isnan(f[i]) : same_bits(&f[i], &want, 4);
      if (!ok && bad++ == 0) INFO("first mismatch at pattern " << i);
    }
    CHECK(bad == 0);
    // Every length up to 40 from an odd start: the vector tails.
    for (int n = 0; n <= 40; ++n) {
      std::vector<float> out(n + 1, sentinel());
      t->f16_to_f32_row(h.data() + 0x3C01, out.data(), n);
      for (int i = 0; i < n; ++i) CHECK(out[i] == nystrom::f16_to_float((uint16_t)(0x3C01 + i)));
      CHECK(is_sentinel(out[n]));
    }
  }
}

// ---------------------------------------------------------------------------
// Packing

TEST_CASE("a quantized matrix packed for a table keeps its shape and type and refuses what it cannot pack or run") {
  const QuantWeights w8(DType::Q8_0, 40, 96, 3), w4(DType::Q4_0, 40, 96, 4);
  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    nystrom::PackedQuantMatrix p8(*t, w8.view());
    const nystrom::PackedQuantMatrix p4(*t, w4.view());
    CHECK(p8.rows() == 40);
    CHECK(p8.cols() == 96);
    CHECK(p8.dtype() == DType::Q8_0);
    CHECK(p4.dtype() == DType::Q4_0);
    CHECK(p8.bytes() >= (size_t)40 * 96);
    CHECK(p4.bytes() >= (size_t)40 * 96 / 2);
    CHECK(p4.bytes() < p8.bytes());

    nystrom::QuantMatrixView bad = w8.view();
    bad.cols = 100;
    CHECK_THROWS_AS(nystrom::PackedQuantMatrix(*t, bad), std::invalid_argument);
    bad = w8.view();
    bad.dtype = DType::F16;
    CHECK_THROWS_AS(nystrom::PackedQuantMatrix(*t, bad), std::invalid_argument);

    KernelTable other = *t;
    other.qgemm.nr *= 2;
    std::vector<float> x(96, 1.0f), y(40);
    CHECK_THROWS_AS(nystrom::qgemm(other, nullptr, 1, x.data(), 96, p8, y.data(), 40, {}), std::invalid_argument);

    const QuantWeights wc(DType::Q8_C, 40, 96, 5);
    const nystrom::PackedQuantMatrix pc(*t, wc.view());
    CHECK(pc.dtype() == DType::Q8_C);
    CHECK(pc.rows() == 40);
    CHECK(pc.cols() == 96);
    CHECK(pc.bytes() >= (size_t)40 * 96);
    CHECK(pc.bytes() < p8.bytes());  // no per-block scales
    bad = wc.view();
    bad.cols = 100;
    CHECK_THROWS_AS(nystrom::PackedQuantMatrix(*t, bad), std::invalid_argument);
    bad = wc.view();
    bad.rows = 1;
    bad.cols = 65536 + 32;  // past what one int32 sum over K holds in the worst case
    CHECK_THROWS_AS(nystrom::PackedQuantMatrix(*t, bad), std::invalid_argument);

    const nystrom::PackedQuantMatrix moved = std::move(p8);
    CHECK(moved.rows() == 40);
    CHECK(moved.dtype() == DType::Q8_0);
  }
}

// ---------------------------------------------------------------------------
// The GEMM

TEST_CASE("quantized GEMM (qgemm) matches qgemm_reference on awkward shapes, the same bits for every thread count") {
  const auto pools = make_pools();
  struct Shape {
    int M, N, K;
  };
  // Each size of each dimension with small partners, then a few large ones.
  std::vector<Shape> shapes;
  for (int M : {1, 2, 3, 5, 17, 64, 130}) shapes.push_back({M, 33, 96}), shapes.push_back({M, 100, 64});
  for (int N : {1, 7, 16, 17, 33, 100, 768}) shapes.push_back({5, N, 96}), shapes.push_back({17, N, 32});
  for (int K : {32, 64, 96, 768, 3072}) shapes.push_back({3, 17, K}), shapes.push_back({17, 33, K});
  shapes.push_back({130, 768, 768});
  shapes.push_back({64, 100, 3072});
  shapes.push_back({17, 768, 3072});
  shapes.push_back({601, 40, 96});  // many row blocks on every pool
  uint32_t seed = 100;
  for (DType dtype : {DType::Q8_0, DType::Q4_0, DType::Q8_C}) {
    for (const Shape& s : shapes) {
      const Problem p(s.M, s.N, s.K, false, Act::None, false, 1.0f, seed);
      check_problem(p, dtype, raw(pools), seed + 7);
      seed += 13;
    }
  }
  // q8_c runs one integer sum over all of K: up to its largest depth.
  for (const Shape& s : {Shape{1, 17, 65536}, Shape{7, 33, 16384}}) {
    const Problem p(s.M, s.N, s.K, false, Act::None, false, 1.0f, seed);
    check_problem(p, DType::Q8_C, raw(pools), seed + 7);
    seed += 13;
  }
}

TEST_CASE("qgemm_shared_input gives each output the bits qgemm gives it alone, and refuses matrices it cannot share") {
  // Q, K and V of a layer: one x, three matrices (different N, epilogues),
  // on every table and thread count; odd M so that tiles are partial. 601
  // rows give every pool two row blocks a thread or more (no panel
  // chunks); the others split panels.
  const auto pools = make_pools();
  uint32_t seed = 900;
  for (DType dtype : {DType::Q8_0, DType::Q4_0, DType::Q8_C}) {
    for (int M : {1, 7, 50, 601}) {
      const int K = 96;
      const Problem p(M, 33, K, true, Act::None, false, 0.5f, seed);
      Problem p2(M, 70, K, false, Act::GeluTanh, false, 1.0f, seed + 1);
      Problem p3(M, 1, K, true, Act::Relu, true, -2.0f, seed + 2);
      p2.x = p3.x = p.x;  // one input
      // q8_0 and q4_0 share one activation rule: mix them.
      const DType second = dtype == DType::Q8_0 ? DType::Q4_0 : dtype;
      const QuantWeights w1(dtype, p.N, K, seed + 3), w2(second, p2.N, K, seed + 4), w3(dtype, p3.N, K, seed + 5);
      for (const KernelTable* t : test::levels()) {
        const nystrom::PackedQuantMatrix k1(*t, w1.view()), k2(*t, w2.view()), k3(*t, w3.view());
        const std::vector<float> a1 = run_qgemm(*t, nullptr, p, k1), a2 = run_qgemm(*t, nullptr, p2, k2),
                                 a3 = run_qgemm(*t, nullptr, p3, k3);
        for (nystrom::ThreadPool* pool : std::vector<nystrom::ThreadPool*>{nullptr, pools[0].get(), pools[1].get(),
                                                                          pools[2].get()}) {
          std::vector<float> y1 = p.initial_y(), y2 = p2.initial_y(), y3 = p3.initial_y();
          const nystrom::QGemmOutput outs[3] = {{&k1, y1.data() + p.ldy(), p.ldy(), p.ep},
                                                {&k2, y2.data() + p2.ldy(), p2.ldy(), p2.ep},
                                                {&k3, y3.data() + p3.ldy(), p3.ldy(), p3.ep}};
          nystrom::qgemm_shared_input(*t, pool, M, p.x.data(), p.ldx(), outs, 3);
          INFO(std::string(nystrom::isa_name(t->isa)) << " " << std::string(nystrom::format::dtype_name(dtype))
                                                      << " M=" << M << " threads=" << (pool ? pool->size() : 0));
          CHECK(same_bits(y1.data(), a1.data(), y1.size() * sizeof(float)));
          CHECK(same_bits(y2.data(), a2.data(), y2.size() * sizeof(float)));
          CHECK(same_bits(y3.data(), a3.data(), y3.size() * sizeof(float)));
        }
      }
      seed += 17;
    }
  }
  // q8_c quantizes x per row, q8_0 per block: no shared copy; nor across depths.
  const KernelTable& t = *test::levels().front();
  const QuantWeights wc(DType::Q8_C, 4, 64, 1), w0(DType::Q8_0, 4, 64, 2), wk(DType::Q8_0, 4, 96, 3);
  const nystrom::PackedQuantMatrix pc(t, wc.view()), p0(t, w0.view()), pk(t, wk.view());
  std::vector<float> x(96, 1.0f), y(16);
  const nystrom::QGemmOutput mixed[2] = {{&pc, y.data(), 4, {}}, {&p0, y.data(), 4, {}}};
  const nystrom::QGemmOutput depths[2] = {{&p0, y.data(), 4, {}}, {&pk, y.data(), 4, {}}};
  CHECK_FALSE(nystrom::can_share_input(mixed, 2));
  CHECK_FALSE(nystrom::can_share_input(depths, 2));
  CHECK_THROWS_AS(nystrom::qgemm_shared_input(t, nullptr, 1, x.data(), 96, mixed, 2), std::invalid_argument);
  CHECK_THROWS_AS(nystrom::qgemm_shared_input(t, nullptr, 1, x.data(), 96, depths, 2), std::invalid_argument);
}

TEST_CASE("q8_c GEMM at K = 65536 with every product at +-127 * 127 keeps its int32 sums exact") {
  // Rows of equal values quantize to all 127 (or all -127): |sum| = 127^2 *
  // 65536 = 1057030144, near 2^31, on every level (and AVX-512's offset
  // correction of -128 * sum a passes through larger partial sums still).
  const int K = 65536, N = 3;
  std::vector<float> wv((size_t)N * K);
  for (int j = 0; j < N; ++j)
    for (int k = 0; k < K; ++k) wv[(size_t)j * K + k] = j == 1 ? -0.5f : 2.0f;
  const QuantWeights w(N, K, wv);
  for (float a : {1.0f, -3.0f}) {
    Problem p(2, N, K, false, Act::None, false, 1.0f, 31);
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < K; ++k) p.x[(size_t)i * p.ldx() + k] = i == 0 ? a : -a;
    const Expected e = expected(p, w);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < N; ++j) {
        const double want = (i == 0 ? a : -a) * (j == 1 ? -0.5 : 2.0) * K;
        CHECK(e.y[(size_t)(i + 1) * p.ldy() + j] == doctest::Approx(want).epsilon(1e-6));
      }
    for (const KernelTable* t : test::levels()) {
      const nystrom::PackedQuantMatrix packed(*t, w.view());
      check_against(e, run_qgemm(*t, nullptr, p, packed), p, std::string(nystrom::isa_name(t->isa)) + " q8_c");
    }
  }
}

TEST_CASE("quantized GEMM applies the epilogue: bias, each activation, accumulate, then scale") {
  const auto pools = make_pools();
  struct Case {
    bool bias;
    Act act;
    bool accumulate;
    float scale;
  };
  const Case cases[] = {
      {true, Act::None, false, 1.0f},      {false, Act::None, true, 1.0f},     {true, Act::Relu, false, 1.0f},
      {true, Act::GeluTanh, true, 1.0f},   {false, Act::GeluErf, false, 1.0f}, {true, Act::GeluErf, true, 0.3f},
      {false, Act::None, false, -0.125f},  {true, Act::Relu, true, 2.5f},
  };
  uint32_t seed = 500;
  for (DType dtype : {DType::Q8_0, DType::Q4_0, DType::Q8_C}) {
    for (const Case& c : cases) {
      for (auto [M, N, K] : {std::tuple{17, 33, 96}, std::tuple{7, 100, 768}}) {
        const Problem p(M, N, K, c.bias, c.act, c.accumulate, c.scale, seed);
        check_problem(p, dtype, raw(pools), seed + 3);
        seed += 11;
      }
    }
  }
}

TEST_CASE("quantized GEMM with K = 0 leaves act((accumulate ? y : 0) + bias) * scale") {
  for (DType dtype : {DType::Q8_0, DType::Q8_C})
  for (const KernelTable* t : test::levels()) {
    const QuantWeights w(dtype, 9, 0, 1);
    CAPTURE(nystrom::isa_name(t->isa));
    const nystrom::PackedQuantMatrix packed(*t, w.view());
    for (bool accumulate : {false, true}) {
      Problem p(3, 9, 0, true, Act::Relu, accumulate, 0.5f, 77);
      const Expected e = expected(p, w);
      check_against(e, run_qgemm(*t, nullptr, p, packed), p, std::string(nystrom::isa_name(t->isa)));
    }
  }
}

TEST_CASE("quantized GEMM: a row of x with an infinity or NaN gives NaN outputs in that row only") {
  for (DType dtype : {DType::Q8_0, DType::Q8_C})
  for (float bad : {INFINITY, -INFINITY, NAN})
  for (const KernelTable* t : test::levels()) {
    const QuantWeights w(dtype, 20, 64, 5);
    Problem p(4, 20, 64, false, Act::None, false, 1.0f, 9);
    p.x[(size_t)2 * p.ldx() + 40] = bad;
    CAPTURE(nystrom::isa_name(t->isa));
    CAPTURE(nystrom::format::dtype_name(dtype));
    CAPTURE(bad);
    const nystrom::PackedQuantMatrix packed(*t, w.view());
    const std::vector<float> y = run_qgemm(*t, nullptr, p, packed);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 20; ++j) CHECK(std::isnan(y[(size_t)(i + 1) * p.ldy() + j]) == (i == 2));
  }
}
