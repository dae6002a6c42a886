#include "kernels/gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/aligned_buffer.h"
#include "runtime/thread_pool.h"

namespace nystrom {
namespace {

// Asks for the cache lines of `rows` rows of kc floats (leading dimension
// ld) ahead of use. A head's slice of Q, K or V is 256 bytes of each 3 KiB
// row: too short a run for the hardware prefetchers, so packing one waited
// on memory row by row. (A data-movement hint, no intrinsic: GCC/Clang.)
void prefetch_rows(const float* p, size_t ld, int rows, int kc) {
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < kc; k += 16) __builtin_prefetch(p + r * ld + k);
}

// Packs rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into MR-row panels:
// panel r holds a[k*MR + ii] = A(i0 + r*MR + ii, p0 + k), zero past row M.
void pack_a(const KernelTable& t, const float* a, int lda, bool trans, int i0, int mc, int p0, int kc, int MR,
            float* dst) {
  for (int r0 = 0; r0 < mc; r0 += MR, dst += (size_t)kc * MR) {
    int rows = std::min(MR, mc - r0);
    if (trans) {  // A(i,k) = a[k*lda + i]: each k is a contiguous run of rows
      for (int k = 0; k < kc; ++k) {
        const float* src = a + (size_t)(p0 + k) * lda + i0 + r0;
        float* d = dst + (size_t)k * MR;
        int ii = 0;
        for (; ii < rows; ++ii) d[ii] = src[ii];
        for (; ii < MR; ++ii) d[ii] = 0.0f;
      }
    } else {
      const float* src = a + (size_t)(i0 + r0) * lda + p0;
      if (lda > kc) prefetch_rows(src + (size_t)MR * lda, (size_t)lda, std::min(MR, mc - r0 - MR), kc);  // next panel
      t.pack_panel(src, (size_t)lda, rows, MR, kc, dst);
    }
  }
}

// Packs columns [j0, j0+NR) x depth [p0, p0+kc) of op(B) into one panel:
// b[k*NR + jj] = B(p0 + k, j0 + jj), zero past column N.
void pack_b_panel(const KernelTable& t, const float* b, int ldb, bool trans, int N, int j0, int p0, int kc, int NR,
                  float* dst) {
  int cols = std::min(NR, N - j0);
  if (trans) {  // B(k,j) = b[j*ldb + k]: a weight matrix [N x K]
    if (ldb > kc && N - j0 > NR)  // the next panel's rows
      prefetch_rows(b + (size_t)(j0 + NR) * ldb + p0, (size_t)ldb, std::min(NR, N - j0 - NR), kc);
    t.pack_panel(b + (size_t)j0 * ldb + p0, (size_t)ldb, cols, NR, kc, dst);
  } else {
    for (int k = 0; k < kc; ++k) {
      const float* src = b + (size_t)(p0 + k) * ldb + j0;
      if (k + 8 < kc) __builtin_prefetch(src + 8 * (size_t)ldb);  // rows ldb apart: see prefetch_rows
      float* d = dst + (size_t)k * NR;
      // The element loop compiled to scalar moves, and a memcpy of
      // variable length is a library call per row: a fixed length for whole
      // panels (avx512's 32, avx2's 16) is inlined as vector moves (the
      // attention's 64-wide products pack one short row per k). A loop of
      // fixed 16-byte copies for every width measured 11% slower on the
      // pseudo-inverse (GCC makes it a library call again).
      if (cols == 32) std::memcpy(d, src, sizeof(float) * 32);
      else if (cols == 16) std::memcpy(d, src, sizeof(float) * 16);
      else std::memcpy(d, src, sizeof(float) * cols);
      std::fill(d + cols, d + NR, 0.0f);
    }
  }
}

// The same for an f16 weight matrix w [N x K] (B(k,j) = w[j*ldw + k]),
// converted to f32 on the way with the table's f16 kernel, a stretch of a
// row at a time through a buffer on the stack (no per-thread heap buffer:
// a warm forward pass allocates nothing).
void pack_b_panel_f16(const KernelTable& t, const uint16_t* w, int ldw, int N, int j0, int p0, int kc, int NR,
                      float* dst) {
  constexpr int kStretch = 256;
  float row[kStretch];
  int cols = std::min(NR, N - j0);
  for (int jj = 0; jj < cols; ++jj)
    for (int k0 = 0; k0 < kc; k0 += kStretch) {
      const int len = std::min(kStretch, kc - k0);
      t.f16_to_f32_row(w + (size_t)(j0 + jj) * ldw + p0 + k0, row, len);
      for (int k = 0; k < len; ++k) dst[(size_t)(k0 + k) * NR + jj] = row[k];
    }
  for (int jj = cols; jj < NR; ++jj)
    for (int k = 0; k < kc; ++k) dst[(size_t)k * NR + jj] = 0.0f;
}

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// A task that runs its tiles over at most this many B panels reads A's
// tiles in place (gemm_ukernel_rows) instead of packing them: with that
// little reuse, packing cost about as much as the products (a quarter of
// the attention's 64 x 64 x 64 pseudo-inverse products went to packing A).
constexpr int kInPlacePanels = 4;

// The B blocks of one call, packed into a per-thread buffer as they are
// needed (the panels of a block split over the pool). pack_panel(j0, p0, kc,
// dst, j_end) packs one panel whose columns end at j_end.
template <typename PackPanel>
struct PackPerCall {
  static constexpr bool kResident = false;  // one block at a time, in a reused buffer
  const KernelTable& t;
  ThreadPool* pool;
  PackPanel pack_panel;

