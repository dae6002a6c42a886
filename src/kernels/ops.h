// The operations the model code is written in. Each call goes to the kernel
// table chosen for this CPU (kernels/dispatch.h); every kernel has a scalar
// twin in kernels/ref/ that tests compare it against.
//
// Matrices are row-major with explicit leading dimensions (ld*), so a head's
// columns inside an [n x hidden] activation are addressed in place.
#pragma once
#include <cstddef>

#include "nystrom/format.h"
#include "nystrom/nystrom.h"

namespace nystrom {
class ThreadPool;
class PackedQuantMatrix;
class PackedGemmB;
struct Int8GemmScratch;
struct Bf16GemmScratch;
struct Bf16ScratchSize;
struct KernelTable;
}

namespace nystrom::ops {

enum class Act { None, GeluTanh, GeluErf, Relu };
Act act_of(Activation a);

// What a GEMM does to its result before storing it:
//   C = act((accumulate ? C : 0) + A*B + bias) * scale
struct Epilogue {
  const float* bias = nullptr;      // added to every row (length N)
  Act act = Act::None;              // applied to the whole sum
  bool accumulate = false;          // the old C joins the sum
  float scale = 1.0f;               // applied last (the d^-1/4 of Q and K)
};

// C[M x N] = A * B, where A(i,k) = trans_a ? a[k*lda+i] : a[i*lda+k]
//                   and B(k,j) = trans_b ? b[j*ldb+k] : b[k*ldb+j].
void gemm(ThreadPool* pool, int M, int N, int K, const float* a, int lda, bool trans_a,
          const float* b, int ldb, bool trans_b, float* c, int ldc, const Epilogue& ep = {});

// A linear layer: y[n x out] = x[n x in] * w[out x in]^T + bias, then act.
void linear(ThreadPool* pool, int n, int in, int out, const float* x, int ldx, const float* w,
            const float* bias, float* y, int ldy, Act act = Act::None, float scale = 1.0f);

// A weight matrix [rows x cols] = [out x in] in its stored dtype.
struct WeightMatrix {
  format::DType dtype = format::DType::F32;
  int rows = 0, cols = 0;
  const void* data = nullptr;                 // f32 / f16 values or quantized blocks
  const PackedQuantMatrix* packed = nullptr;  // quantized: repacked at load for `table`
  const PackedGemmB* panels = nullptr;        // f32: GEMM panels packed at load for `table`
  const KernelTable* table = nullptr;         // the level packed or panels were made for
};

// y[n x w.rows] = act(x[n x w.cols] * w^T + bias) * scale, for any dtype:
// f32 and f16 through the float GEMM (f16 converted while packing; f32 from
// w.panels when they were packed for the level in use, else packed per call),
// q8_0 and q4_0 through the integer GEMM on w.table.
void linear(ThreadPool* pool, int n, const float* x, int ldx, const WeightMatrix& w, const float* bias, float* y,
            int ldy, Act act = Act::None, float scale = 1.0f);

// Several linear layers of one input (a layer's Q, K and V): each output as
// linear() gives it, bit for bit. Integer weights that can share it
// quantize x once and run in one parallel loop; others run one by one.
struct LinearOutput {
  const WeightMatrix* w;
  const float* bias;
  float* y;
  int ldy;
  Act act = Act::None;
  float scale = 1.0f;
};
void linear_shared_input(ThreadPool* pool, int n, const float* x, int ldx, const LinearOutput* outs, int count);

// C = A op(B) with both operands quantized to 8 bits (kernels/quant.h,
// gemm_int8), on the kernel table in use; one thread.
void gemm_int8(int M, int N, int K, const float* a, int lda, const float* b, int ldb, bool trans_b, float* c,
               int ldc, Int8GemmScratch& scratch);

// C = A op(B) with both operands rounded to bf16 and f32 sums
// (kernels/bf16_gemm.h), on the kernel table in use; one thread.
void gemm_bf16(int M, int N, int K, const float* a, int lda, const float* b, int ldb, bool trans_b, float* c,
               int ldc, Bf16GemmScratch& scratch);

// gemm_bf16's scratch for that product on the kernel table in use.
Bf16ScratchSize bf16_scratch_size(int M, int N, int K, bool trans_b);

// Row `row` of a weight matrix as floats (embedding lookups).
void weight_row(const WeightMatrix& w, int row, float* out);

// Row-wise softmax over `cols` entries of each of `rows` rows, in place.
void softmax_rows(float* x, int rows, int cols, int ld);

// out_row = LayerNorm(x_row + residual_row) * gamma + beta; residual may be
// null; out may alias x or residual.
void layer_norm_rows(const float* x, const float* residual, float* out, int rows, int cols, int ld,
                     const float* gamma, const float* beta, float eps);
void layer_norm_rows(ThreadPool* pool, const float* x, const float* residual, float* out, int rows, int cols,
                     int ld, const float* gamma, const float* beta, float eps);

void activate(float* x, size_t n, Act act);
void scale(float* x, int rows, int cols, int ld, float s);

// Means of x's rows over m contiguous segments (SPEC 2, step 1): out[j] is the
// mean of rows [start_j, start_j + len_j). out is [m x cols] with ld ldo.
void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo);

// out[t, c] += sum_k w[k] * v[t + k - K/2, c], zero outside 0..n-1.
void depthwise_conv_add(const float* v, int n, int cols, int ldv, const float* w, int K, float* out,
                        int ldo);
// The same for `heads` groups of `cols` columns side by side, group h with
// the taps w[h K .. h K + K), and only output rows t0 <= t < t1 (the result
// does not depend on how the rows are split).
void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo);

// Largest column sum of a [m x m] matrix.
float max_column_sum(const float* a, int m);

// Z = pinv(A) by `iters` Newton-Schulz-style steps from Z0 = A^T / c
// (SPEC 2, step 3). work holds 3*m*m floats.
void nystrom_pinv(ThreadPool* pool, const float* a, int m, float c, int iters, float* z, float* work);

}  // namespace nystrom::ops
