// Products with bf16 operands and f32 accumulation (AttentionPrecision::BF16):
// both operands rounded to bf16 (8-bit significands), multiplied exactly and
// summed in f32 in the order of vdpbf16ps (kernel_table.h, Bf16MicroKernel).
// Where the CPU has AVX-512 BF16 the avx512 level runs that instruction, at
// twice its f32 FMA rate; every other level computes the same bits with its
// f32 FMAs (tests/kernels/test_bf16_gemm.cpp).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/kernel_table.h"

namespace nystrom {

// The rounding every level's conversion gives: to nearest even; a subnormal
// becomes a zero of its sign (vdpbf16ps reads subnormals as zero); a NaN
// stays a NaN, made quiet (so rounding cannot turn it into an infinity).
inline uint16_t bf16_from_float(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
  if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

inline float float_from_bf16(uint16_t h) {
  const uint32_t u = (uint32_t)h << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// Per-thread scratch of gemm_bf16: grows once, then is reused.
struct Bf16GemmScratch {
  std::vector<uint32_t> a, b, rows;
};

// C[M x N] (ldc) = A op(B) with bf16 operands: op(B)(k, j) = trans_b ?
// b[j*ldb + k] : b[k*ldb + j]. One thread. Every element is one chain over
// the whole depth, so the result does not depend on M, N or the tiling.
void gemm_bf16(const KernelTable& table, int M, int N, int K, const float* a, int lda, const float* b, int ldb,
               bool trans_b, float* c, int ldc, Bf16GemmScratch& scratch);

}  // namespace nystrom
