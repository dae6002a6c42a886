// bf16 products (AttentionPrecision::BF16): the rounding to bf16, and
// gemm_bf16 at every level against the definition written out (operands
// rounded, each element one chain of FMAs over the pairs, the high half of
// a pair first), on awkward shapes.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernel_support.h"
#include "kernels/bf16_gemm.h"
#include "kernels/ref/ref.h"
#include "runtime/cpu_features.h"

namespace {

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
float from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof u);
  return x;
}

// C = A op(B) as kernel_table.h defines it, one element at a time.
std::vector<float> definition(int M, int N, int K, const std::vector<float>& a, int lda, const std::vector<float>& b,
                              int ldb, bool trans_b) {
  std::vector<float> c((size_t)M * N);
  auto bf = [](float x) { return nystrom::float_from_bf16(nystrom::bf16_from_float(x)); };
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int k = 0; k < K; k += 2) {
        auto B = [&](int kk) { return trans_b ? b[(size_t)j * ldb + kk] : b[(size_t)kk * ldb + j]; };
        if (k + 1 < K) acc = std::fma(bf(a[(size_t)i * lda + k + 1]), bf(B(k + 1)), acc);
        acc = std::fma(bf(a[(size_t)i * lda + k]), bf(B(k)), acc);
      }
      c[(size_t)i * N + j] = acc;
    }
  return c;
}

}  // namespace

TEST_CASE("bf16 rounding: nearest even, subnormals to signed zero, NaNs stay quiet NaNs, overflow to infinity") {
  CHECK(nystrom::bf16_from_float(1.0f) == 0x3f80);
  CHECK(nystrom::bf16_from_float(-2.0f) == 0xc000);
  CHECK(nystrom::bf16_from_float(from_bits(0x3f808000u)) == 0x3f80);  // a tie, to the even neighbour
  CHECK(nystrom::bf16_from_float(from_bits(0x3f818000u)) == 0x3f82);
  CHECK(nystrom::bf16_from_float(from_bits(0x3f808001u)) == 0x3f81);  // above the tie
  CHECK(nystrom::bf16_from_float(from_bits(0x00400000u)) == 0x0000);  // subnormal
  CHECK(nystrom::bf16_from_float(from_bits(0x80000001u)) == 0x8000);
  CHECK(nystrom::bf16_from_float(FLT_MIN) == 0x0080);                 // the smallest normal stays
  CHECK(nystrom::bf16_from_float(FLT_MAX) == 0x7f80);                 // past bf16's largest: infinity
  CHECK(nystrom::bf16_from_float(-INFINITY) == 0xff80);
  CHECK(nystrom::bf16_from_float(from_bits(0x7f800001u)) == 0x7fc0);  // a signalling NaN, quieted
  CHECK(nystrom::bf16_from_float(from_bits(0xffffffffu)) == 0xffff);
  CHECK(bits(nystrom::float_from_bf16(0x3f82)) == 0x3f820000u);
}

TEST_CASE("gemm_bf16 at every level gives the bits of its definition on awkward shapes, either layout of B") {
  std::mt19937 rng(41);
  std::uniform_real_distribution<float> d(-3.0f, 3.0f);
  for (const nystrom::KernelTable* t : test::levels())
    for (int M : {1, 5, 13, 64})
      for (int N : {1, 17, 33, 100})
        for (int K : {1, 2, 3, 64, 65, 130})
          for (bool trans_b : {false, true}) {
            const int lda = K + 3, ldb = (trans_b ? K : N) + 2, ldc = N + 1;
            std::vector<float> a((size_t)M * lda), b((size_t)(trans_b ? N : K) * ldb);
            for (float& x : a) x = d(rng);
            for (float& x : b) x = d(rng);
            std::vector<float> c((size_t)M * ldc, test::sentinel());
            nystrom::Bf16GemmScratch scratch;
            nystrom::gemm_bf16(*t, M, N, K, a.data(), lda, b.data(), ldb, trans_b, c.data(), ldc, scratch);
            const std::vector<float> want = definition(M, N, K, a, lda, b, ldb, trans_b);
            size_t differ = 0, stray = 0;
            for (int i = 0; i < M; ++i) {
              for (int j = 0; j < N; ++j) differ += bits(c[(size_t)i * ldc + j]) != bits(want[(size_t)i * N + j]);
              stray += !test::is_sentinel(c[(size_t)i * ldc + N]);
            }
            const std::string where = std::string(nystrom::isa_name(t->isa)) + " M=" + std::to_string(M) +
                                      " N=" + std::to_string(N) + " K=" + std::to_string(K) + (trans_b ? " B^T" : "");
            INFO(where);
            CHECK(differ == 0);
            CHECK(stray == 0);
          }
}

