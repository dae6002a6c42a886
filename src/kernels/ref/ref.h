// Scalar reference kernels: the plainest correct C++ for every kernel. They
// define what the optimized kernels must compute and are what tests compare
// them against; the scalar dispatch level also runs on them.
#pragma once
#include <cstddef>

#include "kernels/ops.h"

namespace nystrom::ref {

void gemm(int M, int N, int K, const float* a, int lda, bool trans_a, const float* b, int ldb,
          bool trans_b, float* c, int ldc, const ops::Epilogue& ep);
void softmax_row(float* x, int n);
void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps);
float activation(float x, ops::Act act);
void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo);
void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo);

}  // namespace nystrom::ref

namespace nystrom::ref {

// The portable 4x8 GEMM micro-kernel of the scalar level; also the
// reference the per-ISA micro-kernels are tested against (any tile size).
constexpr int kGemmMR = 4, kGemmNR = 8;
void gemm_ukernel(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr, bool accumulate,
                  int MR, int NR);
void gemm_ukernel_4x8(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                      bool accumulate);
void bias_act_row(float* y, const float* bias, int n, ops::Act act);
void pack_panel(const float* src, size_t ld, int rows, int R, int kc, float* dst);

}  // namespace nystrom::ref

namespace nystrom::ref {
// Scalar FMA chains (what the scalar level can reach); returns FLOPs done.
double fma_peak_loop(long iters, float* sink);
}  // namespace nystrom::ref
