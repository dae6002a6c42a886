// Every entry of every kernel table this CPU runs, against its reference
// (kernels/ref/, and kernels/quant.h for the quantizers) on awkward shapes:
// sizes off every vector width, K = 1, tiny and large n. And the table's
// completeness: each function-pointer slot of KernelTable has a check below
// and is set in every table (only int8_peak_loop and the fused epilogue
// kernels may be empty, and only at the levels written out here as having
// none).
//
// The deeper tests of each family live beside this one (test_gemm_kernels,
// test_row_kernels, test_quant); here each entry is called directly, so a
// table that pairs a kernel with the wrong slot or the wrong tile fails.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "format/half.h"
#include "kernel_support.h"
#include "kernels/bf16_gemm.h"
#include "kernels/dispatch.h"
#include "kernels/quant.h"
#include "kernels/ref/ref.h"
#include "support.h"
#if defined(__x86_64__)
#include "kernels/avx512/avx512.h"
#endif

using nystrom::Isa;
using nystrom::KernelTable;
using nystrom::ops::Act;

namespace {

const int kRowSizes[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 4097};

std::vector<float> uniform(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// How many elements of two equally long arrays differ in their bits.
size_t differing_bits(const std::vector<float>& got, const std::vector<float>& want) {
  size_t differ = 0;
  for (size_t i = 0; i < got.size(); ++i) differ += !same_bits(got[i], want[i]);
  return differ;
}

// Every epilogue a fused kernel must reproduce: each activation, a bias or
// none, accumulating or not, a scale of 1 or `scale`; fn(ep, its name).
template <typename Fn>
void each_epilogue(const float* bias, float scale, Fn fn) {
  for (Act act : {Act::None, Act::Relu, Act::GeluTanh, Act::GeluErf})
    for (bool with_bias : {false, true})
      for (bool accumulate : {false, true})
        for (float s : {1.0f, scale}) {
          const nystrom::ops::Epilogue ep = {with_bias ? bias : nullptr, act, accumulate, s};
          fn(ep, " act=" + std::to_string((int)act) + (with_bias ? " bias" : "") + (accumulate ? " accumulate" : "") +
                     " scale=" + std::to_string(s));
        }
}

std::string what(const KernelTable& t, const std::string& detail) {
  return std::string(nystrom::isa_name(t.isa)) + " " + detail;
}

// ---------------------------------------------------------------------------
// One check per entry: the entry of `t` against the reference.

void check_gemm_ukernel(const KernelTable& t) {
  // Every corner size the loops may ask for, with rows and columns around
  // the corner that must keep their bits.
  const int MR = t.gemm.mr, NR = t.gemm.nr, ldc = NR + 3;
  std::mt19937 rng(11);
  for (int k : {0, 1, 2, 5, 17, 300})
    for (int mr : {1, 4, 5, 8, 9, MR - 1, MR})  // 4, 8: where a kernel may compute fewer rows
      for (int nr : {1, NR / 2 + 1, NR - 1, NR})
        for (bool accumulate : {false, true}) {
          if (mr < 1 || mr > MR || nr < 1) continue;
          const std::vector<float> a = uniform(rng, (size_t)k * MR, -1, 1), b = uniform(rng, (size_t)k * NR, -1, 1);
          const std::vector<float> c_old = uniform(rng, (size_t)(MR + 1) * ldc, -1, 1);
          std::vector<float> got = c_old, want = c_old;
          t.gemm_ukernel(k, a.data(), b.data(), got.data(), ldc, mr, nr, accumulate);
          nystrom::ref::gemm_ukernel(k, a.data(), b.data(), want.data(), ldc, mr, nr, accumulate, MR, NR);
          // Two summation orders of k products plus the old C (Higham 3.1).
          test::WorstError worst;
          size_t outside_changed = 0;
          for (int i = 0; i <= MR; ++i)
            for (int j = 0; j < ldc; ++j) {
              const size_t idx = (size_t)i * ldc + j;
              if (i >= mr || j >= nr) {
                outside_changed += !same_bits(got[idx], c_old[idx]);
                continue;
              }
              double s = accumulate ? std::fabs(c_old[idx]) : 0.0;
              for (int p = 0; p < k; ++p) s += std::fabs((double)a[(size_t)p * MR + i] * b[(size_t)p * NR + j]);
              worst.add(idx, got[idx], want[idx], test::two_gamma(k + 1) * s);
            }
          INFO(what(t, "gemm_ukernel k=" + std::to_string(k) + " mr=" + std::to_string(mr) + " nr=" +
                           std::to_string(nr) + (accumulate ? " accumulate" : "")));
          INFO("worst error / tolerance " << worst.ratio << " at " << worst.index);
          CHECK(outside_changed == 0);
          CHECK(worst.ratio <= 1.0);
        }
}

void check_gemm_ukernel_rows(const KernelTable& t) {
  // A whole tile read in place (row i at a + i * lda) gives the bits of the
  // packed micro-kernel on the same tile, and writes only its mr x nr.
  const int MR = t.gemm.mr, NR = t.gemm.nr, ldc = NR + 3;
  std::mt19937 rng(22);
  for (int k : {0, 1, 2, 5, 17, 300})
    for (int nr : {1, NR / 2 + 1, NR - 1, NR})
      for (bool accumulate : {false, true}) {
        const size_t lda = (size_t)k + 7;
        const std::vector<float> a = uniform(rng, MR * lda, -1, 1), b = uniform(rng, (size_t)k * NR, -1, 1);
        std::vector<float> packed((size_t)k * MR);
        for (int p = 0; p < k; ++p)
          for (int i = 0; i < MR; ++i) packed[(size_t)p * MR + i] = a[i * lda + p];
        const std::vector<float> c_old = uniform(rng, (size_t)(MR + 1) * ldc, -1, 1);
        std::vector<float> got = c_old, want = c_old;
        t.gemm_ukernel_rows(k, a.data(), lda, b.data(), got.data(), ldc, nr, accumulate);
        t.gemm_ukernel(k, packed.data(), b.data(), want.data(), ldc, MR, nr, accumulate);
        const size_t differ = differing_bits(got, want);
        INFO(what(t, "gemm_ukernel_rows k=" + std::to_string(k) + " nr=" + std::to_string(nr) +
                         (accumulate ? " accumulate" : "")));
        CHECK(differ == 0);
      }
}

void check_pack_panel(const KernelTable& t) {
  // Data movement only: bit for bit, and nothing written past the panel.
  std::mt19937 rng(12);
  for (int R : {4, t.gemm.mr, t.gemm.nr})
    for (int rows = 1; rows <= R; rows += rows < 5 ? 1 : 3)
      for (int kc : {1, 3, 4, 5, 17, 770}) {
        const size_t ld = (size_t)kc + 3;
        const std::vector<float> src = uniform(rng, ld * rows, -1, 1);
        std::vector<float> want((size_t)R * kc + 8, -7.0f), got = want;
        nystrom::ref::pack_panel(src.data(), ld, rows, R, kc, want.data());
        t.pack_panel(src.data(), ld, rows, R, kc, got.data());
        INFO(what(t, "pack_panel R=" + std::to_string(R) + " rows=" + std::to_string(rows) +
                         " kc=" + std::to_string(kc)));
        CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
      }
}

void check_softmax_row(const KernelTable& t) {
  // The kernels sum in double, the reference in float: 3e-7 relative plus
  // the reference's drift of about 2 sqrt(n) ulp (test_row_kernels derives
  // these); 1e-30 absolute for the denormals the kernels flush.
  std::mt19937 rng(13);
  for (int n : kRowSizes)
    for (float scale : {1.0f, 50.0f}) {
      const std::vector<float> x = uniform(rng, n, -scale, scale);
      std::vector<float> got = x, want = x;
      t.softmax_row(got.data(), n);
      nystrom::ref::softmax_row(want.data(), n);
      test::check_close(got, want, 1e-30, 3e-7 + 2.0 * std::sqrt((double)n) * test::kUnit,
                        what(t, "softmax_row n=" + std::to_string(n)));
    }
}

void check_layer_norm_row(const KernelTable& t) {
  // About an ulp of gamma * n apart (one FMA against two roundings).
  std::mt19937 rng(14);
  for (int n : kRowSizes)
    for (bool with_residual : {false, true}) {
      const std::vector<float> x = uniform(rng, n, 2.0f, 6.0f), r = uniform(rng, n, -3.0f, 3.0f);
      const std::vector<float> gamma = uniform(rng, n, 0.5f, 2.0f), beta = uniform(rng, n, -1.0f, 1.0f);
      const float* rp = with_residual ? r.data() : nullptr;
      std::vector<float> got(n), want(n);
      t.layer_norm_row(x.data(), rp, got.data(), n, gamma.data(), beta.data(), 1e-5f);
      nystrom::ref::layer_norm_row(x.data(), rp, want.data(), n, gamma.data(), beta.data(), 1e-5f);
      test::check_close(got, want, 1e-6, 1e-6,
                        what(t, "layer_norm_row n=" + std::to_string(n) + (with_residual ? " +residual" : "")));
    }
}

void check_bias_act_rows(const KernelTable& t) {
  // None and ReLU are the same float operations as the reference; the GELUs
  // use the engine's exp and erfc, within 1e-6 + 2 ulp (test_row_kernels).
  std::mt19937 rng(15);
  for (Act act : {Act::None, Act::Relu, Act::GeluTanh, Act::GeluErf})
    for (int n : kRowSizes)
      for (bool with_bias : {false, true})
        for (float mul : {1.0f, -0.5f}) {
          const std::vector<float> y = uniform(rng, n, -6.0f, 6.0f), bias = uniform(rng, n, -1.0f, 1.0f);
          const float* bp = with_bias ? bias.data() : nullptr;
          // Two rows, one float apart.
          std::vector<float> block(2 * (size_t)n + 1, 5.0f);
          std::copy(y.begin(), y.end(), block.begin());
          std::copy(y.rbegin(), y.rend(), block.begin() + n + 1);
          std::vector<float> got = block, want = block;
          t.bias_act_rows(got.data(), (size_t)n + 1, 2, bp, n, act, mul);
          nystrom::ref::bias_act_rows(want.data(), (size_t)n + 1, 2, bp, n, act, mul);
          const bool exact = act == Act::None || act == Act::Relu;
          test::check_close(got, want, exact ? 0.0 : 1e-6, exact ? 0.0 : 2.5e-7,
                            what(t, std::string("bias_act_rows ") + test::act_name(act) + " n=" + std::to_string(n) +
                                        (with_bias ? " +bias" : "") + (mul != 1.0f ? " x-0.5" : "")));
        }
}

void check_segment_means(const KernelTable& t) {
  // Each level adds a column's rows in order from zero and multiplies by
  // 1 / length, as the reference does: bit for bit. The gaps between rows
  // of the output keep their bits.
  std::mt19937 rng(16);
  for (int n : {1, 2, 5, 17, 64, 100})
    for (int m : {1, 2, 3, 7, n})
      for (int cols : {1, 3, 4, 7, 8, 9, 16, 17, 33, 64}) {
        if (m > n) continue;
        const int ld = cols + 5, ldo = cols + 3;
        const std::vector<float> x = uniform(rng, (size_t)n * ld, -2, 2);
        std::vector<float> got((size_t)m * ldo, test::sentinel()), want = got;
        t.segment_means(x.data(), n, cols, ld, m, got.data(), ldo);
        nystrom::ref::segment_means(x.data(), n, cols, ld, m, want.data(), ldo);
        const size_t differ = differing_bits(got, want);
        INFO(what(t, "segment_means n=" + std::to_string(n) + " m=" + std::to_string(m) +
                         " cols=" + std::to_string(cols)));
        CHECK(differ == 0);
      }
}

void check_depthwise_conv_add(const KernelTable& t) {
  // FMA chains against the reference's products and sums: a few ulp of
  // values below K in size.
  std::mt19937 rng(17);
  for (int K : {1, 3, 9})
    for (int n : {1, 2, 5, 17, 40})
      for (int cols : {1, 7, 8, 17, 33})
        for (int heads : {1, 3}) {
          const int width = heads * cols, ldv = width + 3, ldo = width + 2;
          const std::vector<float> v = uniform(rng, (size_t)n * ldv, -1, 1), w = uniform(rng, (size_t)heads * K, -1, 1);
          const std::vector<float> out = uniform(rng, (size_t)n * ldo, -1, 1);
          std::vector<float> got = out, want = out;
          t.depthwise_conv_add(v.data(), n, 0, n, heads, cols, ldv, w.data(), K, got.data(), ldo);
          nystrom::ref::depthwise_conv_add(v.data(), n, 0, n, heads, cols, ldv, w.data(), K, want.data(), ldo);
          test::check_close(got, want, 1e-5, 1e-5,
                            what(t, "depthwise_conv_add K=" + std::to_string(K) + " n=" + std::to_string(n) +
                                        " cols=" + std::to_string(cols) + " heads=" + std::to_string(heads)));
        }
}

// The integer micro-kernels on values that make every step exact: each
// activation block holds integers up to 127 with a 127 in it (scale 1, q =
// x), weight scales are 1 or 1/2 and q8_0 weights at most 32 in size, so
// every partial sum is a multiple of 1/2 below 2^23 (33 blocks of 32
// products of at most 127 * 32), exact in any order of summing. Run through qgemm with the scalar table's other entries and this
// level's layout and micro-kernel: equal to qgemm_reference bit for bit.
void check_qgemm_ukernel(const KernelTable& t, nystrom::format::DType dtype) {
  using nystrom::format::DType;
  KernelTable probe = *nystrom::kernels_for(Isa::Scalar);
  probe.qgemm = t.qgemm;
  probe.qgemm_blocks = t.qgemm_blocks;
  if (dtype == DType::Q8_0) probe.qgemm_q8_ukernel = t.qgemm_q8_ukernel;
  else probe.qgemm_q4_ukernel = t.qgemm_q4_ukernel;
  std::mt19937 rng(18);
  std::uniform_int_distribution<int> act(-127, 127), w8(-32, 32), nibble(0, 255);
  const int MR = t.qgemm.mr, NR = t.qgemm.nr;
  for (int M : {1, MR - 1, MR + 1, 13})
    for (int N : {1, NR - 1, NR + 3, 37})
      for (int K : {32, 96, 32 * (t.qgemm_blocks.kb + 1)}) {
        if (M < 1 || N < 1) continue;
        const int nb = K / 32, ldx = K + 5, ldy = N + 2;
        std::vector<float> x((size_t)M * ldx);
        for (int i = 0; i < M; ++i)
          for (int k = 0; k < K; ++k) x[(size_t)i * ldx + k] = k % 32 == 7 ? 127.0f : (float)act(rng);
        std::vector<nystrom::BlockQ8_0> q8((size_t)N * nb);
        std::vector<nystrom::BlockQ4_0> q4((size_t)N * nb);
        for (size_t b = 0; b < q8.size(); ++b) {
          const uint16_t d = nystrom::float_to_f16(b % 3 == 1 ? 0.5f : 1.0f);
          q8[b].d = q4[b].d = d;
          for (int8_t& q : q8[b].qs) q = (int8_t)w8(rng);
          for (uint8_t& q : q4[b].qs) q = (uint8_t)nibble(rng);
        }
        const nystrom::QuantMatrixView view = {dtype, N, K, dtype == DType::Q8_0 ? (const void*)q8.data() : q4.data()};
        std::vector<float> got((size_t)M * ldy, test::sentinel()), want = got;
        nystrom::qgemm(probe, nullptr, M, x.data(), ldx, nystrom::PackedQuantMatrix(probe, view), got.data(), ldy, {});
        nystrom::qgemm_reference(M, x.data(), ldx, view, want.data(), ldy, {});
        const size_t differ = differing_bits(got, want);
        INFO(what(t, std::string(dtype == DType::Q8_0 ? "qgemm_q8_ukernel" : "qgemm_q4_ukernel") + " M=" +
                         std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K)));
        CHECK(differ == 0);
      }
}
void check_qgemm_q8_ukernel(const KernelTable& t) { check_qgemm_ukernel(t, nystrom::format::DType::Q8_0); }

// The q8_c micro-kernel the same way: each activation row has a 127 in it
// (scale 1, q = x), row scales 1 or 1/2, weights at most 32 in size, so the
// one int32 sum over K (at most 127 * 32 * 4064 < 2^24) and its scaling are
// exact, also over a depth far past the q8_0 kernel's kb blocks.
void check_qgemm_q8c_ukernel(const KernelTable& t) {
  using nystrom::format::DType;
  KernelTable probe = *nystrom::kernels_for(Isa::Scalar);
  probe.qgemm = t.qgemm;
  probe.qgemm_blocks = t.qgemm_blocks;
  probe.qgemm_q8c_ukernel = t.qgemm_q8c_ukernel;
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> act(-127, 127), w8(-32, 32);
  const int MR = t.qgemm.mr_c, NR = t.qgemm.nr;
  for (int M : {1, MR - 1, MR + 1, 2 * MR + 5})
    for (int N : {1, NR - 1, NR + 3, 37})
      for (int K : {32, 96, 32 * (t.qgemm_blocks.kb + 1), 4064}) {
        if (M < 1 || N < 1) continue;
        const int ldx = K + 5, ldy = N + 2;
        std::vector<float> x((size_t)M * ldx);
        for (int i = 0; i < M; ++i)
          for (int k = 0; k < K; ++k) x[(size_t)i * ldx + k] = k == (i * 37) % K ? 127.0f : (float)act(rng);
        std::vector<uint8_t> w((size_t)N * (K + 4));
        for (size_t i = 0; i < (size_t)N * K; ++i) w[i] = (uint8_t)(int8_t)w8(rng);
        for (int j = 0; j < N; ++j) {
          const float s = j % 3 == 1 ? 0.5f : 1.0f;
          std::memcpy(&w[(size_t)N * K + 4 * j], &s, 4);
        }
        const nystrom::QuantMatrixView view = {DType::Q8_C, N, K, w.data()};
        std::vector<float> got((size_t)M * ldy, test::sentinel()), want = got;
        nystrom::qgemm(probe, nullptr, M, x.data(), ldx, nystrom::PackedQuantMatrix(probe, view), got.data(), ldy, {});
        nystrom::qgemm_reference(M, x.data(), ldx, view, want.data(), ldy, {});
        const size_t differ = differing_bits(got, want);
        INFO(what(t, "qgemm_q8c_ukernel M=" + std::to_string(M) + " N=" + std::to_string(N) +
                         " K=" + std::to_string(K)));
        CHECK(differ == 0);
      }
}
void check_qgemm_q4_ukernel(const KernelTable& t) { check_qgemm_ukernel(t, nystrom::format::DType::Q4_0); }

// The fused f32 kernel: on every corner tile, the same bits as the level's
// micro-kernel followed by its bias_act_rows, for every epilogue.
void check_gemm_ukernel_epilogue(const KernelTable& t) {
  const int MR = t.gemm.mr, NR = t.gemm.nr, ldc = NR + 3;
  std::mt19937 rng(25);
  for (int k : {1, 5, 17})
    for (int mr : {1, 4, 5, 8, 9, MR - 1, MR})
      for (int nr : {1, NR / 2 + 1, NR - 1, NR}) {
        if (mr < 1 || mr > MR || nr < 1) continue;
        const std::vector<float> a = uniform(rng, (size_t)k * MR, -2, 2), b = uniform(rng, (size_t)k * NR, -2, 2);
        const std::vector<float> c_old = uniform(rng, (size_t)(MR + 1) * ldc, -2, 2), bias = uniform(rng, NR, -1, 1);
        each_epilogue(bias.data(), -0.25f, [&](const nystrom::ops::Epilogue& ep, const std::string& name) {
          std::vector<float> got = c_old, want = c_old;
          t.gemm_ukernel_epilogue(k, a.data(), b.data(), got.data(), ldc, mr, nr, ep.accumulate, ep.bias, ep.act,
                                  ep.scale);
          t.gemm_ukernel(k, a.data(), b.data(), want.data(), ldc, mr, nr, ep.accumulate);
          t.bias_act_rows(want.data(), ldc, mr, ep.bias, nr, ep.act, ep.scale);
          INFO(what(t, "gemm_ukernel_epilogue k=" + std::to_string(k) + " mr=" + std::to_string(mr) +
                           " nr=" + std::to_string(nr) + name));
          CHECK(differing_bits(got, want) == 0);
        });
      }
}

// The fused q8_c kernel: through qgemm, the same bits as the level's own
// micro-kernel followed by its bias_act_rows, for every epilogue (each
// activation, a bias or none, accumulate, a scale) on tiles cut at every
// edge. Random values: both sides do the same float operations.
void check_qgemm_q8c_ukernel_epilogue(const KernelTable& t) {
  using nystrom::format::DType;
  KernelTable plain = t;
  plain.qgemm_q8c_ukernel_epilogue = nullptr;
  std::mt19937 rng(23);
  const int MR = t.qgemm.mr_c, NR = t.qgemm.nr;
  for (int M : {1, MR - 1, MR + 1, 2 * MR + 5})
    for (int N : {1, NR - 1, NR + 3, 2 * NR})
      for (int K : {32, 96}) {
        const int ldx = K + 5, ldy = N + 2;
        const std::vector<float> x = uniform(rng, (size_t)M * ldx, -4, 4), bias = uniform(rng, N, -1, 1);
        std::vector<int8_t> q((size_t)N * K);
        std::uniform_int_distribution<int> w8(-127, 127);
        for (int8_t& v : q) v = (int8_t)w8(rng);
        std::vector<uint8_t> w((size_t)N * (K + 4));
        std::memcpy(w.data(), q.data(), q.size());
        for (int j = 0; j < N; ++j) {
          const float s = 0.01f * (float)(1 + j % 5);
          std::memcpy(&w[(size_t)N * K + 4 * j], &s, 4);
        }
        const nystrom::QuantMatrixView view = {DType::Q8_C, N, K, w.data()};
        const nystrom::PackedQuantMatrix packed(t, view);
        const std::vector<float> y0 = uniform(rng, (size_t)M * ldy, -2, 2);
        each_epilogue(bias.data(), 0.35355339f, [&](const nystrom::ops::Epilogue& ep, const std::string& name) {
          std::vector<float> got = y0, want = y0;
          nystrom::qgemm(t, nullptr, M, x.data(), ldx, packed, got.data(), ldy, ep);
          nystrom::qgemm(plain, nullptr, M, x.data(), ldx, packed, want.data(), ldy, ep);
          INFO(what(t, "qgemm_q8c_ukernel_epilogue M=" + std::to_string(M) + " N=" + std::to_string(N) +
                           " K=" + std::to_string(K) + name));
          CHECK(differing_bits(got, want) == 0);
        });
      }
}

void check_quantize_act_row(const KernelTable& t) {
  // Exactly the bytes, scales and corrections of quantize_row_q8_act: blocks
  // of random values, a zero block, ties at half a step, an infinity, a NaN.
  std::mt19937 rng(19);
  for (int nblocks : {1, 2, 3, 9}) {
    const int K = 32 * nblocks;
    std::vector<float> x = uniform(rng, K, -3, 3);
    if (nblocks >= 2)
      for (int i = 32; i < 64; ++i) x[i] = 0.0f;
    if (nblocks >= 3) {
      for (int i = 64; i < 96; ++i) x[i] = (float)(i - 80) + 0.5f;  // ties of half a step (d = 1)
      x[95] = 127.0f;
    }
    if (nblocks >= 9) x[200] = INFINITY, x[260] = NAN;
    std::vector<int8_t> q(K), q_ref(K);
    std::vector<float> d(nblocks), d_ref(nblocks);
    std::vector<int32_t> c(nblocks), c_ref(nblocks);
    t.quantize_act_row(x.data(), K, q.data(), d.data(), c.data());
    nystrom::quantize_row_q8_act(x.data(), K, q_ref.data(), d_ref.data(), c_ref.data());
    INFO(what(t, "quantize_act_row K=" + std::to_string(K)));
    CHECK(q == q_ref);
    CHECK(c == c_ref);
    for (int b = 0; b < nblocks; ++b) CHECK((std::isnan(d_ref[b]) ? std::isnan(d[b]) : same_bits(d[b], d_ref[b])));
  }
}

void check_quantize_act_row_c(const KernelTable& t) {
  // Exactly the bytes, scale and correction of quantize_row_q8c_act: random
  // rows, ties at half a step (scale 1), a zero row, an infinity, a NaN.
  std::mt19937 rng(23);
  for (int nblocks : {1, 2, 3, 9, 96}) {
    const int K = 32 * nblocks;
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<float> x = uniform(rng, K, -3, 3);
      if (kind == 1) {
        for (int i = 0; i < K; ++i) x[i] = (float)(i % 200 - 100) + 0.5f;
        x[K - 1] = 127.0f;
      }
      if (kind == 2) std::fill(x.begin(), x.end(), 0.0f);
      if (kind == 3) x[K / 2] = nblocks % 2 ? INFINITY : NAN;
      std::vector<int8_t> q(K), q_ref(K);
      float d, d_ref;
      int32_t c, c_ref;
      t.quantize_act_row_c(x.data(), K, q.data(), &d, &c);
      nystrom::quantize_row_q8c_act(x.data(), K, q_ref.data(), &d_ref, &c_ref);
      INFO(what(t, "quantize_act_row_c K=" + std::to_string(K) + " kind=" + std::to_string(kind)));
      CHECK(q == q_ref);
      CHECK(c == c_ref);
      CHECK((std::isnan(d_ref) ? std::isnan(d) : same_bits(d, d_ref)));
    }
  }
}

