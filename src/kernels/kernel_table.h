// The kernel contract: the table of function pointers, block sizes and
// layouts that each instruction-set level fills in (kernels/<isa>/table.cpp)
// and the loops of kernels/ run on. A leaf: the levels include this, never
// the dispatcher (kernels/dispatch.h) that chooses among them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nystrom {

namespace ops {
enum class Act;  // kernels/ops.h
}

// The levels. Values 0-4 are those of the public nystrom::InstructionSet.
// neon_dot is neon plus the Armv8.2 dot product (SDOT) in the integer GEMM.
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3, NeonDot = 4 };

// GEMM micro-kernel (see kernels/gemm.cpp for the loops around it):
//   C[mr x nr] (ldc) = (accumulate ? C : 0) + sum_k a[k*MR + i] * b[k*NR + j]
// where a is a packed MR-wide panel of A, b a packed NR-wide panel of B, and
// only the top-left mr x nr (mr <= MR, nr <= NR) of the tile is stored.
using GemmMicroKernel = void (*)(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                                 bool accumulate);
// The same for a whole MR-row tile of A read in place, row i at a + i*lda
// (sum_k a[i*lda + k] * b[k*NR + j]), with the same FMAs in the same order
// as GemmMicroKernel on that tile packed: the same bits. For products too
// small for packing A to pay (kernels/gemm.cpp).
using GemmRowsMicroKernel = void (*)(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int nr,
                                     bool accumulate);

// GemmMicroKernel with the GEMM epilogue applied in registers before the
// tile is stored: the bits of the micro-kernel followed by bias_act_rows(c,
// ldc, mr, bias, nr, act, scale) on its tile (bias from the tile's first
// column, or null), without writing C and reading it back.
using GemmEpilogueMicroKernel = void (*)(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                                         bool accumulate, const float* bias, ops::Act act, float scale);

// The float GEMM's register tile and cache blocks (kernels/gemm.cpp); each
// level sets its own, docs/TUNING.md records how they were measured.
struct GemmBlocks {
  int mr, nr;  // register tile of gemm_ukernel
  int kc;      // depth of one packed block: C is read and written once per KC
  int mc;      // about this many rows of A packed at once; a multiple of mr
  int nc;      // columns of B packed at once
};

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
//   Q8_C (per-channel scales): the K/32 blocks hold only the Q8_0 bytes
//         (32nr each, q8_xor applied), and the panel ends with nr float
//         scales s_w[j], once for the whole depth.
struct QGemmLayout {
  int mr, nr;  // register tile of the q8_0 and q4_0 micro-kernels
  uint8_t q8_xor, q4_xor;
  float q4_scale;
  // Rows of the q8_c micro-kernel's tile (same nr): with no per-block float
  // sums to keep, its tile can be taller, and each weight vector loaded
  // serves more rows.
  int mr_c;
};

// The integer GEMM's cache blocks (kernels/qgemm.cpp).
struct QGemmBlocks {
  int kb;  // blocks of 32 k per micro-kernel call; partial sums go back to C between calls
  int mc;  // about this many rows per task; a multiple of the layout's mr and mr_c
};

// C[mr x nr] (ldc) = (accumulate ? C : 0) + sum over `nblocks` blocks b of
//   d_a[i][b] * scale_w[j][b] * (integer dot product of block b)
// for rows i of `a` and a packed panel `w` (pointing at its first block).
// Rows mr..MR-1 of `a` must be readable (qgemm pads them with zeros); only
// the top-left mr x nr corner is stored.
//
// The q8_c micro-kernel has the same signature and runs over a whole panel:
// `nblocks` is K/32, a.d[i*ldd] and a.corr[i*ldd] are row i's one scale and
// -128 * (sum of its q) (quantize_row_q8c_act), and
//   C[i][j] = (accumulate ? C : 0) + d_a[i] * s_w[j] * (int32 dot product over K)
// with the scales s_w after the panel's last block.
using QGemmMicroKernel = void (*)(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                                  int nr, bool accumulate);

// The same product with the GEMM epilogue applied in registers before the
// tile is stored: the bits of the micro-kernel followed by bias_act_rows(c,
// ldc, mr, bias, nr, act, scale) on its tile (bias from the tile's first
// column, or null), without writing C and reading it back.
using QGemmEpilogueKernel = void (*)(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                                     int nr, bool accumulate, const float* bias, ops::Act act, float scale);

