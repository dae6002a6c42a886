// Scalar reference kernels: the plainest correct C++ for every kernel. They
// define what the optimized kernels must compute and are what tests compare
// them against; the scalar level's table (table.cpp) runs on them. Each file
// is named for its optimized twins: gemm.cpp for gemm_<tile>.cpp, pack.cpp,
// row_kernels.cpp, attention_kernels.cpp, quant_rows.cpp, qgemm.cpp for
// qgemm_<tile>.cpp, fma_peak.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/ops.h"

namespace nystrom::ref {

// The scalar level's table.
const KernelTable& scalar_kernels();

// gemm.cpp: the whole product (what gemm_blocked must compute), the generic
// micro-kernel of any tile size (what each level's micro-kernel must
// compute) and the scalar level's own 4x8 micro-kernel.
void gemm(int M, int N, int K, const float* a, int lda, bool trans_a, const float* b, int ldb,
          bool trans_b, float* c, int ldc, const ops::Epilogue& ep);
void gemm_ukernel(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr, bool accumulate,
                  int MR, int NR);
constexpr int kGemmMR = 4, kGemmNR = 8;
void gemm_ukernel_rows_4x8(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int nr,
                           bool accumulate);
void gemm_ukernel_4x8(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                      bool accumulate);

// pack.cpp
void pack_panel(const float* src, size_t ld, int rows, int R, int kc, float* dst);

// row_kernels.cpp
void softmax_row(float* x, int n);
void layer_norm_row(const float* x, const float* residual, float* out, int n, const float* gamma,
                    const float* beta, float eps);
float activation(float x, ops::Act act);
void bias_act_rows(float* y, size_t ldy, int rows, const float* bias, int n, ops::Act act, float scale);

// attention_kernels.cpp
void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo);
void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo);

// quant_rows.cpp: f16 rows. (The activation quantizer's reference is
// quantize_row_q8_act in kernels/quant.cpp, with the weight quantizers it
// shares its rounding with.)
void f16_to_f32_row(const uint16_t* src, float* dst, int n);

// qgemm.cpp: integer GEMM micro-kernels for the layout below: q8_0 as
// signed bytes; q4_0 nibbles as 4-bit two's complement (q ^ 8), read as
// 16 w, hence the scale factor 1/16.
constexpr QGemmLayout kQGemmLayout = {4, 16, 0x00, 0x08, 1.0f / 16, 4};
void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q8c_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                            bool accumulate);

// bf16.cpp: bf16 conversions and products (kernels/bf16_gemm.h). The
// micro-kernel serves any tile (rows and columns are independent); the
// scalar level's table gives it a 4 x 16 one.
void bf16_convert_row(const float* x, int k, uint32_t* pairs);
void bf16_interleave_rows(const float* lo, const float* hi, int n, uint32_t* pairs);
void gemm_bf16_ukernel(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c, int ldc,
                       int mr, int nr);
constexpr Bf16Layout kBf16Layout = {4, 16};

// fma_peak.cpp: scalar FMA chains (what the scalar level can reach).
double fma_peak_loop(long iters, float* sink);

}  // namespace nystrom::ref