void check_f16_to_f32_row(const KernelTable& t) {
  // Every pattern, in runs of awkward lengths (so that each run ends in a
  // vector tail), and nothing written past a run.
  std::vector<uint16_t> h(65536);
  for (size_t i = 0; i < h.size(); ++i) h[i] = (uint16_t)i;
  size_t bad = 0;
  const int runs[] = {1, 3, 7, 8, 15, 17, 33, 100, 1000};
  for (size_t start = 0, r = 0; start < h.size(); ++r) {
    const int n = (int)std::min<size_t>(runs[r % 9], h.size() - start);
    std::vector<float> out(n + 1, test::sentinel());
    t.f16_to_f32_row(h.data() + start, out.data(), n);
    for (int i = 0; i < n; ++i) {
      const float want = nystrom::f16_to_float(h[start + i]);
      bad += !(std::isnan(want) ? std::isnan(out[i]) : same_bits(out[i], want));
    }
    bad += !test::is_sentinel(out[n]);
    start += n;
  }
  INFO(what(t, "f16_to_f32_row"));
  CHECK(bad == 0);
}

// The peak loops have no reference value: they must do `iters` rounds (the
// count doubles with iters, a whole number of ops per round) and fill the
// sink.
template <typename Sink>
void check_peak(const KernelTable& t, const char* name, double (*loop)(long, Sink*)) {
  Sink sink[16] = {};
  const double ops = loop(1000, sink), ops2 = loop(2000, sink);
  INFO(what(t, name));
  CHECK(ops > 0);
  CHECK(ops2 == 2 * ops);
  CHECK(ops / 1000 == std::floor(ops / 1000));
  CHECK(std::isfinite((double)sink[0]));
}
void check_fma_peak_loop(const KernelTable& t) { check_peak(t, "fma_peak_loop", t.fma_peak_loop); }
void check_int8_peak_loop(const KernelTable& t) { check_peak(t, "int8_peak_loop", t.int8_peak_loop); }

