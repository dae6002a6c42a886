// The peak loops of each level (KernelTable::fma_peak_loop, int8_peak_loop),
// by level, for measuring the peak that GEMM efficiency is judged against.
#pragma once
#include "kernels/dispatch.h"

namespace nystrom {

// Runs `iters` rounds of independent FMA chains with `isa`'s widest vectors
// and returns the FLOPs done; `isa` must be supported (kernels_for != null).
double fma_peak_loop(Isa isa, long iters, float* sink);

// The 8-bit dot-product peak loop of `isa` (ops = 2 per multiply-add), or 0
// when the level has no such loop (only avx512 with VNNI has one).
double int8_peak_loop(Isa isa, long iters, int* sink);

}  // namespace nystrom
