// The neon_dot level: the neon level with the Armv8.2 dot product (SDOT) in
// the integer GEMM. The dispatcher chooses it when the CPU reports the dot
// product (HWCAP_ASIMDDP); its micro-kernels carry their own target
// attribute, so no other code can pick up the instructions.
#pragma once
#include <cstdint>

#include "kernels/kernel_table.h"

namespace nystrom::neon_dot {

// neon's table with this level's integer micro-kernels (same packed layout,
// neon::kQGemmLayout).
const KernelTable& neon_dot_kernels();

void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate);
void qgemm_q8c_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                            bool accumulate);

}  // namespace nystrom::neon_dot