// bf16 conversions: every level gives bf16_from_float's bits, on random
// bit patterns (NaNs, infinities, subnormals and zeros among them) at
// lengths around the vector widths, and writes nothing past the pairs.
std::vector<float> bf16_probe_values(std::mt19937& rng, size_t n) {
  std::vector<float> x(n);
  const uint32_t specials[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu, 0x7f800000u, 0xff800000u,
                               0x7fc00000u, 0x7f800001u, 0xffbfffffu, 0x3f808000u, 0x3f818000u, 0x7f7fffffu};
  for (size_t i = 0; i < n; ++i) {
    const uint32_t u = i % 3 == 0 ? specials[rng() % 12] : (uint32_t)rng();
    std::memcpy(&x[i], &u, sizeof u);
  }
  return x;
}

const int kBf16Lengths[] = {1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1001};

void check_bf16_convert_row(const KernelTable& t) {
  std::mt19937 rng(31);
  size_t bad = 0, stray = 0;
  for (int k : kBf16Lengths)
    for (int round = 0; round < 20; ++round) {
      const std::vector<float> x = bf16_probe_values(rng, k);
      const int P = (k + 1) / 2;
      std::vector<uint32_t> got(P + 1, 0xdeadbeefu), want(P + 1, 0xdeadbeefu);
      t.bf16_convert_row(x.data(), k, got.data());
      nystrom::ref::bf16_convert_row(x.data(), k, want.data());
      for (int i = 0; i < P; ++i) bad += got[i] != want[i];
      stray += got[P] != 0xdeadbeefu;
    }
  INFO(what(t, "bf16_convert_row"));
  CHECK(bad == 0);
  CHECK(stray == 0);
}

