// The q4_0 rounding rule of include/nystrom/format.h: the converter stores
// the scale of least squared error among a fixed list of candidates, each
// judged after the f16 rounding of d. Checked here:
//  - the quantizer gives exactly the bytes of the rule as format.h words it
//    (transcribed below with std::round, apart from the library's code);
//  - hand-worked blocks: the extreme on level +7 when that fits the rest,
//    blocks on the max-abs grid stored exactly, all-equal values;
//  - it never has more squared error than the max-abs rule (the rule of
//    format version 2's first converter), and on normal weights at least
//    10% less;
//  - zeros, non-finite blocks, f16-subnormal and far-out-of-f16-range
//    values: no NaN or infinity comes back from a finite block;
//  - negating a block or scaling it by a power of two scales d alike and
//    keeps every q.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "format/half.h"
#include "kernels/quant.h"

using nystrom::BlockQ4_0;

namespace {

using Block = std::vector<float>;  // 32 values

BlockQ4_0 quantize(const Block& x) {
  BlockQ4_0 b;
  nystrom::quantize_row_q4_0(x.data(), &b, 32);
  return b;
}

int level(const BlockQ4_0& b, int i) { return i < 16 ? b.qs[i] & 15 : b.qs[i - 16] >> 4; }

// sum (x - dequantized)^2 in double.
double squared_error(const Block& x, const BlockQ4_0& b) {
  float y[32];
  nystrom::dequantize_row_q4_0(&b, y, 32);
  double e = 0.0;
  for (int i = 0; i < 32; ++i) e += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
  return e;
}

BlockQ4_0 pack(const int* q, uint16_t d) {
  BlockQ4_0 b;
  b.d = d;
  for (int j = 0; j < 16; ++j) b.qs[j] = (uint8_t)(q[j] | (q[j + 16] << 4));
  return b;
}

// The max-abs rule: d = v / -8 for v the first x of largest magnitude,
// q = min(15, trunc(x / d + 8.5)), d stored in f16 as is.
BlockQ4_0 max_abs_rule(const Block& x) {
  float v = 0.0f;
  for (float xi : x)
    if (std::fabs(xi) > std::fabs(v)) v = xi;
  const float d = v / -8.0f;
  int q[32];
  for (int i = 0; i < 32; ++i) {
    const float t = d == 0.0f ? 8.0f : x[i] / d + 8.5f;
    q[i] = t >= 15.0f ? 15 : t >= 0.0f ? (int)t : 0;
  }
  return pack(q, nystrom::float_to_f16(d));
}

// format.h's q4_0 rule, word for word, for finite blocks that are not all
// zero.
struct Judged {
  uint16_t d;
  int q[32];
  double err;
};

Judged judge(const Block& x, float c) {
  Judged j;
  j.d = nystrom::float_to_f16(c);
  if ((j.d & 0x7fff) == 0x7c00) j.d = (uint16_t)((j.d & 0x8000) | 0x7bff);  // saturate at +-65504
  const float D = nystrom::f16_to_float(j.d);
  j.err = 0.0;
  for (int i = 0; i < 32; ++i) {
    j.q[i] = D == 0.0f ? 8 : (int)std::fmin(15.0f, std::fmax(0.0f, std::round(x[i] / D) + 8.0f));
    const double r = (double)x[i] - (double)D * (j.q[i] - 8);
    j.err += r * r;
  }
  return j;
}

BlockQ4_0 rule_as_worded(const Block& x) {
  float v = 0.0f;
  for (float xi : x)
    if (std::fabs(xi) > std::fabs(v)) v = xi;
  Judged best = judge(x, v / -8.0f);
  for (float base : {v / -8.0f, v / 7.0f}) {
    for (int s = 40; s <= 60; ++s) {
      const Judged j = judge(x, base * ((float)s / 50.0f));
      if (j.err < best.err) best = j;
    }
  }
  double num = 0.0, den = 0.0;
  for (int i = 0; i < 32; ++i) num += (double)x[i] * (best.q[i] - 8), den += (best.q[i] - 8) * (best.q[i] - 8);
  if (den > 0.0) {
    const Judged j = judge(x, (float)(num / den));
    if (j.err < best.err) best = j;
  }
  return pack(best.q, best.d);
}

bool same_bytes(const BlockQ4_0& a, const BlockQ4_0& b) {
  if (a.d != b.d) return false;
  for (int j = 0; j < 16; ++j)
    if (a.qs[j] != b.qs[j]) return false;
  return true;
}

// Blocks of many shapes: normal and uniform weights at scales from f16
// subnormal scales to far past f16's range, one outlier among small values,
// values on ties of a candidate grid, a few distinct values repeated.
std::vector<Block> block_zoo(int per_kind) {
  std::mt19937 rng(20260402);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<Block> out;
  for (float scale : {1e-6f, 1e-3f, 0.05f, 1.0f, 300.0f, 4e4f}) {
    for (int n = 0; n < per_kind; ++n) {
      Block g(32), u(32), spike(32), ties(32), few(32);
      for (int i = 0; i < 32; ++i) {
        g[i] = scale * normal(rng);
        u[i] = scale * uniform(rng);
        spike[i] = 0.01f * scale * normal(rng);
        ties[i] = scale * 0.125f * (float)((int)(rng() % 16) - 8) + scale * 0.0625f;  // x / d ends in .5 for d = scale / 8
        few[i] = scale * (float)(rng() % 3);
      }
      spike[rng() % 32] = scale * (rng() % 2 ? 5.0f : -5.0f);
      for (const Block* b : {&g, &u, &spike, &ties, &few}) out.push_back(*b);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("q4_0 rounding: the quantizer gives exactly the bytes of the rule worded in format.h") {
  int differ = 0;
  const std::vector<Block> zoo = block_zoo(40);
  for (const Block& x : zoo) differ += !same_bytes(quantize(x), rule_as_worded(x));
  CHECK(differ == 0);
}

TEST_CASE("q4_0 rounding: hand-worked blocks") {
  SUBCASE("one 8 among 31 of -8: the extreme on level +7, d = f16(8 / 7), reads back within 0.002") {
    // Max-abs would take d = -1 and clamp every -8 to -7 (error 1 each).
    // d = 8/7 puts 8 on level +7 and -8 on level -7.
    Block x(32, -8.0f);
    x[0] = 8.0f;
    const BlockQ4_0 b = quantize(x);
    CHECK(b.d == 0x3C92);  // 1 + 146/1024 = 1.142578125
    CHECK(level(b, 0) == 15);
    for (int i = 1; i < 32; ++i) CHECK(level(b, i) == 1);
    CHECK(squared_error(x, b) < 32 * 0.002 * 0.002);
    CHECK(squared_error(x, max_abs_rule(x)) == 31.0);
  }
  SUBCASE("a block on the max-abs grid is stored exactly, with the max-abs d") {
    Block x(32, 0.0f);
    x[3] = -4.0f, x[4] = 3.5f, x[5] = 1.0f, x[6] = 0.5f, x[20] = -2.5f;  // d = -4 / -8 = 0.5
    const BlockQ4_0 b = quantize(x);
    CHECK(b.d == 0x3800);
    CHECK(level(b, 3) == 0);
    CHECK(level(b, 4) == 15);
    CHECK(level(b, 5) == 10);
    CHECK(level(b, 6) == 9);
    CHECK(level(b, 20) == 3);
    CHECK(level(b, 0) == 8);
    CHECK(squared_error(x, b) == 0.0);
  }
  SUBCASE("a value halfway between two levels rounds away from zero, and the refit follows it") {
    // 30 values on the grid of 0.5 pin the candidates to d = 0.5, where
    // -0.25 is level -0.5: away from zero it is -1 (q = 7), whose least-
    // squares d is one f16 step lower, 0.49975586, with less error. (Toward
    // zero, q = 8 would keep d = 0.5.) Likewise +0.25 is level +1 (q = 9);
    // and with every sign flipped, d flips and the levels stay.
    Block x(32);
    x[0] = -4.0f;
    for (int i = 1; i < 31; ++i) x[i] = 0.5f * (float)((i % 2 ? 1 : -1) * (7 - (i - 1) / 2 % 3));  // +-3.5, +-3, +-2.5
    for (float half : {-0.25f, 0.25f}) {
      for (float sign : {1.0f, -1.0f}) {
        x[31] = half;
        Block y = x;
        for (float& v : y) v *= sign;
        const BlockQ4_0 b = quantize(y);
        CAPTURE(half);
        CAPTURE(sign);
        CHECK(b.d == (sign > 0 ? 0x37FF : 0xB7FF));
        CHECK(level(b, 31) == (half < 0 ? 7 : 9));
        CHECK(level(b, 0) == 0);
        CHECK(level(b, 1) == 15);
      }
    }
  }
  SUBCASE("32 equal values sit on level 0 of d = -x / 8") {
    const BlockQ4_0 b = quantize(Block(32, 1.0f));
    CHECK(b.d == 0xB000);  // -0.125
    for (uint8_t byte : b.qs) CHECK(byte == 0x00);
  }
  SUBCASE("32 equal values that no f16 d reaches exactly come back within 1/2048 relative") {
    const Block x(32, 0.1f);
    const BlockQ4_0 b = quantize(x);
    CHECK(squared_error(x, b) <= squared_error(x, max_abs_rule(x)));
    CHECK(std::sqrt(squared_error(x, b) / 32) <= 0.1 / 2048);
  }
  SUBCASE("one outlier among zeros is stored exactly") {
    Block x(32, 0.0f);
    x[17] = -3.0f;
    const BlockQ4_0 b = quantize(x);
    CHECK(squared_error(x, b) == 0.0);
  }
}

TEST_CASE("q4_0 rounding: never more squared error than the max-abs rule, and 10% less on normal weights") {
  int worse = 0;
  for (const Block& x : block_zoo(40)) {
    const double e_max_abs = squared_error(x, max_abs_rule(x));
    if (!std::isfinite(e_max_abs)) continue;  // beyond f16 range: the max-abs d is infinite
    worse += squared_error(x, quantize(x)) > e_max_abs;
  }
  CHECK(worse == 0);

  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  double e_new = 0.0, e_old = 0.0;
  for (int n = 0; n < 2000; ++n) {
    Block x(32);
    for (float& v : x) v = normal(rng);
    e_new += squared_error(x, quantize(x));
    e_old += squared_error(x, max_abs_rule(x));
  }
  INFO("squared error / max-abs rule's: " << e_new / e_old);
  CHECK(e_new < 0.9 * e_old);
}

TEST_CASE("q4_0 rounding: zeros, non-finite blocks, and values outside f16's range") {
  SUBCASE("zeros store d = -0 and q = 8") {
    const BlockQ4_0 b = quantize(Block(32, 0.0f));
    CHECK(b.d == 0x8000);
    for (uint8_t byte : b.qs) CHECK(byte == 0x88);
  }
  SUBCASE("a NaN or an infinity makes its block d = NaN, q = 8, and leaves the next block alone") {
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      std::vector<float> row(64, 0.25f);
      row[5] = bad;
      BlockQ4_0 b[2];
      nystrom::quantize_row_q4_0(row.data(), b, 64);
      CHECK(b[0].d == 0x7E00);
      for (uint8_t byte : b[0].qs) CHECK(byte == 0x88);
      CHECK(same_bytes(b[1], quantize(Block(row.begin() + 32, row.end()))));
    }
  }
  SUBCASE("float subnormals: d rounds to zero and every value reads back as 0") {
    Block x(32, 0.0f);
    for (int i = 0; i < 32; ++i) x[i] = (float)(i - 16) * 1e-40f;
    const BlockQ4_0 b = quantize(x);
    CHECK((b.d & 0x7fff) == 0);
    for (uint8_t byte : b.qs) CHECK(byte == 0x88);
  }
  SUBCASE("huge values: d saturates at 65504 instead of becoming infinite, so nothing reads back as NaN") {
    for (float big : {1e6f, 3e38f}) {
      Block x(32);
      for (int i = 0; i < 32; ++i) x[i] = big * ((float)(i - 15) / 16.0f);
      const BlockQ4_0 b = quantize(x);
      CHECK((b.d & 0x7fff) == 0x7BFF);
      float y[32];
      nystrom::dequantize_row_q4_0(&b, y, 32);
      for (float v : y) CHECK(std::isfinite(v));
    }
  }
  SUBCASE("finite blocks of every shape give finite d") {
    for (const Block& x : block_zoo(10)) CHECK(std::isfinite(nystrom::f16_to_float(quantize(x).d)));
  }
}

TEST_CASE("q4_0 rounding: -x negates d and 2^k x scales it, keeping every q") {
  for (const Block& x : block_zoo(10)) {
    const BlockQ4_0 b = quantize(x);
    const float d = nystrom::f16_to_float(b.d);
    if (std::fabs(d) < 1e-3f || std::fabs(d) > 1e3f) continue;  // keep d * 4 and d / 4 normal f16 numbers
    for (float f : {-1.0f, 4.0f, -0.25f}) {
      Block y = x;
      for (float& v : y) v *= f;
      const BlockQ4_0 c = quantize(y);
      CAPTURE(f);
      CHECK(nystrom::f16_to_float(c.d) == d * f);
      for (int j = 0; j < 16; ++j) CHECK(c.qs[j] == b.qs[j]);
    }
  }
}
