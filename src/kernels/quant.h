// Block-quantized weights (ggml-style formats, this project's own code).
// Byte layouts and rounding rules are specified in include/nystrom/format.h;
// this header holds the block structs, the reference quantizers and the
// integer GEMM that runs on them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/dispatch.h"
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

// Reference quantizers (exactly the rounding rule of format.h); k % 32 == 0.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int k);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int k);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int k);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int k);

// A weight matrix [rows x cols] as the file stores it (row-major blocks).
struct QuantMatrixView {
  format::DType dtype;  // Q8_0 or Q4_0
  int rows, cols;       // cols % 32 == 0
  const void* blocks;
};

// The same matrix repacked once at load into the layout the kernel table's
// integer micro-kernel wants (opaque outside kernels/).
class PackedQuantMatrix {
 public:
  PackedQuantMatrix(const KernelTable& table, const QuantMatrixView& w);
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

// y[M x N] = act(x[M x K] W^T + bias) * scale, with x quantized on the fly to
// 8-bit blocks of 32 (one scale per row block) and integer dot products.
// W was packed for the same table. Bit-identical for every thread count.
void qgemm(const KernelTable& table, ThreadPool* pool, int M, const float* x, int ldx, const PackedQuantMatrix& w,
           float* y, int ldy, const ops::Epilogue& ep);

// The reference: quantizes x with quantize_row_q8_0 and sums, per block,
// d_x * d_w * (exact integer dot product), in double.
void qgemm_reference(int M, const float* x, int ldx, const QuantMatrixView& w, float* y, int ldy,
                     const ops::Epilogue& ep);

}  // namespace nystrom
