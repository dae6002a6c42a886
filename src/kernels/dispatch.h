// The kernel table: one set of function pointers per instruction set, chosen
// once at start-up from the CPU's features (runtime/cpu_features.h) and capped
// by NYSTROM_ISA=scalar|avx2|avx512|neon or set_isa_cap(). Model code never
// calls these directly; kernels/ops.cpp does.
#pragma once
#include <cstddef>

#include "kernels/ops.h"

namespace nystrom {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };
const char* isa_name(Isa isa);
bool parse_isa(const std::string& name, Isa* out);  // "scalar", "avx2", "avx512", "neon"

// GEMM micro-kernel (see kernels/gemm.cpp for the loops around it):
//   C[mr x nr] (ldc) = (accumulate ? C : 0) + sum_k a[k*MR + i] * b[k*NR + j]
// where a is a packed MR-wide panel of A, b a packed NR-wide panel of B, and
// only the top-left mr x nr (mr <= MR, nr <= NR) of the tile is stored.
using GemmMicroKernel = void (*)(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                                 bool accumulate);

struct KernelTable {
  Isa isa;
  int gemm_mr, gemm_nr;  // register tile of gemm_ukernel
  GemmMicroKernel gemm_ukernel;
  void (*softmax_row)(float* x, int n);
  void (*layer_norm_row)(const float* x, const float* residual, float* out, int n, const float* gamma,
                         const float* beta, float eps);
  // y[i] = act(y[i] + bias[i]) for i < n (bias may be null): the GEMM epilogue.
  void (*bias_act_row)(float* y, const float* bias, int n, ops::Act act);
  // Nystrom landmarks and the conv skip (contracts: kernels/ops.h).
  void (*segment_means)(const float* x, int n, int cols, int ld, int m, float* out, int ldo);
  void (*depthwise_conv_add)(const float* v, int n, int cols, int ldv, const float* w, int K, float* out, int ldo);
};

// The table in use: the best the CPU supports, at most the cap.
const KernelTable& kernels();
// Lowers (or raises, up to what the CPU supports) the level in use; returns
// the level actually chosen. Not thread-safe against running sessions.
Isa set_isa_cap(Isa cap);
// The table of one level, or null when it is not compiled in or the CPU
// lacks it (for tests that compare every level with the reference).
const KernelTable* kernels_for(Isa isa);
// A message when NYSTROM_ISA holds an unknown value (then ignored), else null;
// the library prints nothing, the tools print this.
const char* isa_env_warning();

}  // namespace nystrom