TEST_CASE("gemm_bf16: the scratch grows and is reused; K = 0 gives zeros") {
  const nystrom::KernelTable& t = *test::levels().back();
  nystrom::Bf16GemmScratch scratch;
  std::vector<float> a(64 * 64, 0.5f), b(64 * 64, 0.25f), c(64 * 64, 1.0f);
  nystrom::gemm_bf16(t, 64, 64, 64, a.data(), 64, b.data(), 64, false, c.data(), 64, scratch);
  CHECK(c[0] == 64 * 0.125f);
  nystrom::gemm_bf16(t, 3, 2, 0, a.data(), 64, b.data(), 64, false, c.data(), 64, scratch);
  CHECK(c[0] == 0.0f);
  CHECK(c[65] == 0.0f);
  CHECK(c[2] == 64 * 0.125f);  // outside the 3 x 2 result
}

TEST_CASE("vdpbf16ps flushes a subnormal step to zero, as the reference does (where the CPU has it)") {
  // The one place the emulations differ (kernel_table.h): checked against
  // the instruction itself, on the level that runs it.
  const nystrom::KernelTable* avx512 = nystrom::kernels_for(nystrom::Isa::Avx512);
  if (!avx512 || !nystrom::cpu_features().avx512bf16) return;
  const int MR = avx512->bf16.mr, NR = avx512->bf16.nr;
  // Row i: pair (1e-20, 1e-19 * (i + 1)) against (1e-19, 1e-19): the high
  // products are subnormal (1e-38 .. ), the low ones are tiny normals or not.
  std::vector<uint32_t> a((size_t)MR * 2), b((size_t)2 * NR);
  for (int i = 0; i < MR; ++i) {
    a[(size_t)i * 2] = nystrom::bf16_from_float(2e-19f * (float)(i % 7)) |
                       (uint32_t)nystrom::bf16_from_float(1e-19f * (float)(i + 1)) << 16;
    a[(size_t)i * 2 + 1] = nystrom::bf16_from_float(-1e-19f) | (uint32_t)nystrom::bf16_from_float(3e-19f) << 16;
  }
  for (int j = 0; j < NR; ++j) {
    b[j] = nystrom::bf16_from_float(1e-19f * (float)(j % 5)) | (uint32_t)nystrom::bf16_from_float(1e-19f) << 16;
    b[NR + j] = nystrom::bf16_from_float(2e-19f) | (uint32_t)nystrom::bf16_from_float(-1e-19f * (float)(j % 3)) << 16;
  }
  std::vector<float> got((size_t)MR * NR), want(got.size());
  avx512->gemm_bf16_ukernel(2, a.data(), 2, b.data(), NR, got.data(), NR, MR, NR);
  nystrom::ref::gemm_bf16_ukernel(2, a.data(), 2, b.data(), NR, want.data(), NR, MR, NR);
  size_t differ = 0, flushed = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    differ += bits(got[i]) != bits(want[i]);
    flushed += want[i] == 0.0f;
  }
  CHECK(flushed > 0);  // the case exercises the flush
  CHECK(differ == 0);
}
