// Block-quantized weights (ggml-style formats, this project's own code).
// Byte layouts and rounding rules are specified in include/nystrom/format.h;
// this header holds the block structs, the reference quantizers and the
// integer GEMM that runs on them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "nystrom/format.h"

namespace nystrom {

class ThreadPool;

constexpr int kQuantBlock = 32;  // weights per block, one f16 scale each

struct BlockQ8_0 {
  uint16_t d;     // f16 scale
  int8_t qs[32];  // x[i] ~ d * qs[i]
};
struct BlockQ4_0 {
  uint16_t d;      // f16 scale
  uint8_t qs[16];  // x[i] ~ d * ((qs[i] & 15) - 8), x[i+16] ~ d * ((qs[i] >> 4) - 8)
};
static_assert(sizeof(BlockQ8_0) == 34, "q8_0 block is 34 bytes");
static_assert(sizeof(BlockQ4_0) == 18, "q4_0 block is 18 bytes");

// Reference quantizers (the rules of format.h; q4_0 searches each block's
// scale, a cost paid at conversion only); k % 32 == 0.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int k);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int k);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int k);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int k);

// q8_c, one row of k values (format.h), k % 32 == 0: q[i] and the row's
// scale *s; a row with an infinity or NaN gets *s = NaN and q = 0. Returns
// sum of q.
int32_t quantize_row_q8_c(const float* x, int k, int8_t* q, float* s);
void dequantize_row_q8_c(const int8_t* q, float s, float* y, int k);
// A whole q8_c matrix [rows x cols] as the file stores it: rows * cols codes,
// then one f32 scale per row. The first quantizes row `row` (x, cols values)
// into its codes and scale; the second reads row `row`'s scale.
void quantize_matrix_row_q8_c(const float* x, size_t rows, size_t cols, size_t row, uint8_t* matrix);
float q8_c_row_scale(const void* matrix, size_t rows, size_t cols, size_t row);

// Activation rows, quantized once per qgemm call: the q8_0 rule (a = max |x|,
// d = a / 127, q = round-half-away(x / d), 0 when d == 0) with d kept in
// float, not rounded to f16 (activations may be far below f16's normal
// range). corr[b] = -128 * sum of block b's q (see QuantRows). A block with
// an infinity or NaN gets d = NaN and q = 0, so its row's outputs are NaN.
// Every table's quantize_act_row gives exactly these bytes and scales.
void quantize_row_q8_act(const float* x, int k, int8_t* q, float* d, int32_t* corr);
// The same per whole row, for q8_c weights: one scale *d (the rule of
// quantize_row_q8_c) and *corr = -128 * (sum of the row's q).
void quantize_row_q8c_act(const float* x, int k, int8_t* q, float* d, int32_t* corr);

// A weight matrix [rows x cols] as the file stores it (row-major blocks).
struct QuantMatrixView {
  format::DType dtype;  // Q8_0, Q4_0 or Q8_C
  int rows, cols;       // cols % 32 == 0 (and <= 65536 for Q8_C)
  const void* blocks;   // Q8_C: rows * cols int8, then rows f32 scales
};

// The same matrix repacked once at load into the layout the kernel table's
// integer micro-kernels want (QGemmLayout in kernels/kernel_table.h; opaque
// outside kernels/). Throws std::invalid_argument for another dtype,
// cols % 32 != 0, or a q8_c matrix wider than 65536.
class PackedQuantMatrix {
 public:
  PackedQuantMatrix(const KernelTable& table, const QuantMatrixView& w);
  PackedQuantMatrix();  // empty, for repack()
  // Packs another matrix into this one, reusing its memory when it is large
  // enough (for matrices made on the fly, e.g. in int8 attention).
  void repack(const KernelTable& table, const QuantMatrixView& w);
  ~PackedQuantMatrix();
  PackedQuantMatrix(PackedQuantMatrix&&) noexcept;
  PackedQuantMatrix& operator=(PackedQuantMatrix&&) noexcept;
  PackedQuantMatrix(const PackedQuantMatrix&) = delete;
  PackedQuantMatrix& operator=(const PackedQuantMatrix&) = delete;

  int rows() const;
  int cols() const;
  format::DType dtype() const;
  size_t bytes() const;  // memory the packed copy takes
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  Impl* impl_;
};

// y[M x N] = act(x[M x K] W^T + bias) * scale (ops::Epilogue: with
// accumulate the old y joins the sum before bias and act), N = w.rows(),
// K = w.cols(), with x quantized once per call by quantize_row_q8_act and
// integer dot products per block; for q8_c weights by quantize_row_q8c_act,
// one int32 dot product over all of K, scaled once: acc * d_x[i] * s_w[j]. W was packed for a table with the same
// layout (else std::invalid_argument). pool may be null. Bit-identical for
// every thread count: work is split over rows and column panels, never K.
void qgemm(const KernelTable& table, ThreadPool* pool, int M, const float* x, int ldx, const PackedQuantMatrix& w,
           float* y, int ldy, const ops::Epilogue& ep);

// Several products of one x: y_o = act_o(x W_o^T + bias_o) * scale_o, with
// x quantized once and every output's tiles in one parallel loop (Q, K and
// V of a layer). Each y_o has the bits qgemm gives it alone. The matrices
// must share K and the activation rule (all q8_c, or all q8_0 / q4_0:
// can_share_input), else std::invalid_argument.
// Up to this many outputs share an input without a heap allocation (Q, K
// and V are three); more still work, through a vector.
constexpr int kFewSharedOutputs = 8;
struct QGemmOutput {
  const PackedQuantMatrix* w;
  float* y;
  int ldy;
  ops::Epilogue ep;
};
bool can_share_input(const QGemmOutput* outs, int count);
void qgemm_shared_input(const KernelTable& table, ThreadPool* pool, int M, const float* x, int ldx,
                        const QGemmOutput* outs, int count);

// Per-thread scratch of gemm_int8: everything grows once, then is reused.
struct Int8GemmScratch {
  std::vector<float> a_pad, row;
  std::vector<BlockQ8_0> blocks;
  PackedQuantMatrix packed;
};

// C[M x N] = A * op(B) with both operands in 8 bits: B's columns are
// quantized to q8_0 blocks along K and packed as weights, A is quantized per
// row by qgemm; K is zero-padded to a multiple of 32. op(B)(k,j) = trans_b ?
// b[j*ldb+k] : b[k*ldb+j]. Used by the int8 variant of Nystrom attention.
void gemm_int8(const KernelTable& table, int M, int N, int K, const float* a, int lda, const float* b, int ldb,
               bool trans_b, float* c, int ldc, Int8GemmScratch& scratch);

// The reference: quantizes x with quantize_row_q8_act and sums, per block,
// d_x * d_w * (exact integer dot product), in double; then the epilogue.
// For q8_c: quantize_row_q8c_act, and d_x * s_w * (the exact integer dot
// product of the whole row).
void qgemm_reference(int M, const float* x, int ldx, const QuantMatrixView& w, float* y, int ldy,
                     const ops::Epilogue& ep);

}  // namespace nystrom