// BF16 products (AttentionPrecision::BF16, kernels/bf16_gemm.h). A pair is
// one uint32 holding two bf16 values: k = 2t in the low half, 2t + 1 in the
// high half. A float becomes a bf16 by rounding to nearest even, a subnormal
// to a zero of its sign, a NaN to a quiet NaN (bf16_from_float).
//
// x[0..k) as ceil(k/2) pairs; an odd k leaves the last high half 0.
using Bf16ConvertRow = void (*)(const float* x, int k, uint32_t* pairs);
// pairs[j] = (bf16 lo[j], bf16 hi[j]) for j < n; hi may be null (zeros).
using Bf16InterleaveRows = void (*)(const float* lo, const float* hi, int n, uint32_t* pairs);
// C[mr x nr] (ldc) = the products of MR rows of pairs (row i at a + i*lda)
// and NR columns of pairs (pair t of column j at b[t*ldb + j]), each
// element one chain from 0 over t in order: c += a.hi * b.hi, then
// c += a.lo * b.lo, each step one rounding to f32 and a subnormal result
// flushed to zero: vdpbf16ps, bit for bit. Whole MR x NR tiles of a and b
// must be readable; only the top-left mr x nr corner is stored.
using Bf16MicroKernel = void (*)(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c,
                                 int ldc, int mr, int nr);
struct Bf16Layout {
  int mr, nr;  // register tile of gemm_bf16_ukernel
};

// One level's kernels. The sizes and layouts come first, then only function
// pointers (tests/kernels/test_kernel_tables.cpp counts them and checks that
// each is set and tested).
struct KernelTable {
  Isa isa;
  GemmBlocks gemm;
  QGemmLayout qgemm;
  QGemmBlocks qgemm_blocks;
  Bf16Layout bf16;

  GemmMicroKernel gemm_ukernel;
  GemmRowsMicroKernel gemm_ukernel_rows;
  // GEMM packing: `rows` <= R rows of src (leading dimension ld) interleaved
  // into one R-row panel, dst[k * R + r] = src[r * ld + k] for k < kc, and
  // zero for rows <= r < R. A's MR-row panels and a transposed B's NR-column
  // panels are both this transpose.
  void (*pack_panel)(const float* src, size_t ld, int rows, int R, int kc, float* dst);
  void (*softmax_row)(float* x, int n);
  void (*layer_norm_row)(const float* x, const float* residual, float* out, int n, const float* gamma,
                         const float* beta, float eps);
  // y[r * ldy + i] = act(y[r * ldy + i] + bias[i]) * scale for r < rows,
  // i < n (bias may be null): the GEMM epilogue, a register tile's rows in
  // one call (a call a row of 32 was 9% of a 512 x 768 x 768 product).
  void (*bias_act_rows)(float* y, size_t ldy, int rows, const float* bias, int n, ops::Act act, float scale);
  // Nystrom landmarks and the conv skip (contracts: kernels/ops.h).
  void (*segment_means)(const float* x, int n, int cols, int ld, int m, float* out, int ldo);
  void (*depthwise_conv_add)(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w,
                             int K, float* out, int ldo);
  // Block-quantized GEMM: one micro-kernel per weight type (for the layout
  // above) and the quantizer of activation rows (exactly quantize_row_q8_act
  // of kernels/quant.h).
  QGemmMicroKernel qgemm_q8_ukernel, qgemm_q4_ukernel, qgemm_q8c_ukernel;
  // quantize_act_row_c: the q8_c activation quantizer, one scale per row
  // (exactly quantize_row_q8c_act; levels without their own use it).
  QuantizeActRow quantize_act_row, quantize_act_row_c;
  // IEEE binary16 to float, n values (exact; NaNs stay NaNs).
  void (*f16_to_f32_row)(const uint16_t* src, float* dst, int n);
  // Independent chains of the level's widest FMAs, no memory traffic, for
  // `iters` rounds; returns the FLOPs done (the bench's peak).
  double (*fma_peak_loop)(long iters, float* sink);
  // The same with 8-bit dot products, returning the integer ops done; null
  // for a level that has no such loop (only avx512 has one).
  double (*int8_peak_loop)(long iters, int* sink);
  // qgemm_q8c_ukernel with the epilogue fused (QGemmEpilogueKernel); null
  // at levels without one, where qgemm runs bias_act_rows over C after the
  // micro-kernels. avx512 has one: the separate pass over C was 6% of a
  // q8_c forward pass there (docs/TUNING.md).
  QGemmEpilogueKernel qgemm_q8c_ukernel_epilogue;
  // gemm_ukernel with the epilogue fused, for tiles of a packed A that
  // finish the depth; optional like the one above.
  GemmEpilogueMicroKernel gemm_ukernel_epilogue;
  // BF16 products: the operands' conversions and the micro-kernel.
  Bf16ConvertRow bf16_convert_row;
  Bf16InterleaveRows bf16_interleave_rows;
  Bf16MicroKernel gemm_bf16_ukernel;
};

}  // namespace nystrom
