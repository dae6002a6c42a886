// The avx512 level (AVX-512 F/BW/VL/DQ + VNNI; flags in the Makefile): its
// table, block sizes and kernels. Only the dispatcher and the tests reach
// them, after the CPU check says avx512 is available.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"

namespace nystrom::avx512 {

// native_bf16: the CPU has AVX-512 BF16 (vdpbf16ps); the table without it
// computes the same bf16 products with f32 FMAs.
const KernelTable& avx512_kernels(bool native_bf16);

// 12 x 32 tile: 24 of the 32 zmm registers accumulate. KC 768 keeps the
// 12 x KC A panel (36 KiB) in L1; MC 144 rows of A (432 KiB) stay in L2;
// NC 4096 columns of B (12 MiB) in L3 (docs/TUNING.md has the measurements).
constexpr GemmBlocks kGemmBlocks = {12, 32, 768, 144, 4096};
// KB 32 blocks (K = 1024) cover a 768-deep layer in one call; MC 96 rows of
// activations (288 KiB at K = 3072) stay in L2 (docs/TUNING.md).
constexpr QGemmBlocks kQGemmBlocks = {32, 96};
// vpdpbusd multiplies unsigned weights by signed activations: q8_0 stored as
// w + 128, q4_0 as 16 q, corrected by corr and the 1/16 in the scale.
// q8_c: 12 x 32, 24 int32 accumulators (docs/TUNING.md).
constexpr QGemmLayout kQGemmLayout = {6, 32, 0x80, 0x00, 1.0f / 16, 12};

void gemm_ukernel_12x32(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                        bool accumulate);
void gemm_ukernel_epilogue_12x32(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                                 bool accumulate, const float* bias, ops::Act act, float scale);
void gemm_ukernel_rows_12x32(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int nr,
                             bool accumulate);

void softmax_row(float* x, int n);
void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps);
void bias_act_rows(float* y, size_t ldy, int rows, const float* bias, int n, ops::Act act, float scale);
void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo);
void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo);

void qgemm_q8_ukernel_6x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q4_ukernel_6x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q8c_ukernel_12x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                             bool accumulate);
void qgemm_q8c_ukernel_epilogue_12x32(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                                      int nr, bool accumulate, const float* bias, ops::Act act, float scale);
void quantize_act_row(const float* x, int k, int8_t* q, float* d, int32_t* corr);
void quantize_act_row_c(const float* x, int k, int8_t* q, float* d, int32_t* corr);
void f16_to_f32_row(const uint16_t* src, float* dst, int n);

// bf16_12x32.cpp
constexpr Bf16Layout kBf16Layout = {12, 32};
void bf16_convert_row(const float* x, int k, uint32_t* pairs);
void bf16_convert_row_emulated(const float* x, int k, uint32_t* pairs);
void bf16_interleave_rows(const float* lo, const float* hi, int n, uint32_t* pairs);
void bf16_interleave_rows_emulated(const float* lo, const float* hi, int n, uint32_t* pairs);
void gemm_bf16_ukernel_12x32(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c,
                             int ldc, int mr, int nr);
void gemm_bf16_ukernel_emulated_12x32(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb,
                                      float* c, int ldc, int mr, int nr);

double fma_peak_loop(long iters, float* sink);
// 8-bit VNNI dot products; returns the integer ops done.
double int8_peak_loop(long iters, int* sink);

}  // namespace nystrom::avx512
