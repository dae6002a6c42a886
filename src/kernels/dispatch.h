// The kernel table: one set of function pointers per instruction set, chosen
// once at start-up from the CPU's features (runtime/cpu_features.h) and capped
// by NYSTROM_ISA=scalar|avx2|avx512|neon or set_isa_cap(). Model code never
// calls these directly; kernels/ops.cpp does.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/ops.h"

namespace nystrom {

// Same values as the public nystrom::InstructionSet.
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };
const char* isa_name(Isa isa);
bool parse_isa(const std::string& name, Isa* out);  // "scalar", "avx2", "avx512", "neon"

// GEMM micro-kernel (see kernels/gemm.cpp for the loops around it):
//   C[mr x nr] (ldc) = (accumulate ? C : 0) + sum_k a[k*MR + i] * b[k*NR + j]
// where a is a packed MR-wide panel of A, b a packed NR-wide panel of B, and
// only the top-left mr x nr (mr <= MR, nr <= NR) of the tile is stored.
using GemmMicroKernel = void (*)(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                                 bool accumulate);

// Integer GEMM on block-quantized weights (kernels/quant.h, kernels/qgemm.cpp).
//
// Activation rows quantized to 8-bit blocks of 32 (QuantizeActRow):
// row i, block b has q[i*ldq + 32b + 0..31], scale d[i*ldd + b] and
// corr[i*ldd + b] = -128 * (sum of its 32 q), the offset correction of
// kernels that store weights as unsigned bytes.
struct QuantRows {
  const int8_t* q;
  const float* d;
  const int32_t* corr;
  size_t ldq;
  int ldd;
};
using QuantizeActRow = void (*)(const float* x, int k, int8_t* q, float* d, int32_t* corr);

// How PackedQuantMatrix lays weights out for a table's micro-kernels.
// W [N x K] is cut into panels of nr output columns (zero past N); a panel is
// K/32 blocks, each the weights of its 32 k, then nr float scales:
//   Q8_0: 8 steps s of 4 k, byte (s, j, kk) at s*4nr + 4j + kk holds
//         w[j][4s + kk] ^ q8_xor (q8_xor = 0x80 stores w + 128 as a u8);
//         then scale j = d_w[j].
//   Q4_0: 4 vectors t, byte (t, j, kk) at t*4nr + 4j + kk holds the nibble
//         q ^ q4_xor (q in 0..15 as in the file) of k = 4t + kk in its low
//         half and of k = 16 + 4t + kk in its high half; then scale j =
//         d_w[j] * q4_scale (1/16 for kernels that read nibbles as 16 q).
// A panel block is 32nr (Q8_0) or 16nr (Q4_0) bytes plus 4nr; nr % 16 == 0
// keeps every block 64-byte aligned.
struct QGemmLayout {
  int mr, nr;  // register tile of the micro-kernels
  uint8_t q8_xor, q4_xor;
  float q4_scale;
};

// C[mr x nr] (ldc) = (accumulate ? C : 0) + sum over `nblocks` blocks b of
//   d_a[i][b] * scale_w[j][b] * (integer dot product of block b)
// for rows i of `a` and a packed panel `w` (pointing at its first block).
// Rows mr..MR-1 of `a` must be readable (qgemm pads them with zeros); only
// the top-left mr x nr corner is stored.
using QGemmMicroKernel = void (*)(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                                  int nr, bool accumulate);

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
  void (*depthwise_conv_add)(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w,
                             int K, float* out, int ldo);
  // Block-quantized GEMM: the packed layout, one micro-kernel per weight
  // type, and the quantizer of activation rows (exactly
  // quantize_row_q8_act of kernels/quant.h).
  QGemmLayout qgemm;
  QGemmMicroKernel qgemm_q8_ukernel, qgemm_q4_ukernel;
  QuantizeActRow quantize_act_row;
  // IEEE binary16 to float, n values (exact; NaNs stay NaNs).
  void (*f16_to_f32_row)(const uint16_t* src, float* dst, int n);
  // GEMM packing: `rows` <= R rows of src (leading dimension ld) interleaved
  // into one R-row panel, dst[k * R + r] = src[r * ld + k] for k < kc, and
  // zero for rows <= r < R. A's MR-row panels and a transposed B's NR-column
  // panels are both this transpose.
  void (*pack_panel)(const float* src, size_t ld, int rows, int R, int kc, float* dst);
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
