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
void depthwise_conv_add(const float* v, int n, int cols, int ldv, const float* w, int K, float* out,
                        int ldo);

}  // namespace nystrom::ref
