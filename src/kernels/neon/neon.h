// Kernels compiled for neon (flags in the Makefile). Only dispatch.cpp and the
// tests reach them, after the CPU check says neon is available.
#pragma once
#include <cstddef>

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace nystrom::neon {

constexpr int kGemmMR = 8, kGemmNR = 12;
// The 8x12 register-tile GEMM micro-kernel (contract: kernels/dispatch.h).
void gemm_ukernel_8x12(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                        bool accumulate);

// Runs independent FMA chains; returns the FLOPs done (for the peak).
double fma_peak_loop(long iters, float* sink);

void softmax_row(float* x, int n);
void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps);
void bias_act_row(float* y, const float* bias, int n, ops::Act act);
void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo);
void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo);

// Integer GEMM on quantized weights (kernels/qgemm.cpp; contracts in
// kernels/dispatch.h): the micro-kernels for this level's packing, the
// activation quantizer (exactly quantize_row_q8_act) and f16 rows.
constexpr QGemmLayout kQGemmLayout = {4, 16, 0x00, 0x08, 1.0f / 16};
void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
// The two implementations the 4x16 kernels choose between on each call:
// SDOT (qgemm_4x16_dot.cpp, compiled for armv8.2-a+dotprod, run only when
// cpu_features().asimd_dotprod) and widening multiplies (any NEON).
void qgemm_q8_ukernel_4x16_dot(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                               int nr, bool accumulate);
void qgemm_q4_ukernel_4x16_dot(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                               int nr, bool accumulate);
void qgemm_q8_ukernel_4x16_widen(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                                 int nr, bool accumulate);
void qgemm_q4_ukernel_4x16_widen(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr,
                                 int nr, bool accumulate);
void quantize_act_row(const float* x, int k, int8_t* q, float* d, int32_t* corr);
void f16_to_f32_row(const uint16_t* src, float* dst, int n);

// GEMM panel packing (4 x 4 transposes; contract: kernels/dispatch.h).
void pack_panel(const float* src, size_t ld, int rows, int R, int kc, float* dst);

}  // namespace nystrom::neon
