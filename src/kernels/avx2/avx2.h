// Kernels compiled for avx2 (flags in the Makefile). Only dispatch.cpp and the
// tests reach them, after the CPU check says avx2 is available.
#pragma once
#include <cstddef>

#include "kernels/ops.h"

namespace nystrom::avx2 {

constexpr int kGemmMR = 6, kGemmNR = 16;
// The 6x16 register-tile GEMM micro-kernel (contract: kernels/dispatch.h).
void gemm_ukernel_6x16(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                        bool accumulate);

// Runs independent FMA chains; returns the FLOPs done (for the peak).
double fma_peak_loop(long iters, float* sink);

void softmax_row(float* x, int n);
void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps);
void bias_act_row(float* y, const float* bias, int n, ops::Act act);
void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo);
void depthwise_conv_add(const float* v, int n, int cols, int ldv, const float* w, int K, float* out, int ldo);

}  // namespace nystrom::avx2