void check_bf16_interleave_rows(const KernelTable& t) {
  std::mt19937 rng(32);
  size_t bad = 0, stray = 0;
  for (int n : kBf16Lengths)
    for (bool with_hi : {true, false})
      for (int round = 0; round < 10; ++round) {
        const std::vector<float> lo = bf16_probe_values(rng, n), hi = bf16_probe_values(rng, n);
        std::vector<uint32_t> got(n + 1, 0xdeadbeefu), want(n + 1, 0xdeadbeefu);
        t.bf16_interleave_rows(lo.data(), with_hi ? hi.data() : nullptr, n, got.data());
        nystrom::ref::bf16_interleave_rows(lo.data(), with_hi ? hi.data() : nullptr, n, want.data());
        for (int i = 0; i < n; ++i) bad += got[i] != want[i];
        stray += got[n] != 0xdeadbeefu;
      }
  INFO(what(t, "bf16_interleave_rows"));
  CHECK(bad == 0);
  CHECK(stray == 0);
}

// The micro-kernel: the reference's bits on every corner tile (operands of
// normal magnitude, so no step is subnormal: there the emulations keep
// what vdpbf16ps flushes), and nothing written outside mr x nr.
void check_gemm_bf16_ukernel(const KernelTable& t) {
  const int MR = t.bf16.mr, NR = t.bf16.nr, ldc = NR + 3;
  std::mt19937 rng(33);
  std::uniform_real_distribution<float> d(-2.0f, 2.0f);
  auto pairs_of = [&](size_t count) {
    std::vector<uint32_t> v(count);
    for (uint32_t& p : v) p = nystrom::bf16_from_float(d(rng)) | (uint32_t)nystrom::bf16_from_float(d(rng)) << 16;
    return v;
  };
  for (int pairs : {0, 1, 2, 5, 17, 300})
    for (int mr : {1, 4, 5, MR - 1, MR})
      for (int nr : {1, NR / 2 + 1, NR - 1, NR}) {
        if (mr < 1 || mr > MR) continue;
        const size_t lda = (size_t)pairs + 3, ldb = (size_t)NR + 5;
        const std::vector<uint32_t> a = pairs_of(MR * lda), b = pairs_of(std::max(1, pairs) * ldb);
        const std::vector<float> c_old = uniform(rng, (size_t)(MR + 1) * ldc, -1, 1);
        std::vector<float> got = c_old, want = c_old;
        t.gemm_bf16_ukernel(pairs, a.data(), lda, b.data(), ldb, got.data(), ldc, mr, nr);
        nystrom::ref::gemm_bf16_ukernel(pairs, a.data(), lda, b.data(), ldb, want.data(), ldc, mr, nr);
        INFO(what(t, "gemm_bf16_ukernel pairs=" + std::to_string(pairs) + " mr=" + std::to_string(mr) +
                         " nr=" + std::to_string(nr)));
        CHECK(differing_bits(got, want) == 0);
      }
}

