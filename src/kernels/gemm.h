// Blocked, packed, threaded single-precision GEMM in the BLIS style: only the
// MR x NR micro-kernel is instruction-set specific (kernels/<isa>/gemm_*.cpp);
// the cache blocking and packing loops here are portable, with the block
// sizes of the table they run on (KernelTable::gemm).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "runtime/aligned_buffer.h"

namespace nystrom {

class ThreadPool;

// The M rows of a GEMM split into blocks for the threads: whole MR-row
// tiles, about `target` rows a block, as many blocks as a multiple of the
// thread count (so that no thread idles at the end), their sizes differing
// by at most one tile.
struct RowBlocks {
  RowBlocks(int M, int MR, int target, int threads) : M(M), MR(MR), tiles((M + MR - 1) / MR) {
    count = (M + target - 1) / target;
    if (threads > 1) count = (count + threads - 1) / threads * threads;
    if (count > tiles) count = tiles;
  }
  // First row of block b; begin(count) == M.
  int begin(int b) const {
    const int r = (int)((long long)tiles * b / count) * MR;
    return r < M ? r : M;
  }
  int M, MR, tiles, count;
};

// Whether the epilogue has work after the products: a bias, an activation
// or a scale.
inline bool has_epilogue(const ops::Epilogue& ep) {
  return ep.bias || ep.act != ops::Act::None || ep.scale != 1.0f;
}

// The epilogue's bias, activation and scale on a rows x cols block of C
// whose first column is column j0 of the output (the bias from ep.bias +
// j0); ep.accumulate is the products' business. Shared with qgemm.cpp.
inline void apply_epilogue(const KernelTable& t, float* c, int ldc, int rows, int cols, int j0,
                           const ops::Epilogue& ep) {
  t.bias_act_rows(c, (size_t)ldc, rows, ep.bias ? ep.bias + j0 : nullptr, cols, ep.act, ep.scale);
}

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

// An f32 weight matrix w [N x K] (B(k,j) = w[j*ldw + k], the trans_b operand
// of a linear layer) packed once, for one kernel table, into the panels its
// micro-kernel reads: for each NC column block, for each KC depth block, for
// each NR-column strip of the block, kc x NR floats (zero past the block's
// last column; NC, KC, NR of the table). That is exactly the sequence of blocks gemm_blocked packs on
// every call, so products through it are bit-identical to gemm_blocked's.
// Size: K * (N rounded up to NR per NC block) floats.
class PackedGemmB {
 public:
  PackedGemmB(const KernelTable& table, int N, int K, const float* w, int ldw);
  PackedGemmB() = default;  // empty until pack()
  void pack(const KernelTable& table, int N, int K, const float* w, int ldw);
  const KernelTable& table() const { return *table_; }
  int rows() const { return n_; }  // N
  int cols() const { return k_; }  // K
  size_t bytes() const { return floats_ * sizeof(float); }
  // The packed block of columns [jc, jc + NC) x depth [pc, pc + KC);
  // jc and pc multiples of NC and KC.
  const float* block(int jc, int pc) const;

 private:
  const KernelTable* table_ = nullptr;
  int n_ = 0, k_ = 0;
  size_t floats_ = 0;
  AlignedBuffer data_;
};

// C[M x N] = op(A) B with the epilogue, B prepacked: the blocking and the
// packing of A are gemm_blocked's, on b's table.
void gemm_blocked_prepacked(ThreadPool* pool, int M, const float* a, int lda, bool trans_a, const PackedGemmB& b,
                            float* c, int ldc, const ops::Epilogue& ep);

}  // namespace nystrom
