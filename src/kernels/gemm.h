// Blocked, packed, threaded single-precision GEMM in the BLIS style: only the
// MR x NR micro-kernel is instruction-set specific (kernels/<isa>/gemm_*.cpp);
// the cache blocking and packing loops here are portable.
#pragma once
#include <cstdint>

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace nystrom {

class ThreadPool;

// Cache block sizes, shared by every micro-kernel (measured with
// nystrom-bench on Zen 5, 48 KiB L1 / 1 MiB L2 per core; single thread,
// n x 768 x 3072: KC 192 -> 57-69% of the FMA peak, KC 384 -> 73-74%):
//  KC: depth of one packed block. A larger KC means fewer passes over C
//      (each pass reads and writes the whole C tile); a kc x NR panel of B
//      (48 KiB at NR = 32) is reused by every A panel of the block.
//  MC: rows of A packed at once; MC x KC floats = 72 KiB sits in L2.
//      A multiple of every MR in use (4, 6, 8, 12).
//  NC: columns of B packed at once; KC x NC floats = 6 MiB sits in L3.
constexpr int kGemmKC = 384;
constexpr int kGemmMC = 48;
constexpr int kGemmNC = 4096;

// C = op(A) op(B) with the epilogue, as ops::gemm documents, using the
// micro-kernel and row kernels of `table`. pool may be null (one thread).
// Results are bit-identical for every thread count: work is split over rows
// and columns of C, never over K.
void gemm_blocked(const KernelTable& table, ThreadPool* pool, int M, int N, int K, const float* a, int lda,
                  bool trans_a, const float* b, int ldb, bool trans_b, float* c, int ldc,
                  const ops::Epilogue& ep);

// The same with B an f16 weight matrix w [N x K]: B(k,j) = w[j*ldw + k].
void gemm_blocked_f16(const KernelTable& table, ThreadPool* pool, int M, int N, int K, const float* a, int lda,
                      bool trans_a, const uint16_t* w, int ldw, float* c, int ldc, const ops::Epilogue& ep);

}  // namespace nystrom
