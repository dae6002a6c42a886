// The per-ISA row kernels (softmax, LayerNorm, bias + activation) against the
// scalar references in kernels/ref, for every SIMD level this CPU runs. The
// sizes straddle each vector width (4, 8 and 16 floats), so both the main
// loops and the masked or buffered row tails are exercised.
#include <doctest/doctest.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include "kernel_support.h"
#include "kernels/dispatch.h"
#include "kernels/ref/ref.h"

using nystrom::Isa;
using nystrom::KernelTable;
using nystrom::ops::Act;
using test::check_close;

namespace {

const int kSizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 768, 1000, 4097};

std::vector<float> uniform(std::mt19937& rng, int n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::string label(const KernelTable* t, const char* kernel, int n, const std::string& detail) {
  return std::string(nystrom::isa_name(t->isa)) + " " + kernel + " n=" + std::to_string(n) + " " + detail;
}

// Softmax in double of the same float differences x - max the kernels see
// (their rounding is part of any float softmax, not of the kernel's error).
std::vector<float> softmax_exact(const std::vector<float>& x) {
  float mx = x[0];
  for (float v : x) mx = v > mx ? v : mx;
  std::vector<double> e(x.size());
  double sum = 0.0;
  for (size_t i = 0; i < x.size(); ++i) sum += e[i] = std::exp((double)(x[i] - mx));
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = (float)(e[i] / sum);
  return out;
}

}  // namespace

