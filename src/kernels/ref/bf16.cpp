// Reference bf16 conversions and micro-kernel (contracts: kernel_table.h,
// Bf16ConvertRow, Bf16InterleaveRows, Bf16MicroKernel).
#include <cfloat>
#include <cmath>

#include "kernels/bf16_gemm.h"
#include "kernels/ref/ref.h"

namespace nystrom::ref {

void bf16_convert_row(const float* x, int k, uint32_t* pairs) {
  for (int t = 0; 2 * t < k; ++t) {
    const uint32_t hi = 2 * t + 1 < k ? bf16_from_float(x[2 * t + 1]) : 0;
    pairs[t] = bf16_from_float(x[2 * t]) | hi << 16;
  }
}

void bf16_interleave_rows(const float* lo, const float* hi, int n, uint32_t* pairs) {
  for (int j = 0; j < n; ++j) pairs[j] = bf16_from_float(lo[j]) | (hi ? (uint32_t)bf16_from_float(hi[j]) << 16 : 0u);
}

namespace {
// The instruction flushes a subnormal result to a zero of its sign.
float flush(float x) { return std::fabs(x) < FLT_MIN ? std::copysign(0.0f, x) : x; }
}  // namespace

void gemm_bf16_ukernel(int pairs, const uint32_t* a, size_t lda, const uint32_t* b, size_t ldb, float* c, int ldc,
                       int mr, int nr) {
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) {
      float acc = 0.0f;
      for (int t = 0; t < pairs; ++t) {
        const uint32_t x = a[(size_t)i * lda + t], y = b[(size_t)t * ldb + j];
        acc = flush(std::fma(float_from_bf16((uint16_t)(x >> 16)), float_from_bf16((uint16_t)(y >> 16)), acc));
        acc = flush(std::fma(float_from_bf16((uint16_t)x), float_from_bf16((uint16_t)y), acc));
      }
      c[(size_t)i * ldc + j] = acc;
    }
}

}  // namespace nystrom::ref
