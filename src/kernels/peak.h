// The FMA-throughput loop of each instruction set, for measuring the peak
// that GEMM efficiency is judged against.
#pragma once
#include "kernels/dispatch.h"

namespace nystrom {

// Runs `iters` rounds of independent FMA chains with `isa`'s widest vectors
// and returns the FLOPs done; `isa` must be supported (kernels_for != null).
double fma_peak_loop(Isa isa, long iters, float* sink);

}  // namespace nystrom