  const float* operator()(int jc, int nc, int pc, int kc) const {
    static thread_local AlignedBuffer buf;
    const int NR = t.gemm.nr, npanels = ceil_div(nc, NR);
    float* dst = buf.reserve((size_t)npanels * kc * NR);
    auto pack = [&](size_t p0, size_t p1, int) {
      for (size_t p = p0; p < p1; ++p) pack_panel(jc + (int)p * NR, pc, kc, dst + p * kc * NR, jc + nc);
    };
    if (pool && npanels > 1) pool->parallel_for(npanels, pack, 4);
    else pack(0, npanels, 0);
    return dst;
  }
};

template <typename PackPanel>
PackPerCall<PackPanel> pack_per_call(const KernelTable& t, ThreadPool* pool, PackPanel pack_panel) {
  return {t, pool, pack_panel};
}

// The blocks of a B packed at load.
struct ResidentB {
  static constexpr bool kResident = true;
  const PackedGemmB& b;
  const float* operator()(int jc, int, int pc, int) const { return b.block(jc, pc); }
};

// b_block(jc, nc, pc, kc) gives the packed B block of columns [jc, jc+nc) x
// depth [pc, pc+kc), panel p at p * kc * NR. BBlock::kResident: every block
// stays valid at once (packed at load), not just the last one asked for.
template <typename BBlock>
void gemm_impl(const KernelTable& t, ThreadPool* pool, int M, int N, int K, const float* a, int lda, bool trans_a,
               const BBlock& b_block, float* c, int ldc, const ops::Epilogue& ep);

}  // namespace

void gemm_blocked(const KernelTable& t, ThreadPool* pool, int M, int N, int K, const float* a, int lda,
                  bool trans_a, const float* b, int ldb, bool trans_b, float* c, int ldc,
                  const ops::Epilogue& ep) {
  const int NR = t.gemm.nr;
  const KernelTable* table = &t;
  auto pack_panel = [=](int j0, int p0, int kc, float* dst, int j_end) {
    pack_b_panel(*table, b, ldb, trans_b, j_end, j0, p0, kc, NR, dst);
  };
  gemm_impl(t, pool, M, N, K, a, lda, trans_a, pack_per_call(t, pool, pack_panel), c, ldc, ep);
}