// ---------------------------------------------------------------------------
// The registry: one check per function-pointer slot.

struct Entry {
  const char* name;
  size_t offset;
  void (*check)(const KernelTable& t);
};

#define NYSTROM_ENTRY(field) {#field, offsetof(KernelTable, field), check_##field}
const Entry kEntries[] = {
    NYSTROM_ENTRY(gemm_ukernel),     NYSTROM_ENTRY(gemm_ukernel_rows), NYSTROM_ENTRY(pack_panel),       NYSTROM_ENTRY(softmax_row),
    NYSTROM_ENTRY(layer_norm_row),   NYSTROM_ENTRY(bias_act_rows),     NYSTROM_ENTRY(segment_means),
    NYSTROM_ENTRY(depthwise_conv_add), NYSTROM_ENTRY(qgemm_q8_ukernel), NYSTROM_ENTRY(qgemm_q4_ukernel),
    NYSTROM_ENTRY(qgemm_q8c_ukernel),
    NYSTROM_ENTRY(quantize_act_row), NYSTROM_ENTRY(quantize_act_row_c), NYSTROM_ENTRY(f16_to_f32_row),   NYSTROM_ENTRY(fma_peak_loop),
    NYSTROM_ENTRY(int8_peak_loop), NYSTROM_ENTRY(qgemm_q8c_ukernel_epilogue), NYSTROM_ENTRY(gemm_ukernel_epilogue),
    NYSTROM_ENTRY(bf16_convert_row), NYSTROM_ENTRY(bf16_interleave_rows), NYSTROM_ENTRY(gemm_bf16_ukernel),
};
#undef NYSTROM_ENTRY

