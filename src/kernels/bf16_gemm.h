// Products with bf16 operands and f32 accumulation (AttentionPrecision::BF16):
// both operands rounded to bf16 (8-bit significands), multiplied exactly and
// summed in f32 in the order of vdpbf16ps (kernel_table.h, Bf16MicroKernel).
// Where the CPU has AVX-512 BF16 the avx512 level runs that instruction, at
// twice its f32 FMA rate; every other level computes the same bits with
// f32 FMAs, two a pair (tests/kernels/test_bf16_gemm.cpp), except that the
// instruction flushes a subnormal step to zero and the FMAs keep it.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/bf16_round.h"
#include "kernels/kernel_table.h"

namespace nystrom {

// Per-thread scratch of gemm_bf16 (pairs): A's rows, B's panels, and one
// panel's rows of a transposed B on their way into it. A call grows what is
// too small; sized ahead (bf16_scratch_size), a warm pass allocates nothing.
struct Bf16GemmScratch {
  std::vector<uint32_t> a, b, rows;
};
struct Bf16ScratchSize {
  size_t a = 0, b = 0, rows = 0;  // elements of each
  size_t bytes() const { return (a + b + rows) * sizeof(uint32_t); }
  void grow_to(const Bf16ScratchSize& o);  // the larger of each
};
// What gemm_bf16(table, M, N, K, ..., trans_b, ...) needs.
Bf16ScratchSize bf16_scratch_size(const KernelTable& table, int M, int N, int K, bool trans_b);

// C[M x N] (ldc) = A op(B) with bf16 operands: op(B)(k, j) = trans_b ?
// b[j*ldb + k] : b[k*ldb + j]. One thread. Every element is one chain over
// the whole depth, so the result does not depend on M, N or the tiling.
void gemm_bf16(const KernelTable& table, int M, int N, int K, const float* a, int lda, const float* b, int ldb,
               bool trans_b, float* c, int ldc, Bf16GemmScratch& scratch);

}  // namespace nystrom
