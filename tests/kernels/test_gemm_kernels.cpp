// The GEMM of every dispatch level this CPU runs (scalar, avx2, avx512 on
// x86; scalar, neon on aarch64), in two layers:
//  - each table's register-tile micro-kernel against ref::gemm_ukernel, for
//    every tile corner mr x nr it may be asked for, with NaN sentinels around
//    the tile so that a stray store (or a read of C without accumulate) shows;
//  - nystrom::gemm_blocked (packing, cache blocks, threads) against ref::gemm
//    on shapes that straddle MR, NR, KC, MC and NC, every transpose
//    combination, padded leading dimensions and every epilogue;
// and gemm_blocked's promise that its results do not depend on the number of
// threads, bit for bit.
//
// Tolerances. Any order of summing n float terms t_1..t_n (pairwise, in
// several partial sums, with or without FMA) is within
// gamma_n * sum |t_i| of the exact sum, gamma_n = n u / (1 - n u), u = 2^-24
// (Higham, Accuracy and Stability of Numerical Algorithms, 3.1). The kernels
// and the references sum the same K products (plus the old C and the bias)
// in different orders, so each element may differ by up to twice that bound:
// it grows linearly with K, the depth of the sum, and is computed here per
// element from the absolute values of the terms. A GELU epilogue then
// stretches the difference by at most its largest slope (1.13; 1 for ReLU)
// and adds its own approximation error (1e-6 + 2 ulp, tests/kernels/test_row_kernels).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/ref/ref.h"
#include "kernel_support.h"
#include "runtime/thread_pool.h"
#include "support.h"

using nystrom::Isa;
using nystrom::KernelTable;
using nystrom::ops::Act;
using nystrom::ops::Epilogue;