// The levels without an 8-bit dot-product peak loop (the bench measures the
// int8 peak with VNNI only).
const Isa kNoInt8Peak[] = {Isa::Scalar, Isa::Avx2, Isa::Neon, Isa::NeonDot};
// The levels without fused epilogue kernels (gemm and qgemm run the
// epilogue after the micro-kernel there).
const Isa kNoFusedEpilogue[] = {Isa::Scalar, Isa::Avx2, Isa::Neon, Isa::NeonDot};

// Slots: the function pointers from gemm_ukernel to the end of the table
// (kernel_table.h keeps every other member before them).
constexpr size_t kFirstSlot = offsetof(KernelTable, gemm_ukernel);
constexpr size_t kSlotSize = sizeof(void (*)());
constexpr size_t kSlots = (sizeof(KernelTable) - kFirstSlot) / kSlotSize;

bool slot_is_set(const KernelTable& t, size_t offset) {
  void (*p)() = nullptr;
  std::memcpy(&p, reinterpret_cast<const char*>(&t) + offset, sizeof p);
  return p != nullptr;
}

}  // namespace

TEST_CASE("kernel tables: every function-pointer slot has a check, exactly once") {
  static_assert(sizeof(KernelTable) - kFirstSlot == kSlots * kSlotSize, "the slots fill the table's end");
  std::set<size_t> checked;
  for (const Entry& e : kEntries) {
    CAPTURE(e.name);
    CHECK((e.offset - kFirstSlot) % kSlotSize == 0);
    CHECK(checked.insert(e.offset).second);
  }
  CHECK(checked.size() == kSlots);
}

