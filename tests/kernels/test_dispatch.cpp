// Kernel dispatch: the level in use is one this CPU supports, names parse
// back, caps lower and restore the level, kernels_for() answers exactly for
// the levels compiled in and supported, and each table's GEMM micro-kernel
// matches its declared tile. Also the CPU feature detection it relies on.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/ref/ref.h"
#include "runtime/cpu_features.h"
#include "support.h"

using nystrom::Isa;
using nystrom::KernelTable;

namespace nystrom {
const char* isa_env_warning();  // kernels/dispatch.cpp
}

namespace {

const Isa kAllIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon};

// What the CPU must have for each level (kernels/dispatch.cpp), and whether
// this build compiles the level in.
bool expected_available(Isa isa) {
  const nystrom::CpuFeatures& f = nystrom::cpu_features();
  const bool avx2 = f.avx2 && f.fma && f.f16c;
  switch (isa) {
    case Isa::Scalar: return true;
#if defined(__x86_64__)
    case Isa::Avx2: return avx2;
    case Isa::Avx512: return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
#endif
#if defined(__aarch64__)
    case Isa::Neon: return f.neon;
#endif
    default: (void)avx2; return false;
  }
}

// The best level available whose rank (scalar 0; avx2 and neon 1; avx512 2)
// is at most the cap's.
Isa best_available(Isa cap = Isa::Avx512) {
  auto rank = [](Isa isa) { return isa == Isa::Scalar ? 0 : isa == Isa::Avx512 ? 2 : 1; };
  for (Isa isa : {Isa::Avx512, Isa::Neon, Isa::Avx2})
    if (rank(isa) <= rank(cap) && expected_available(isa)) return isa;
  return Isa::Scalar;
}

// Restores the level in use when a test that changes it ends.
struct CapGuard {
  Isa saved = nystrom::kernels().isa;
  ~CapGuard() { nystrom::set_isa_cap(saved); }
};

}  // namespace

TEST_CASE("dispatch: isa names parse back to the same level") {
  for (Isa isa : kAllIsas) {
    Isa parsed = Isa::Scalar;
    CAPTURE(nystrom::isa_name(isa));
    CHECK(nystrom::parse_isa(nystrom::isa_name(isa), &parsed));
    CHECK(parsed == isa);
  }
  Isa parsed = Isa::Avx2;
  CHECK(nystrom::parse_isa("AVX512", &parsed));
  CHECK(parsed == Isa::Avx512);
  for (const char* bad : {"", "sse", "avx", "avx-512", " scalar", "neon2"}) {
    CAPTURE(bad);
    CHECK_FALSE(nystrom::parse_isa(bad, &parsed));
  }
}

TEST_CASE("dispatch: the table in use is complete and one this CPU supports") {
  const KernelTable& k = nystrom::kernels();
  CHECK(expected_available(k.isa));
  CHECK(nystrom::kernels_for(k.isa) == &k);
  CHECK(k.gemm_mr > 0);
  CHECK(k.gemm_nr > 0);
  // (doctest cannot print function pointers: compare outside the macro)
  const bool complete = k.gemm_ukernel && k.softmax_row && k.layer_norm_row && k.bias_act_row;
  CHECK(complete);
}

TEST_CASE("dispatch: the level in use is the best NYSTROM_ISA allows; an unknown value is reported") {
  // (Every test that changes the cap restores it.)
  const char* env = std::getenv("NYSTROM_ISA");
  Isa cap = Isa::Avx512;
  if (env && *env && !nystrom::parse_isa(env, &cap)) {
    const char* warning = nystrom::isa_env_warning();
    REQUIRE(warning != nullptr);
    CHECK(std::string(warning).find(env) != std::string::npos);
    cap = Isa::Avx512;  // ignored
  } else {
    CHECK(nystrom::isa_env_warning() == nullptr);
  }
  CHECK(nystrom::kernels().isa == best_available(cap));
}

TEST_CASE("dispatch: set_isa_cap(Scalar) selects scalar and raising the cap restores the best level") {
  CapGuard guard;
  CHECK(nystrom::set_isa_cap(Isa::Scalar) == Isa::Scalar);
  CHECK(nystrom::kernels().isa == Isa::Scalar);
  const bool runs_reference = nystrom::kernels().gemm_ukernel == &nystrom::ref::gemm_ukernel_4x8;
  CHECK(runs_reference);

  const Isa best = best_available();
  CHECK(nystrom::set_isa_cap(Isa::Avx512) == best);
  CHECK(nystrom::kernels().isa == best);

  // A cap of the middle rank allows avx2 (or neon) but not avx512.
  CHECK(nystrom::set_isa_cap(Isa::Avx2) == best_available(Isa::Avx2));
  CHECK(nystrom::set_isa_cap(Isa::Neon) == best_available(Isa::Neon));
  CHECK(nystrom::kernels().isa != Isa::Avx512);
}

TEST_CASE("dispatch: kernels_for is non-null exactly for the levels compiled in and supported") {
  for (Isa isa : kAllIsas) {
    CAPTURE(nystrom::isa_name(isa));
    const KernelTable* table = nystrom::kernels_for(isa);
    CHECK((table != nullptr) == expected_available(isa));
    if (table) CHECK(table->isa == isa);
  }
  CHECK(nystrom::kernels_for(Isa::Scalar) != nullptr);
#if defined(__x86_64__)
  CHECK(nystrom::kernels_for(Isa::Neon) == nullptr);
  const nystrom::CpuFeatures& f = nystrom::cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni)
    CHECK(nystrom::kernels_for(Isa::Avx512) != nullptr);
  if (f.avx2 && f.fma && f.f16c) CHECK(nystrom::kernels_for(Isa::Avx2) != nullptr);