namespace {

// ---------------------------------------------------------------------------
// Helpers

// The cache blocks the shapes of these tests straddle: the scalar level's
// (every level's KC and NC are checked to be the same).
const nystrom::GemmBlocks kBlocks = nystrom::kernels_for(Isa::Scalar)->gemm;

using test::act_name;
using test::is_sentinel;
using test::sentinel;
using test::two_gamma;
using test::WorstError;

// ---------------------------------------------------------------------------
// Micro-kernel cases

// Packed panels of depth k: a[p*MR + i], b[p*NR + j]. Every lane is
// random, including those past mr and nr, which the kernel may read but
// must not store.
void check_micro_kernel(const KernelTable& t, int k, std::mt19937& rng) {
  const int MR = t.gemm.mr, NR = t.gemm.nr;
  const int ldc = NR + 5, rows = MR + 2;  // one guard row above and below the tile
  const int row0 = 1, col0 = 3;           // where the tile starts inside the buffer
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> a((size_t)k * MR), b((size_t)k * NR);
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  std::vector<float> c_old((size_t)MR * NR);
  for (float& x : c_old) x = u(rng);

  // sum_p |a b| for every tile element, for the tolerance.
  std::vector<double> abs_sum((size_t)MR * NR, 0.0);
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      for (int p = 0; p < k; ++p)
        abs_sum[(size_t)i * NR + j] += std::fabs((double)a[(size_t)p * MR + i] * b[(size_t)p * NR + j]);

  const size_t size = (size_t)rows * ldc + col0;
  std::vector<float> got(size), want(size);
  for (int mr = 1; mr <= MR; ++mr) {
    for (int nr = 1; nr <= NR; ++nr) {
      for (bool accumulate : {false, true}) {
        // Without accumulate the tile holds the sentinel NaN too: C must not
        // be read (0 * NaN is NaN).
        std::fill(got.begin(), got.end(), sentinel());
        if (accumulate)
          for (int i = 0; i < mr; ++i)
            for (int j = 0; j < nr; ++j) got[(size_t)(row0 + i) * ldc + col0 + j] = c_old[(size_t)i * NR + j];
        want = got;
        float* gc = got.data() + (size_t)row0 * ldc + col0;
        float* wc = want.data() + (size_t)row0 * ldc + col0;
        t.gemm_ukernel(k, a.data(), b.data(), gc, ldc, mr, nr, accumulate);
        nystrom::ref::gemm_ukernel(k, a.data(), b.data(), wc, ldc, mr, nr, accumulate, MR, NR);

        WorstError worst;
        size_t outside_written = 0, first_outside = 0;
        for (size_t idx = 0; idx < size; ++idx) {
          const long r = (long)idx / ldc - row0, col = (long)idx % ldc - col0;
          const bool inside = r >= 0 && r < mr && col >= 0 && col < nr;
          if (!inside) {
            if (!is_sentinel(got[idx]) && outside_written++ == 0) first_outside = idx;
            continue;
          }
          const double c_abs = accumulate ? std::fabs((double)c_old[(size_t)r * NR + col]) : 0.0;
          const double tol = two_gamma(k + 1) * (abs_sum[(size_t)r * NR + col] + c_abs);
          worst.add(idx, got[idx], want[idx], tol);
        }
        INFO(std::string(nystrom::isa_name(t.isa)) << " " << MR << "x" << NR << " k=" << k << " mr=" << mr
                                                   << " nr=" << nr << " accumulate=" << accumulate);
        INFO("cells written outside the mr x nr tile: " << outside_written << " (first at tile row "
                                                        << (long)first_outside / ldc - row0 << ", column "
                                                        << (long)first_outside % ldc - col0 << ")");
        INFO("worst element: got " << worst.got << ", want " << worst.want
                                   << " (error / tolerance = " << worst.ratio << ")");
        CHECK(outside_written == 0);
        CHECK(worst.ratio <= 1.0);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Blocked GEMM cases

// One GEMM problem: logical A [M x K], B [K x N], the old C and the bias,
// stored in each transpose layout on demand.
struct Problem {
  int M, N, K;
  int pad;  // extra leading-dimension elements of every operand (0: tight)
  Epilogue ep;
  std::vector<float> A, B, C0, bias;  // logical, tight, row-major

  Problem(int m, int n, int k, int pad_, bool with_bias, Act act, bool accumulate, uint32_t seed)
      : M(m), N(n), K(k), pad(pad_) {
    A = test::random_vector((size_t)M * K, seed);
    B = test::random_vector((size_t)K * N, seed + 1);
    C0 = test::random_vector((size_t)M * N, seed + 2);
    bias = test::random_vector((size_t)N, seed + 3);
    ep.bias = with_bias ? bias.data() : nullptr;
    ep.act = act;
    ep.accumulate = accumulate;
  }

  std::string describe() const {
    return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
           " pad=" + std::to_string(pad) + " bias=" + (ep.bias ? "yes" : "no") + " act=" + act_name(ep.act) +
           " accumulate=" + (ep.accumulate ? "yes" : "no");
  }

  // op(A) with A(i,k) = trans ? a[k*lda + i] : a[i*lda + k]; gaps hold NaN
  // (the GEMM must not read them).
  std::vector<float> layout_a(bool trans, int* lda) const {
    const int rows = trans ? K : M, cols = trans ? M : K;
    *lda = cols + pad;
    std::vector<float> a((size_t)rows * *lda, sentinel());
    for (int i = 0; i < M; ++i)
      for (int k = 0; k < K; ++k)
        (trans ? a[(size_t)k * *lda + i] : a[(size_t)i * *lda + k]) = A[(size_t)i * K + k];
    return a;
  }
  std::vector<float> layout_b(bool trans, int* ldb) const {
    const int rows = trans ? N : K, cols = trans ? K : N;
    *ldb = cols + pad;
    std::vector<float> b((size_t)rows * *ldb, sentinel());
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < N; ++j)
        (trans ? b[(size_t)j * *ldb + k] : b[(size_t)k * *ldb + j]) = B[(size_t)k * N + j];
    return b;
  }
  // C with leading dimension ldc() between two guard rows (C itself starts
  // at row 1): the old C (or the sentinel, when it must not be read) in the
  // M x N corner, the sentinel in the gaps and the guard rows.
  int ldc() const { return N + pad; }
  std::vector<float> initial_c() const {
    std::vector<float> c((size_t)(M + 2) * ldc(), sentinel());
    if (ep.accumulate)
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) c[(size_t)(i + 1) * ldc() + j] = C0[(size_t)i * N + j];
    return c;
  }

  // gemm_blocked of one level and transpose combination; returns C.
  std::vector<float> run_blocked(const KernelTable& t, nystrom::ThreadPool* pool, bool trans_a,
                                 bool trans_b) const {
    int lda, ldb;
    const std::vector<float> a = layout_a(trans_a, &lda), b = layout_b(trans_b, &ldb);
    std::vector<float> c = initial_c();
    nystrom::gemm_blocked(t, pool, M, N, K, a.data(), lda, trans_a, b.data(), ldb, trans_b, c.data() + ldc(),
                          ldc(), ep);
    return c;
  }
};

// The reference result (laid out as Problem::initial_c) and each element's
// tolerance.
struct Expected {
  std::vector<float> c;
  std::vector<double> tol;
};

Expected expected(const Problem& p) {
  Expected e;
  const int ldc = p.ldc();
  e.c = p.initial_c();
  nystrom::ref::gemm(p.M, p.N, p.K, p.A.data(), p.K, false, p.B.data(), p.N, false, e.c.data() + ldc, ldc,
                     p.ep);

  // sum_k |A(i,k) B(k,j)| by ref::gemm on the absolute values (its own
  // rounding, a relative 1e-5 at most here, is immaterial to a bound).
  std::vector<float> abs_a(p.A.size()), abs_b(p.B.size()), abs_sum((size_t)p.M * p.N);
  for (size_t i = 0; i < p.A.size(); ++i) abs_a[i] = std::fabs(p.A[i]);
  for (size_t i = 0; i < p.B.size(); ++i) abs_b[i] = std::fabs(p.B[i]);
  nystrom::ref::gemm(p.M, p.N, p.K, abs_a.data(), p.K, false, abs_b.data(), p.N, false, abs_sum.data(), p.N,
                     {});

  const bool gelu = p.ep.act == Act::GeluTanh || p.ep.act == Act::GeluErf;
  const double slope = gelu ? 1.13 : 1.0;
  e.tol.assign(e.c.size(), 0.0);
  for (int i = 0; i < p.M; ++i) {
    for (int j = 0; j < p.N; ++j) {
      double terms = abs_sum[(size_t)i * p.N + j];
      if (p.ep.accumulate) terms += std::fabs(p.C0[(size_t)i * p.N + j]);
      if (p.ep.bias) terms += std::fabs(p.bias[j]);
      double tol = slope * two_gamma(p.K + 2) * terms;
      if (gelu) tol += 1e-6 + 2.5e-7 * std::fabs(e.c[(size_t)(i + 1) * ldc + j]);
      e.tol[(size_t)(i + 1) * ldc + j] = tol;
    }
  }
  return e;
}

// Compares one gemm_blocked result with the reference (test::check_corner).
void check_against(const Expected& e, const std::vector<float>& got, const Problem& p,
                   const std::string& what) {
  test::check_corner(got, e.c, e.tol, p.M, p.N, (size_t)p.ldc(), what + ", " + p.describe());
}

// Runs gemm_blocked for every level, transpose combination and pool, each
// against one reference result.
void check_blocked(const Problem& p, const std::vector<nystrom::ThreadPool*>& pools) {
  const Expected e = expected(p);
  for (const KernelTable* t : test::f32_gemm_levels()) {
    for (int trans = 0; trans < 4; ++trans) {
      const bool ta = trans & 1, tb = trans & 2;
      for (nystrom::ThreadPool* pool : pools) {
        const std::string what = std::string(nystrom::isa_name(t->isa)) + " trans_a=" + (ta ? "1" : "0") +
                                 " trans_b=" + (tb ? "1" : "0") +
                                 " threads=" + (pool ? std::to_string(pool->size()) : std::string("none"));
        check_against(e, p.run_blocked(*t, pool, ta, tb), p, what);
      }
    }
  }
}

struct EpilogueCase {
  bool bias;
  Act act;
  bool accumulate;
};

// Cycled through the shapes, so that each appears with many shapes.
const EpilogueCase kEpilogues[] = {
    {false, Act::None, false},    {true, Act::None, false},     {true, Act::GeluTanh, false},
    {false, Act::GeluErf, false}, {true, Act::Relu, true},      {false, Act::None, true},
    {true, Act::GeluErf, true},   {false, Act::GeluTanh, true}, {false, Act::Relu, false},
};
const int kNumEpilogues = sizeof kEpilogues / sizeof kEpilogues[0];

const int kSizes[] = {1, 2, 5, 13, 31, 97, 193, 385};
const int kNumSizes = sizeof kSizes / sizeof kSizes[0];

}  // namespace

// ---------------------------------------------------------------------------
// Tests

TEST_CASE("gemm kernels: at least the scalar level is under test; each level's blocks fit its tile and the shapes here") {
  const std::vector<const KernelTable*> ts = test::levels();
  REQUIRE(!ts.empty());
  CHECK(ts.front()->isa == Isa::Scalar);
  for (const KernelTable* t : ts) {
    CAPTURE(nystrom::isa_name(t->isa));
    CHECK(t->gemm.mr > 0);
    CHECK(t->gemm.nr > 0);
    CHECK(t->gemm.mc % t->gemm.mr == 0);  // kernel_table.h promises MC is a multiple of MR
    // The shapes below straddle KC and NC as the scalar level sets them; a
    // level with blocks of its own needs shapes of its own.
    CHECK(t->gemm.kc == kBlocks.kc);
    CHECK(t->gemm.nc == kBlocks.nc);
  }
  // gemm_blocked's cases run each distinct f32 GEMM once: every level but
  // neon_dot, which shares neon's (a level that gets an f32 kernel of its
  // own is tested again by changing this), and emulated or sanitized every
  // level but the scalar one as well (test::f32_gemm_levels()).
  const bool neon_dot = nystrom::kernels_for(Isa::NeonDot) != nullptr;
  CHECK(test::f32_gemm_levels().size() == ts.size() - (neon_dot ? 1 : 0) - (test::emulated_or_sanitized() ? 1 : 0));
}

TEST_CASE("gemm kernels: each level's pack_panel interleaves rows exactly as the reference and zero-pads") {
  // Panels of every width in use (MR 4, 6, 8, 12; NR 8, 12, 16, 32), every
  // row count up to the width (groups of four and the 1-3 rows left), and
  // depths off the 4-wide transposes. Data movement only: bit for bit.
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const KernelTable* t : test::levels())
    for (int R : {4, 6, 8, 12, 16, 32})
      for (int rows = 1; rows <= R; rows += (rows < 6 ? 1 : 5))
        for (int kc : {1, 2, 3, 4, 5, 7, 8, 17, 64, 769}) {
          const size_t ld = (size_t)kc + 3;
          std::vector<float> src(ld * rows);
          for (float& x : src) x = u(rng);
          std::vector<float> want((size_t)R * kc + 8, -7.0f), got = want;  // 8 past the end must stay
          nystrom::ref::pack_panel(src.data(), ld, rows, R, kc, want.data());
          t->pack_panel(src.data(), ld, rows, R, kc, got.data());
          INFO(nystrom::isa_name(t->isa) << " R=" << R << " rows=" << rows << " kc=" << kc);
          CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
          CHECK(want[(size_t)(kc - 1) * R + rows - 1] == src[(size_t)(rows - 1) * ld + kc - 1]);
          CHECK(want[(size_t)R * kc] == -7.0f);
        }
}

TEST_CASE("gemm kernels: RowBlocks splits M into whole tiles, evenly, in a multiple of the thread count") {
  for (int M : {1, 5, 12, 13, 143, 144, 145, 512, 4096, 4097})
    for (int MR : {4, 6, 12})
      for (int threads : {1, 2, 3, 5}) {
        const nystrom::RowBlocks rows(M, MR, kBlocks.mc, threads);
        CAPTURE(M);
        CAPTURE(MR);
        CAPTURE(threads);
        const int tiles = (M + MR - 1) / MR;
        REQUIRE(rows.count >= 1);
        CHECK(rows.begin(0) == 0);
        CHECK(rows.begin(rows.count) == M);
        // As many blocks as a multiple of the threads, unless there are fewer tiles.
        CHECK((rows.count % threads == 0 || rows.count == tiles));
        CHECK(rows.count >= (M + kBlocks.mc - 1) / kBlocks.mc);
        int smallest = M, largest = 0;
        for (int b = 0; b < rows.count; ++b) {
          const int size = rows.begin(b + 1) - rows.begin(b);
          CHECK(size > 0);
          if (rows.begin(b + 1) < M) CHECK(size % MR == 0);  // whole tiles but the last
          smallest = std::min(smallest, (rows.begin(b + 1) == M) ? smallest : size);
          largest = std::max(largest, size);
        }
        CHECK(largest - smallest <= MR);
      }
}

TEST_CASE(
    "gemm kernels: each micro-kernel matches the reference for every mr x nr corner and never stores outside it") {
  std::mt19937 rng(20240611);
  for (const KernelTable* t : test::levels())
    for (int k : {1, 2, 3, 7, 16, 17, 192, 300}) check_micro_kernel(*t, k, rng);
}

TEST_CASE("gemm kernels: gemm_blocked matches ref::gemm on awkward shapes, every transpose and epilogue") {
  // M, N and K each take every size; the sizes sit below, at and above
  // the tiles (1, 2, 5, 13) and make 1 to 3 row blocks of about MC = 144
  // (97, 193, 385). Pairs (M, N) are crossed fully, K cycles with them;
  // depths past KC are the next test's.
  nystrom::ThreadPool two(2), three(3);
  const std::vector<nystrom::ThreadPool*> pools = {nullptr, &two, &three};
  int case_id = 0;
  for (int i = 0; i < kNumSizes; ++i) {
    for (int j = 0; j < kNumSizes; ++j, ++case_id) {
      const int M = kSizes[i], N = kSizes[j], K = kSizes[(i + 3 * j) % kNumSizes];
      const EpilogueCase& ec = kEpilogues[case_id % kNumEpilogues];
      const int pad = case_id % 4 == 0 ? 0 : 1 + case_id % 7;
      check_blocked(Problem(M, N, K, pad, ec.bias, ec.act, ec.accumulate, 1000 + case_id), pools);
    }
  }
}

TEST_CASE("gemm kernels: gemm_blocked matches ref::gemm across the KC, MC and NC blocks") {
  nystrom::ThreadPool two(2), three(3);
  const std::vector<nystrom::ThreadPool*> pools = {nullptr, &two, &three};
  SUBCASE("M = 700, N = 300, K = KC + 400: several MC row blocks and KC depth blocks, ragged at both ends") {
    check_blocked(Problem(700, 300, kBlocks.kc + 400, 3, true, Act::GeluTanh, true, 1), pools);
  }
  SUBCASE("N = NC + 4 with small M and K, no epilogue") {
    check_blocked(Problem(5, kBlocks.nc + 4, 13, 2, false, Act::None, false, 2), pools);
  }
  SUBCASE("N = NC + 4 with K = KC + 9, bias, ReLU and accumulate") {
    check_blocked(Problem(13, kBlocks.nc + 4, kBlocks.kc + 9, 0, true, Act::Relu, true, 3), pools);
  }
  SUBCASE("K = 0: only the epilogue, on zero or on the old C") {
    check_blocked(Problem(7, 19, 0, 1, true, Act::GeluErf, false, 4), pools);
    check_blocked(Problem(7, 19, 0, 1, true, Act::Relu, true, 5), pools);
  }
}

TEST_CASE("gemm kernels: gemm_blocked gives bit-identical results for 1, 2, 3 and 5 threads") {
  // Work is split over rows and columns of C, never over K (kernels/gemm.h),
  // so every element is summed in the same order whatever the thread count.
  // Two transpose combinations take every packing path (the split does not
  // depend on them); the shapes have 1 to 8 blocks of MC rows, so the pools
  // split C by rows only or by rows and columns.
  struct Shape {
    int M, N, K;
  };
  const int KC = kBlocks.kc;
  const Shape shapes[] = {{700, 300, KC + 400}, {13, kBlocks.nc + 4, KC + 9}, {97, 193, 385}, {2, 385, 31}, {385, 5, 193}};
  nystrom::ThreadPool one(1), two(2), three(3), five(5);
  int seed = 100;
  for (const Shape& s : shapes) {
    const Problem p(s.M, s.N, s.K, 3, true, Act::GeluErf, true, seed += 10);
    for (const KernelTable* t : test::f32_gemm_levels()) {
      for (bool ta : {false, true}) {
        const bool tb = !ta;
        const std::vector<float> base = p.run_blocked(*t, nullptr, ta, tb);
        for (nystrom::ThreadPool* pool : {&one, &two, &three, &five}) {
          const std::vector<float> got = p.run_blocked(*t, pool, ta, tb);
          const bool same = got.size() == base.size() &&
                            std::memcmp(got.data(), base.data(), got.size() * sizeof(float)) == 0;
          size_t first = 0;
          while (!same && first < got.size() && std::memcmp(&got[first], &base[first], sizeof(float)) == 0)
            ++first;
          INFO(std::string(nystrom::isa_name(t->isa)) << " trans_a=" << ta << " trans_b=" << tb
                                                      << " threads=" << pool->size() << ", " << p.describe());
          INFO("first difference at element " << first);
          CHECK(same);
        }
      }
    }
  }
}
