#include "runtime/cpu_features.h"

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace nystrom {

namespace {

#if defined(__x86_64__) || defined(__i386__)

bool bit(uint32_t reg, int n) { return (reg >> n) & 1u; }

// XCR0: which register state the OS saves on a context switch.
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

CpuFeatures detect() {
  CpuFeatures f;
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 1 || !__get_cpuid_count(1, 0, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = bit(ecx, 27);
  const bool cpu_avx = bit(ecx, 28), cpu_fma = bit(ecx, 12), cpu_f16c = bit(ecx, 29);

  // XCR0 bits 1 and 2: SSE and YMM state; bits 5, 6, 7: opmask, the upper
  // halves of ZMM0-15, and ZMM16-31.
  const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = os_ymm && (xcr0 & 0xE0) == 0xE0;

  f.avx = os_ymm && cpu_avx;
  f.fma = f.avx && cpu_fma;
  f.f16c = f.avx && cpu_f16c;
  if (max_leaf < 7) return f;

  uint32_t b7 = 0, c7 = 0, d7 = 0, max_sub7 = 0;
  __get_cpuid_count(7, 0, &max_sub7, &b7, &c7, &d7);
  f.avx2 = f.avx && bit(b7, 5);
  f.avx512f = os_zmm && bit(b7, 16);
  f.avx512dq = f.avx512f && bit(b7, 17);
  f.avx512bw = f.avx512f && bit(b7, 30);
  f.avx512vl = f.avx512f && bit(b7, 31);
  f.avx512vnni = f.avx512f && bit(c7, 11);
  f.avx512fp16 = f.avx512f && bit(d7, 23);
  if (max_sub7 >= 1) {
    uint32_t a71 = 0, b71 = 0, c71 = 0, d71 = 0;
    __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71);
    f.avx_vnni = f.avx && bit(a71, 4);
    f.avx512bf16 = f.avx512f && bit(a71, 5);
  }
  return f;
}

#elif defined(__aarch64__) && defined(__linux__)

CpuFeatures detect() {
  CpuFeatures f;
  const unsigned long hwcap = getauxval(AT_HWCAP);
#if defined(AT_HWCAP2)
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
#else
  const unsigned long hwcap2 = 0;
#endif
  (void)hwcap2;
#if defined(HWCAP_ASIMD)
  f.neon = (hwcap & HWCAP_ASIMD) != 0;
#else
  f.neon = true;  // mandatory in AArch64
#endif
#if defined(HWCAP_ASIMDDP)
  f.asimd_dotprod = (hwcap & HWCAP_ASIMDDP) != 0;
#endif
#if defined(HWCAP_ASIMDHP)
  f.asimd_fp16 = (hwcap & HWCAP_ASIMDHP) != 0;
#endif
#if defined(HWCAP_SVE)
  f.sve = (hwcap & HWCAP_SVE) != 0;
#endif
#if defined(HWCAP2_I8MM)
  f.i8mm = (hwcap2 & HWCAP2_I8MM) != 0;
#endif
#if defined(HWCAP2_BF16)
  f.bf16 = (hwcap2 & HWCAP2_BF16) != 0;
#endif
  return f;
}

#else

CpuFeatures detect() { return CpuFeatures{}; }

#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

std::string describe(const CpuFeatures& f) {
  const struct {
    bool present;
    const char* name;
  } all[] = {
      {f.avx, "avx"},
      {f.avx2, "avx2"},
      {f.fma, "fma"},
      {f.f16c, "f16c"},
      {f.avx512f, "avx512f"},
      {f.avx512bw, "avx512bw"},
      {f.avx512vl, "avx512vl"},
      {f.avx512dq, "avx512dq"},
      {f.avx512vnni, "avx512vnni"},
      {f.avx_vnni, "avx_vnni"},
      {f.avx512bf16, "avx512bf16"},
      {f.avx512fp16, "avx512fp16"},
      {f.neon, "neon"},
      {f.asimd_dotprod, "asimd_dotprod"},
      {f.asimd_fp16, "asimd_fp16"},
      {f.i8mm, "i8mm"},
      {f.bf16, "bf16"},
      {f.sve, "sve"},
  };
  std::string out;
  for (const auto& feature : all) {
    if (!feature.present) continue;
    if (!out.empty()) out += ' ';
    out += feature.name;
  }
  return out.empty() ? "none" : out;
}

}  // namespace nystrom