#endif
#if defined(__aarch64__)
  CHECK(nystrom::kernels_for(Isa::Avx2) == nullptr);
  CHECK(nystrom::kernels_for(Isa::Avx512) == nullptr);
  CHECK(nystrom::kernels_for(Isa::Neon) != nullptr);  // ASIMD is mandatory on AArch64
#endif
}

TEST_CASE("dispatch: each table's micro-kernel computes the tile it declares") {
  // A full MR x NR tile and a ragged corner, against the generic reference
  // with the table's own tile size: catches a kernel paired with the wrong
  // MR/NR in the table.
  for (Isa isa : kAllIsas) {
    const KernelTable* t = nystrom::kernels_for(isa);
    if (!t) continue;
    CAPTURE(nystrom::isa_name(isa));
    const int MR = t->gemm_mr, NR = t->gemm_nr, ldc = NR + 3;
    for (int k : {0, 1, 19}) {
      const std::vector<float> a = test::random_vector((size_t)k * MR, 1);
      const std::vector<float> b = test::random_vector((size_t)k * NR, 2);
      for (int mr : {MR, MR - 1 > 0 ? MR - 1 : 1}) {
        for (int nr : {NR, NR / 2 + 1}) {
          for (bool accumulate : {false, true}) {
            CAPTURE(k);
            CAPTURE(mr);
            CAPTURE(nr);
            CAPTURE(accumulate);
            // Rows below mr and columns beyond nr must be left as they are.
            std::vector<float> got = test::random_vector((size_t)MR * ldc, 3);
            std::vector<float> want = got;
            t->gemm_ukernel(k, a.data(), b.data(), got.data(), ldc, mr, nr, accumulate);
            nystrom::ref::gemm_ukernel(k, a.data(), b.data(), want.data(), ldc, mr, nr, accumulate, MR, NR);
            const test::Diff d = test::diff(got, want);
            CHECK(d.max_abs <= 1e-6 * (k + 1) * (d.max_ref + 1.0));
          }
        }
      }
    }
  }
}

TEST_CASE("dispatch: each table's bias_act_row adds the bias (if any) and applies the activation") {
  const int n = 37;  // not a multiple of any vector width
  const std::vector<float> x = test::random_vector(n, 4, -3.0f, 3.0f);
  const std::vector<float> bias = test::random_vector(n, 5);
  for (Isa isa : kAllIsas) {
    const KernelTable* t = nystrom::kernels_for(isa);
    if (!t) continue;
    for (nystrom::ops::Act act : {nystrom::ops::Act::None, nystrom::ops::Act::Relu,
                                  nystrom::ops::Act::GeluErf, nystrom::ops::Act::GeluTanh}) {
      for (const float* bp : {bias.data(), static_cast<const float*>(nullptr)}) {
        CAPTURE(nystrom::isa_name(isa));
        CAPTURE(static_cast<int>(act));
        CAPTURE(bp != nullptr);
        std::vector<float> got = x, want = x;
        t->bias_act_row(got.data(), bp, n, act);
        nystrom::ref::bias_act_row(want.data(), bp, n, act);
        CHECK(test::within_spec(test::diff(got, want)));
      }
    }
  }
}

TEST_CASE("cpu features: AVX-512 implies AVX2-level state, and each architecture reports only its own") {
  const nystrom::CpuFeatures& f = nystrom::cpu_features();
  if (f.avx512f) CHECK(f.avx);  // ZMM state includes YMM state
  if (f.avx2 || f.fma || f.f16c || f.avx_vnni) CHECK(f.avx);
  if (f.avx512bw || f.avx512vl || f.avx512dq || f.avx512vnni || f.avx512bf16) CHECK(f.avx512f);
#if !defined(__x86_64__) && !defined(__i386__)
  CHECK_FALSE(f.avx);
  CHECK_FALSE(f.avx512f);
#endif
#if !defined(__aarch64__)
  CHECK_FALSE(f.neon);
  CHECK_FALSE(f.asimd_dotprod);
#endif
  CHECK_FALSE(nystrom::describe(f).empty());
}

TEST_CASE("cpu features: claim nothing that the flags in /proc/cpuinfo lack") {
  // Only this direction: an emulator or valgrind may hide features that the
  // kernel lists, but a feature reported here and missing there would be run
  // without the kernel's support.
#if defined(__x86_64__)
  const std::string key = "flags";
#else
  const std::string key = "Features";  // aarch64
#endif
  std::ifstream in("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0 && line.find(':') != std::string::npos) {
      flags = " " + line.substr(line.find(':') + 1) + " ";
      break;
    }
  }
  // Not Linux, not readable, or another architecture's (as under qemu-user).
  if (flags.empty()) return;
  auto has = [&](const char* name) { return flags.find(std::string(" ") + name + " ") != std::string::npos; };
  const nystrom::CpuFeatures& f = nystrom::cpu_features();
#if defined(__x86_64__)
  if (f.avx2) CHECK(has("avx2"));
  if (f.fma) CHECK(has("fma"));
  if (f.f16c) CHECK(has("f16c"));
  if (f.avx512f) CHECK(has("avx512f"));
  if (f.avx512bw) CHECK(has("avx512bw"));
  if (f.avx512vl) CHECK(has("avx512vl"));
  if (f.avx512dq) CHECK(has("avx512dq"));
#elif defined(__aarch64__)
  if (f.asimd_dotprod) CHECK(has("asimddp"));
#else
  (void)has;
  (void)f;
#endif
}