TEST_CASE("kernel tables: every slot is set in every table this CPU runs (the two optional ones only where they exist)") {
  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    for (size_t off = kFirstSlot; off < sizeof(KernelTable); off += kSlotSize) {
      bool may_be_empty = false;
      if (off == offsetof(KernelTable, int8_peak_loop))
        for (Isa isa : kNoInt8Peak) may_be_empty = may_be_empty || isa == t->isa;
      if (off == offsetof(KernelTable, qgemm_q8c_ukernel_epilogue) || off == offsetof(KernelTable, gemm_ukernel_epilogue))
        for (Isa isa : kNoFusedEpilogue) may_be_empty = may_be_empty || isa == t->isa;
      CAPTURE(off);
      CHECK((slot_is_set(*t, off) || may_be_empty));
    }
    const bool has_int8_peak = t->int8_peak_loop != nullptr;
    if (t->isa == Isa::Avx512) CHECK(has_int8_peak);
    const bool has_fused = t->qgemm_q8c_ukernel_epilogue != nullptr && t->gemm_ukernel_epilogue != nullptr;
    if (t->isa == Isa::Avx512) CHECK(has_fused);
  }
}

TEST_CASE("kernel tables: every entry of every level matches its reference on awkward shapes") {
  // The scalar level included: its entries must be the references' own
  // (or match them), and the probes of the integer kernels build on it.
  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    for (const Entry& e : kEntries) {
      CAPTURE(e.name);
      if (slot_is_set(*t, e.offset)) e.check(*t);
    }
  }
}