void gemm_blocked_f16(const KernelTable& t, ThreadPool* pool, int M, int N, int K, const float* a, int lda,
                      bool trans_a, const uint16_t* w, int ldw, float* c, int ldc, const ops::Epilogue& ep) {
  const int NR = t.gemm.nr;
  const KernelTable* table = &t;
  auto pack_panel = [=](int j0, int p0, int kc, float* dst, int j_end) {
    pack_b_panel_f16(*table, w, ldw, j_end, j0, p0, kc, NR, dst);
  };
  gemm_impl(t, pool, M, N, K, a, lda, trans_a, pack_per_call(t, pool, pack_panel), c, ldc, ep);
}

PackedGemmB::PackedGemmB(const KernelTable& table, int N, int K, const float* w, int ldw) {
  pack(table, N, K, w, ldw);
}

void PackedGemmB::pack(const KernelTable& table, int N, int K, const float* w, int ldw) {
  table_ = &table, n_ = N, k_ = K, floats_ = 0;
  const int NR = table.gemm.nr, NC = table.gemm.nc, KC = table.gemm.kc;
  for (int jc = 0; jc < N; jc += NC) floats_ += (size_t)ceil_div(std::min(NC, N - jc), NR) * NR * K;
  float* dst = data_.reserve(floats_);
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      for (int j = jc; j < jc + nc; j += NR, dst += (size_t)kc * NR)
        pack_b_panel(table, w, ldw, true, jc + nc, j, pc, kc, NR, dst);
    }
  }
}

const float* PackedGemmB::block(int jc, int pc) const {
  const int NR = table_->gemm.nr, NC = table_->gemm.nc;
  // Every column block before jc is a full NC wide; every depth block
  // before pc a full KC deep.
  const size_t full_block = (size_t)ceil_div(NC, NR) * NR * k_;
  const int npanels = ceil_div(std::min(NC, n_ - jc), NR);
  return data_.data() + (size_t)(jc / NC) * full_block + (size_t)pc * npanels * NR;
}

void gemm_blocked_prepacked(ThreadPool* pool, int M, const float* a, int lda, bool trans_a, const PackedGemmB& b,
                            float* c, int ldc, const ops::Epilogue& ep) {
  gemm_impl(b.table(), pool, M, b.rows(), b.cols(), a, lda, trans_a, ResidentB{b}, c, ldc, ep);
}

