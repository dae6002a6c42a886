// The neon level (Advanced SIMD, which every aarch64 CPU has): its table,
// block sizes and kernels. The dispatcher and the tests reach them; the
// neon_dot level (kernels/neon_dot/) reuses all but the integer GEMM.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"

namespace nystrom::neon {

const KernelTable& neon_kernels();

// 8 x 12 tile: 24 q-register accumulators, 3 for B and 2 for A of 32.
// KC, MC, NC: measured with the avx512 level (docs/TUNING.md) and kept for
// this one; MC 144 is a multiple of MR 8.
constexpr GemmBlocks kGemmBlocks = {8, 12, 768, 144, 4096};
// The integer GEMM's blocks, measured with AVX-512 VNNI (docs/TUNING.md).
constexpr QGemmBlocks kQGemmBlocks = {32, 96};
// Signed bytes on both sides (vmull_s8, and SDOT at neon_dot): q8_0 as it is,
// q4_0 nibbles as 4-bit two's complement (q ^ 8) read as 16 w.
constexpr QGemmLayout kQGemmLayout = {4, 16, 0x00, 0x08, 1.0f / 16, 4};

void gemm_ukernel_8x12(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                       bool accumulate);
void gemm_ukernel_rows_8x12(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int nr,
                            bool accumulate);
void pack_panel(const float* src, size_t ld, int rows, int R, int kc, float* dst);
// bf16 conversions and products with f32 FMAs (bf16_4x16.cpp).
constexpr Bf16Layout kBf16Layout = {4, 16};
void bf16_convert_row(const float* x, int k, uint32_t* pairs);
void bf16_interleave_rows(const float* lo, const float* hi, int n, uint32_t* pairs);
void gemm_bf16_ukernel_4x16(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c,
                            int ldc, int mr, int nr);

void softmax_row(float* x, int n);
void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps);
void bias_act_rows(float* y, size_t ldy, int rows, const float* bias, int n, ops::Act act, float scale);
void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo);
void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo);

// Widening multiplies (no dot product instruction).
void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q8c_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                            bool accumulate);
void quantize_act_row(const float* x, int k, int8_t* q, float* d, int32_t* corr);
void f16_to_f32_row(const uint16_t* src, float* dst, int n);

double fma_peak_loop(long iters, float* sink);

}  // namespace nystrom::neon