TEST_CASE("kernel tables: the avx512 table for CPUs without AVX-512 BF16 gives the same bf16 bits") {
#if defined(__x86_64__)
  // Its conversions and micro-kernel emulate the instructions; where the
  // CPU has them, the native table's checks above ran against the same
  // references.
  if (!nystrom::kernels_for(Isa::Avx512)) return;
  const KernelTable& emulated = nystrom::avx512::avx512_kernels(false);
  check_bf16_convert_row(emulated);
  check_bf16_interleave_rows(emulated);
  check_gemm_bf16_ukernel(emulated);
#endif
}

TEST_CASE("kernel tables: each level's sizes fit its kernels") {
  for (const KernelTable* t : test::levels()) {
    CAPTURE(nystrom::isa_name(t->isa));
    CHECK(t->gemm.mr > 0);
    CHECK(t->gemm.nr > 0);
    CHECK(t->gemm.kc > 0);
    CHECK(t->gemm.nc > 0);
    CHECK(t->gemm.mc % t->gemm.mr == 0);
    CHECK(t->qgemm.nr % 16 == 0);  // 64-byte aligned panel blocks (kernel_table.h)
    CHECK(t->qgemm_blocks.kb > 0);
    CHECK(t->qgemm_blocks.mc % t->qgemm.mr == 0);
    CHECK(t->bf16.mr > 0);
    CHECK(t->bf16.nr > 0);
  }
}