TEST_CASE("row kernels: every SIMD level this CPU has is under test") {
  // The tests below silently check nothing for a level kernels_for() does not
  // return, so cross-check it against the compiler's own CPU detection.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // A level is expected exactly when the CPU has every feature it is
  // compiled for (Makefile: avx2 -mavx2 -mfma -mf16c; avx512 adds F, BW, VL,
  // DQ and VNNI).
  __builtin_cpu_init();
  // clang 14's __builtin_cpu_supports does not know "f16c": CPUID leaf 1, ECX bit 29.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx >> 29 & 1);
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vnni");
  CHECK((nystrom::kernels_for(Isa::Avx2) != nullptr) == avx2);
  CHECK((nystrom::kernels_for(Isa::Avx512) != nullptr) == avx512);
#elif defined(__aarch64__)
  CHECK(nystrom::kernels_for(Isa::Neon) != nullptr);  // Advanced SIMD is mandatory on aarch64
#if defined(HWCAP_ASIMDDP)
  // The dot product, from the kernel's own report (getauxval(AT_HWCAP)).
  CHECK((nystrom::kernels_for(Isa::NeonDot) != nullptr) == ((getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0));
#endif
#endif
}

TEST_CASE("softmax_row matches the reference") {
  // Tolerances. Against the double-precision softmax: the kernels' exp is
  // within 1.5 ulp (9e-8 relative) and their sum is kept in double, so each
  // output is within a few ulp; 3e-7 (5 ulp) relative, measured <= 1.8e-7.
  // Against ref::softmax_row, whose single running float sum drifts by about
  // sqrt(n) ulp on random rows (n ulp at worst): 3e-7 + 2 sqrt(n) ulp relative,
  // e.g. 8e-6 at n = 4097 where 2.5e-6 was measured. Both allow 1e-30
  // absolute: the kernels flush e^(x - max) < e^-87 to 0 where std::exp
  // still returns a denormal.
  const double abs_tol = 1e-30, rel_exact = 3e-7;
  std::mt19937 rng(1234);
  for (const KernelTable* t : test::simd_levels()) {
    for (int n : kSizes) {
      const double rel_ref = 3e-7 + 2.0 * std::sqrt((double)n) * 5.96e-8;
      struct Case {
        const char* name;
        std::vector<float> x;
      };
      std::vector<Case> cases;
      for (float scale : {1.0f, 30.0f, 1000.0f}) cases.push_back({"uniform", uniform(rng, n, -scale, scale)});
      // Large common offsets: only the differences to the max matter.
      std::vector<float> big = uniform(rng, n, -20.0f, 20.0f);
      for (float& v : big) v += 1.0e4f;
      cases.push_back({"offset +1e4", big});
      for (float& v : big) v -= 3.0e4f;
      cases.push_back({"offset -2e4", big});
      // Masked logits (-1e30 and -inf) among ordinary ones; entry 0 stays finite.
      std::vector<float> masked = uniform(rng, n, -5.0f, 5.0f);
      for (int i = 1; i < n; i += 3) masked[i] = (i % 2) ? -1.0e30f : -INFINITY;
      cases.push_back({"masked", masked});
      // Every entry masked with -1e30: a uniform distribution.
      cases.push_back({"all -1e30", std::vector<float>(n, -1.0e30f)});

      for (const Case& c : cases) {
        std::vector<float> got = c.x, want = c.x;
        t->softmax_row(got.data(), n);
        nystrom::ref::softmax_row(want.data(), n);
        check_close(got, want, abs_tol, rel_ref, label(t, "softmax_row", n, std::string(c.name) + " vs ref"));
        check_close(got, softmax_exact(c.x), abs_tol, rel_exact,
                    label(t, "softmax_row", n, std::string(c.name) + " vs double"));
      }
    }
  }
}

TEST_CASE("softmax_row: the kernels' exp is within 2e-7 relative") {
  // Rows {0, -t, ..., -t}: every output is e^-t or 1 over 1 + (n-1) e^-t,
  // so a sweep of t over [0, 80] in steps of 0.001 exposes exp's own error
  // (the row's differences are exact). The 2e-7 budget is exp's 1.5 ulp plus
  // the rounding of 1/sum and of the final product; measured 1.4e-7 (and
  // 3e-7 when exp's ln 2 correction term is dropped, which this must catch).
  for (const KernelTable* t : test::simd_levels()) {
    for (int n : {2, 17}) {  // one tail-only row, one with a full vector
      std::vector<float> got, want;
      for (int i = 0; i <= 80000; ++i) {
        std::vector<float> x(n, -0.001f * (float)i);
        x[0] = 0.0f;
        const std::vector<float> exact = softmax_exact(x);
        t->softmax_row(x.data(), n);
        got.insert(got.end(), x.begin(), x.end());
        want.insert(want.end(), exact.begin(), exact.end());
      }
      check_close(got, want, 0.0, 2e-7, label(t, "softmax_row", n, "rows {0, -t, ...}"));
    }
  }
}

TEST_CASE("layer_norm_row matches the reference, with and without aliasing") {
  // Tolerance: like the reference, the kernels form x + residual, the mean,
  // the variance and (v - mean) * inv in double and round that to float; the
  // reference then rounds gamma * n and + beta separately where the kernels
  // use one FMA. So they differ by about an ulp of gamma * n or of the output
  // (measured: at most 4.8e-7 on x86, on outputs up to ~10 in size, and 0 on
  // aarch64, where the compiler fuses the reference's multiply-add too).
  // 1e-6 absolute plus 1e-6 relative covers that with margin, while a float
  // x + residual fails it on the offset and cancelling rows.
  const double abs_tol = 1e-6, rel = 1e-6;
  std::mt19937 rng(5678);
  for (const KernelTable* t : test::simd_levels()) {
    for (int n : kSizes) {
      const std::vector<float> gamma = uniform(rng, n, 0.5f, 2.0f), beta = uniform(rng, n, -1.0f, 1.0f);
      struct Case {
        const char* name;
        float spread, offset, eps;
        bool residual;
        float res_offset;
      };
      const Case cases[] = {
          {"unit", 1.0f, 0.0f, 1e-12f, false, 0.0f},
          {"unit+res", 1.0f, 0.5f, 1e-12f, true, 0.0f},
          {"wide", 100.0f, 0.0f, 1e-5f, false, 0.0f},
          {"wide+res", 100.0f, -30.0f, 1e-5f, true, 0.0f},
          {"offset 1e3", 1.0f, 1000.0f, 1e-12f, false, 0.0f},  // the mean dwarfs the spread
          {"offset 1e3+res", 1.0f, 1000.0f, 1e-5f, true, 0.0f},
          {"cancelling res", 1.0f, 1.0e4f, 1e-5f, true, -1.0e4f},  // x + residual loses bits in float
      };
      for (const Case& c : cases) {
        std::vector<float> x = uniform(rng, n, c.offset - c.spread, c.offset + c.spread);
        std::vector<float> r = c.residual ? uniform(rng, n, c.res_offset - c.spread, c.res_offset + c.spread)
                                          : std::vector<float>();
        const float* rp = c.residual ? r.data() : nullptr;
        std::vector<float> want(n);
        nystrom::ref::layer_norm_row(x.data(), rp, want.data(), n, gamma.data(), beta.data(), c.eps);

        std::vector<float> got(n, NAN);  // a separate output
        t->layer_norm_row(x.data(), rp, got.data(), n, gamma.data(), beta.data(), c.eps);
        check_close(got, want, abs_tol, rel, label(t, "layer_norm_row", n, std::string(c.name) + " out separate"));

        std::vector<float> in_place = x;  // out == x
        t->layer_norm_row(in_place.data(), rp, in_place.data(), n, gamma.data(), beta.data(), c.eps);
        check_close(in_place, want, abs_tol, rel, label(t, "layer_norm_row", n, std::string(c.name) + " out == x"));

        if (c.residual) {  // out == residual
          std::vector<float> into_res = r;
          t->layer_norm_row(x.data(), into_res.data(), into_res.data(), n, gamma.data(), beta.data(), c.eps);
          check_close(into_res, want, abs_tol, rel,
                      label(t, "layer_norm_row", n, std::string(c.name) + " out == residual"));
        }
      }
      // A constant row has variance 0: the output must be beta exactly,
      // even with eps = 1e-12 magnifying any error in the mean by 1e6.
      if (n > 1) {
        const std::vector<float> x(n, 3.3f);
        std::vector<float> got(n);
        t->layer_norm_row(x.data(), nullptr, got.data(), n, gamma.data(), beta.data(), 1e-12f);
        check_close(got, beta, 0.0, 0.0, label(t, "layer_norm_row", n, "constant row"));
      }
    }
  }
}

TEST_CASE("bias_act_rows matches the reference for every activation, and leaves the gaps between rows alone") {
  // Tolerance for the GELUs: the kernels compute them as x / (1 + e^(-2u))
  // and x * Phi(x) with their own exp and erfc (erfc within 1e-8), the
  // reference with std::tanh / std::erf; measured differences are at most
  // 2 ulp of the output, 4.8e-7 over [-100, 100]. 1e-6 absolute plus 2.5e-7
  // relative (2 ulp) holds that with margin at any |x|. None and Relu do the
  // same float operations as the reference and must match exactly.
  std::mt19937 rng(91011);
  const Act acts[] = {Act::None, Act::Relu, Act::GeluTanh, Act::GeluErf};
  const char* act_names[] = {"none", "relu", "gelu_tanh", "gelu_erf"};
  // Values where the approximations change regime or saturate.
  const float specials[] = {0.0f,  -0.0f,  1e-8f,  -1e-8f, 0.5f,   -0.5f,  1.0f,   -1.0f,  2.5f,
                            -2.5f, 4.0f,   -4.0f,  5.5f,   -5.5f,  8.5f,   -8.5f,  12.0f,  -12.0f,
                            20.0f, -20.0f, 60.0f,  -60.0f, 100.0f, -100.0f};
  for (const KernelTable* t : test::simd_levels()) {
    for (int a = 0; a < 4; ++a) {
      const bool exact = acts[a] == Act::None || acts[a] == Act::Relu;
      const double abs_tol = exact ? 0.0 : 1e-6, rel = exact ? 0.0 : 2.5e-7;
      for (int n : kSizes) {
        for (float scale : {0.5f, 3.0f, 10.0f, 100.0f}) {
          for (bool with_bias : {false, true}) {
            std::vector<float> y = uniform(rng, n, -scale, scale);
            if (scale == 10.0f)  // swap in the special values, cycling
              for (int i = 0; i < n; ++i) y[i] = specials[i % (sizeof specials / sizeof specials[0])];
            const std::vector<float> bias = uniform(rng, n, -1.0f, 1.0f);
            const float* bp = with_bias ? bias.data() : nullptr;
            // The epilogue's factor after the activation: none, Z's 0.25, the
            // negation of nystrom_pinv, Q and K's 64^-1/4.
            // Three rows (y, y reversed, -y) two floats apart, like a tile of C.
            const size_t ld = (size_t)n + 2;
            std::vector<float> block(3 * ld, 777.0f);
            for (int i = 0; i < n; ++i) block[i] = y[i], block[ld + i] = y[n - 1 - i], block[2 * ld + i] = -y[i];
            for (float mul : {1.0f, 0.25f, -1.0f, 0.35355339f}) {
              std::vector<float> got = block, want = block;
              t->bias_act_rows(got.data(), ld, 3, bp, n, acts[a], mul);
              nystrom::ref::bias_act_rows(want.data(), ld, 3, bp, n, acts[a], mul);
              char detail[80];
              std::snprintf(detail, sizeof detail, "%s scale=%g%s x%g", act_names[a], scale,
                            with_bias ? " +bias" : "", mul);
              check_close(got, want, abs_tol, rel, label(t, "bias_act_rows", n, detail));
              for (int r = 0; r < 3; ++r) CHECK((got[r * ld + n] == 777.0f && got[r * ld + n + 1] == 777.0f));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("the erf GELU is the same function bit for bit on every SIMD level, the avx512 one's reciprocal included") {
  // Every level evaluates x Phi(x) with the same constants in the same
  // order; avx512 forms 1 / (1 + 0.4 a) without a division (a corrected
  // reciprocal, kernels/avx512/activations.h), which must give the
  // division's bits. A grid of 2.4 million floats over [-9, 9] (every 193rd
  // bit pattern from 1e-30 up), plus the three x whose 1 + 0.4 a is 2 - 2^-23,
  // the one value the correction alone would round the wrong way.
  const std::vector<const KernelTable*> levels = test::simd_levels();
  if (levels.size() < 2) return;
  std::vector<float> x = {0x1.c48c5ap+1f, 0x1.c48c5cp+1f, 0x1.c48c5ep+1f, -0x1.c48c5cp+1f, 6.0f * 1.41421356f};
  uint32_t lo, hi;
  const float lo_f = 1e-30f, hi_f = 9.0f;
  std::memcpy(&lo, &lo_f, 4);
  std::memcpy(&hi, &hi_f, 4);
  for (uint32_t u = lo; u <= hi; u += 193) {
    float f;
    std::memcpy(&f, &u, 4);
    x.push_back(f);
    x.push_back(-f);
  }
  std::vector<float> first = x;
  levels[0]->bias_act_rows(first.data(), first.size(), 1, nullptr, (int)first.size(), Act::GeluErf, 1.0f);
  for (size_t l = 1; l < levels.size(); ++l) {
    std::vector<float> got = x;
    levels[l]->bias_act_rows(got.data(), got.size(), 1, nullptr, (int)got.size(), Act::GeluErf, 1.0f);
    size_t differ = 0;
    for (size_t i = 0; i < x.size(); ++i) differ += std::memcmp(&got[i], &first[i], 4) != 0;
    INFO(nystrom::isa_name(levels[l]->isa) << " against " << nystrom::isa_name(levels[0]->isa) << ", "
                                         << x.size() << " values");
    CHECK(differ == 0);
  }
}

TEST_CASE("row kernels: depthwise_conv_add of every level matches the sum in double on awkward shapes") {
  // Rows near both ends see fewer taps; interior rows run in groups of four
  // in the SIMD kernels, so n straddles K and multiples of 4, and the column
  // counts straddle every vector width and the 2-vector column groups. One
  // head or three side by side (each with its own taps), and the rows done
  // in blocks of 3, 4 or all at once.
  std::mt19937 rng(2026);
  std::vector<const KernelTable*> levels = test::simd_levels();
  levels.push_back(nystrom::kernels_for(Isa::Scalar));  // the reference itself, for the heads and row blocks
  for (const KernelTable* t : levels)
    for (int K : {1, 3, 9, 33, 35})
      for (int n : {1, 2, 5, 17, 34, 38, 67, 200})
        for (int cols : {1, 3, 7, 8, 16, 17, 31, 32, 33, 64}) {
          const int heads = (n + cols) % 2 ? 3 : 1, width = heads * cols;
          const int ldv = width + 3, ldo = width + 2;
          const std::vector<float> v = uniform(rng, n * ldv, -1.0f, 1.0f), w = uniform(rng, heads * K, -1.0f, 1.0f);
          std::vector<float> out = uniform(rng, n * ldo, -1.0f, 1.0f);
          // want: in double; chain: one FMA chain over the taps in order from
          // zero, then added, which the x86 SIMD kernels match bit for bit
          // whichever rows run together (NEON's scalar column tail and the
          // reference may round differently). The gaps keep their values:
          // not to be written.
          std::vector<float> want = out, chain = out;
          for (int r = 0; r < n; ++r)
            for (int c = 0; c < width; ++c) {
              const float* wh = &w[(size_t)(c / cols) * K];
              double s = out[(size_t)r * ldo + c];
              float f = 0.0f;
              for (int k = 0; k < K; ++k) {
                const int src = r + k - K / 2;
                if (src < 0 || src >= n) continue;
                s += (double)wh[k] * v[(size_t)src * ldv + c];
                f = std::fma(wh[k], v[(size_t)src * ldv + c], f);
              }
              want[(size_t)r * ldo + c] = (float)s;
              chain[(size_t)r * ldo + c] += f;
            }
          const int splits[] = {n, 3, 4};
          const int block = splits[(K + n + cols) % 3];
          for (int t0 = 0; t0 < n; t0 += block)
            t->depthwise_conv_add(v.data(), n, t0, std::min(n, t0 + block), heads, cols, ldv, w.data(), K, out.data(),
                                  ldo);
          const std::string what = label(t, "depthwise_conv_add", n,
                                         "K=" + std::to_string(K) + " heads=" + std::to_string(heads) +
                                             " cols=" + std::to_string(cols) + " block=" + std::to_string(block));
          check_close(out, want, 1e-5, 1e-5, what);
          if (t->isa == Isa::Avx2 || t->isa == Isa::Avx512) check_close(out, chain, 0.0, 0.0, what + " (bit for bit)");
        }
}
