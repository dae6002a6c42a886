// What the CPU (and the operating system) let this process use, detected once.
// kernels/dispatch.cpp picks the kernel table from it.
//
// x86: CPUID says what the CPU has, XGETBV whether the OS saves the register
// state; AVX features are reported only when the OS saves YMM state, AVX-512
// ones only when it also saves the opmask and ZMM state.
// aarch64 Linux: the kernel's hardware capability bits (getauxval).
// Anything else: all false.
#pragma once
#include <string>

namespace nystrom {

struct CpuFeatures {
  // x86
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx_vnni = false;
  bool avx512bf16 = false;
  bool avx512fp16 = false;
  // aarch64
  bool neon = false;           // Advanced SIMD (ASIMD)
  bool asimd_dotprod = false;  // SDOT/UDOT
  bool asimd_fp16 = false;     // half-precision arithmetic
  bool i8mm = false;           // SMMLA and friends
  bool bf16 = false;
  bool sve = false;
};

// Detected on first use (thread-safe), then fixed for the process.
const CpuFeatures& cpu_features();

// The features present, space-separated in the order above ("none" if none),
// for version and diagnostic output.
std::string describe(const CpuFeatures& f);

}  // namespace nystrom
