// Scalar kernels for quantized and half-precision weights: the scalar
// level's integer GEMM micro-kernels (contract: QGemmMicroKernel in
// kernels/dispatch.h) and the f16 row conversion.
#pragma once
#include <cstdint>

#include "kernels/dispatch.h"

namespace nystrom::ref {

// Packed layout of the scalar level: q8_0 as signed bytes; q4_0 nibbles as
// 4-bit two's complement (q ^ 8), read as 16 w, hence the scale factor 1/16.
constexpr QGemmLayout kQGemmLayout = {4, 16, 0x00, 0x08, 1.0f / 16};
void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);

// dst[i] = the binary16 value src[i] (format/half.h), i < n.
void f16_to_f32_row(const uint16_t* src, float* dst, int n);

}  // namespace nystrom::ref