namespace {

template <typename BBlock>
void gemm_impl(const KernelTable& t, ThreadPool* pool, int M, int N, int K, const float* a, int lda, bool trans_a,
               const BBlock& b_block, float* c, int ldc, const ops::Epilogue& ep) {
  if (M <= 0 || N <= 0) return;
  const int MR = t.gemm.mr, NR = t.gemm.nr, KC = t.gemm.kc, MC = t.gemm.mc, NC = t.gemm.nc;
  const bool epilogue = has_epilogue(ep);
  const int threads = pool ? pool->size() : 1;

  if (K <= 0) {  // C = (accumulate ? C : 0), then the epilogue
    if (!ep.accumulate)
      for (int i = 0; i < M; ++i) std::fill(c + (size_t)i * ldc, c + (size_t)i * ldc + N, 0.0f);
    apply_epilogue(t, c, ldc, M, N, 0, ep);
    return;
  }

  const RowBlocks rows(M, MR, MC, threads);
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    const int npanels = ceil_div(nc, NR);
    // Tasks: blocks of rows, times chunks of B panels when there are too
    // few row blocks to keep every thread busy.
    const int nchunks = rows.count >= 2 * threads ? 1 : std::min(npanels, ceil_div(2 * threads, rows.count));
    const int panels_per_chunk = ceil_div(npanels, nchunks);

    // Rows [ic, ic+mc) x the chunk's panels x depth [pc, pc+kc): A packed
    // into this thread's buffer, then every MR x NR tile of the block.
    auto block = [&](int task_id, int pc, int kc, const float* bpack) {
      static thread_local AlignedBuffer a_buf;
      const int ib = task_id / nchunks, jb = task_id % nchunks;
      const int ic = rows.begin(ib), mc = rows.begin(ib + 1) - ic;
      const int p_begin = jb * panels_per_chunk, p_end = std::min(npanels, p_begin + panels_per_chunk);
      if (p_begin >= p_end) return;
      const bool accumulate = pc > 0 || ep.accumulate, last = pc + kc == K;
      // In place, only a last partial tile is packed (the kernel reads
      // whole tiles), into the buffer's first panel.
      const bool in_place = !trans_a && p_end - p_begin <= kInPlacePanels;
      // Tiles of a packed A that finish the depth take the level's fused
      // kernel, if it has one: the epilogue before the store.
      const GemmEpilogueMicroKernel fused = last && epilogue && !in_place ? t.gemm_ukernel_epilogue : nullptr;
      const int whole = mc / MR * MR;
      float* apack = a_buf.reserve((size_t)(in_place ? 1 : ceil_div(mc, MR)) * MR * kc);
      if (!in_place) pack_a(t, a, lda, trans_a, ic, mc, pc, kc, MR, apack);
      else if (whole < mc) pack_a(t, a, lda, false, ic + whole, mc - whole, pc, kc, MR, apack);
      for (int p = p_begin; p < p_end; ++p) {
        // Bounded by this column block, not by N: NC need not be a
        // multiple of NR (NEON's 12), and the next block owns the rest.
        const int j = jc + p * NR, nr = std::min(NR, jc + nc - j);
        const float* bp = bpack + (size_t)p * kc * NR;
        for (int ir = 0; ir < mc; ir += MR) {
          const int mr = std::min(MR, mc - ir);
          float* ct = c + (size_t)(ic + ir) * ldc + j;
          // Short rows far apart (a head's slice of Q): the next tile's,
          // on the first pass over them (see prefetch_rows).
          if (in_place && p == p_begin && kc <= 128 && lda > kc && ir + MR < mc)
            prefetch_rows(a + (size_t)(ic + ir + MR) * lda + pc, (size_t)lda, std::min(MR, mc - ir - MR), kc);
          const float* at = apack + (in_place ? 0 : (size_t)(ir / MR) * kc * MR);
          if (in_place && mr == MR)
            t.gemm_ukernel_rows(kc, a + (size_t)(ic + ir) * lda + pc, (size_t)lda, bp, ct, ldc, nr, accumulate);
          else if (fused)
            fused(kc, at, bp, ct, ldc, mr, nr, accumulate, ep.bias ? ep.bias + j : nullptr, ep.act, ep.scale);
          else
            t.gemm_ukernel(kc, at, bp, ct, ldc, mr, nr, accumulate);
        }
        // Otherwise once per panel, over its mc rows while they are still in
        // L1 (docs/TUNING.md).
        if (last && epilogue && !fused) apply_epilogue(t, c + (size_t)ic * ldc + j, ldc, mc, nr, j, ep);
      }
    };
    const size_t tasks = (size_t)rows.count * nchunks;
    auto run = [&](auto&& fn) {
      if (pool && tasks > 1) pool->parallel_for(tasks, fn, 1);
      else fn(0, tasks, 0);
    };
    if constexpr (BBlock::kResident) {
      // Every depth block of B is at hand: a task runs all of them, so its
      // C rows stay in L2 from one depth block to the next (docs/TUNING.md).
      run([&](size_t begin, size_t end, int) {
        for (size_t task_id = begin; task_id < end; ++task_id)
          for (int pc = 0; pc < K; pc += KC)
            block((int)task_id, pc, std::min(KC, K - pc), b_block(jc, nc, pc, std::min(KC, K - pc)));
      });
    } else {
      for (int pc = 0; pc < K; pc += KC) {  // pack the B block, then run it
        const int kc = std::min(KC, K - pc);
        const float* bpack = b_block(jc, nc, pc, kc);
        run([&](size_t begin, size_t end, int) {
          for (size_t task_id = begin; task_id < end; ++task_id) block((int)task_id, pc, kc, bpack);
        });
      }
    }
  }
}

}  // namespace

}  // namespace nystrom
