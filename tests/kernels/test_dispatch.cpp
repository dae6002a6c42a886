// Kernel dispatch, checked against a table of what each level needs written
// out here from the instruction sets' definitions (not from dispatch.cpp):
// kernels_for() answers exactly for the levels this build has and this CPU
// runs, the level in use is the best one the cap allows, caps lower and
// restore the level, names parse back. Also the CPU feature detection the
// dispatcher relies on.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/ref/ref.h"
#include "runtime/cpu_features.h"
#include "support.h"

using nystrom::CpuFeatures;
using nystrom::Isa;
using nystrom::KernelTable;

namespace {

#if defined(__x86_64__)
constexpr bool kX86 = true, kArm = false;
#elif defined(__aarch64__)
constexpr bool kX86 = false, kArm = true;
#else
constexpr bool kX86 = false, kArm = false;
#endif

// Each level: its name, whether this build has it, the CPU features its
// instructions need, and its rank for caps (scalar 0; avx2 and neon 1;
// neon_dot 2; avx512 3: a cap allows the levels of its rank and below).
struct Level {
  Isa isa;
  const char* name;
  bool compiled;
  std::vector<bool CpuFeatures::*> needs;
  int rank;
};
const Level kLevels[] = {
    {Isa::Scalar, "scalar", true, {}, 0},
    {Isa::Avx2, "avx2", kX86, {&CpuFeatures::avx2, &CpuFeatures::fma, &CpuFeatures::f16c}, 1},
    {Isa::Avx512,
     "avx512",
     kX86,
     {&CpuFeatures::avx2, &CpuFeatures::fma, &CpuFeatures::f16c, &CpuFeatures::avx512f, &CpuFeatures::avx512bw,
      &CpuFeatures::avx512vl, &CpuFeatures::avx512dq, &CpuFeatures::avx512vnni},
     3},
    {Isa::Neon, "neon", kArm, {&CpuFeatures::neon}, 1},
    {Isa::NeonDot, "neon_dot", kArm, {&CpuFeatures::neon, &CpuFeatures::asimd_dotprod}, 2},
};

const Level& level(Isa isa) {
  for (const Level& l : kLevels)
    if (l.isa == isa) return l;
  FAIL("no such level");
  return kLevels[0];
}

bool available(const Level& l) {
  if (!l.compiled) return false;
  for (bool CpuFeatures::*f : l.needs)
    if (!(nystrom::cpu_features().*f)) return false;
  return true;
}

// The available level of the highest rank at most the cap's.
Isa best_available(Isa cap = Isa::Avx512) {
  const Level* best = &kLevels[0];
  for (const Level& l : kLevels)
    if (available(l) && l.rank <= level(cap).rank && l.rank > best->rank) best = &l;
  return best->isa;
}

// Restores the level in use when a test that changes it ends.
struct CapGuard {
  Isa saved = nystrom::kernels().isa;
  ~CapGuard() { nystrom::set_isa_cap(saved); }
};

}  // namespace

TEST_CASE("dispatch: the public list of levels is the table above, and names parse back") {
  REQUIRE(sizeof nystrom::kAllIsas / sizeof nystrom::kAllIsas[0] == sizeof kLevels / sizeof kLevels[0]);
  for (size_t i = 0; i < sizeof kLevels / sizeof kLevels[0]; ++i) {
    CAPTURE(kLevels[i].name);
    CHECK(nystrom::kAllIsas[i] == kLevels[i].isa);
    CHECK(std::string(nystrom::isa_name(kLevels[i].isa)) == kLevels[i].name);
    Isa parsed = Isa::Scalar;
    CHECK(nystrom::parse_isa(kLevels[i].name, &parsed));
    CHECK(parsed == kLevels[i].isa);
  }
  Isa parsed = Isa::Avx2;
  CHECK(nystrom::parse_isa("AVX512", &parsed));
  CHECK(parsed == Isa::Avx512);
  CHECK(nystrom::parse_isa("Neon_Dot", &parsed));
  CHECK(parsed == Isa::NeonDot);
  for (const char* bad : {"", "sse", "avx", "avx-512", " scalar", "neon2", "neondot", "neon-dot"}) {
    CAPTURE(bad);
    CHECK_FALSE(nystrom::parse_isa(bad, &parsed));
  }
}

TEST_CASE("dispatch: kernels_for is non-null exactly for the levels compiled in whose features the CPU has") {
  for (const Level& l : kLevels) {
    CAPTURE(l.name);
    const KernelTable* table = nystrom::kernels_for(l.isa);
    CHECK((table != nullptr) == available(l));
    if (table) CHECK(table->isa == l.isa);
  }
  CHECK(nystrom::kernels_for(Isa::Scalar) == &nystrom::ref::scalar_kernels());
#if defined(__aarch64__)
  CHECK(nystrom::kernels_for(Isa::Neon) != nullptr);  // ASIMD is mandatory on AArch64
#endif
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
  CHECK(nystrom::kernels_for(nystrom::kernels().isa) == &nystrom::kernels());
}

TEST_CASE("dispatch: each cap selects the best level of its rank or below; the scalar cap runs the references") {
  CapGuard guard;
  for (const Level& cap : kLevels) {
    CAPTURE(cap.name);
    const Isa chosen = nystrom::set_isa_cap(cap.isa);
    CHECK(chosen == best_available(cap.isa));
    CHECK(nystrom::kernels().isa == chosen);
    if (available(cap)) CHECK(chosen == cap.isa);  // every level this CPU runs can be chosen alone
  }
  CHECK(nystrom::set_isa_cap(Isa::Scalar) == Isa::Scalar);
  const bool runs_reference = nystrom::kernels().gemm_ukernel == &nystrom::ref::gemm_ukernel_4x8;
  CHECK(runs_reference);
  CHECK(nystrom::set_isa_cap(Isa::Avx512) == best_available());
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
