// The integer GEMM on block-quantized weights, BLIS-style like kernels/gemm.cpp:
// only the MR x NR micro-kernels (kernels/<isa>/qgemm_*.cpp) are
// instruction-set specific. Here: packing weights at load, quantizing the
// activations once per call, and the cache blocking (the table's
// qgemm_blocks) and threading around the micro-kernel.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "format/half.h"
#include "kernels/gemm.h"
#include "kernels/quant.h"
#include "runtime/aligned_buffer.h"
#include "runtime/thread_pool.h"

namespace nystrom {

namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Bytes from one block of a panel to the next (q8_c: no per-block scales).
size_t block_bytes(format::DType dtype, int nr) {
  if (dtype == format::DType::Q8_C) return (size_t)32 * nr;
  return (size_t)(dtype == format::DType::Q8_0 ? 32 : 16) * nr + sizeof(float) * nr;
}

bool same_layout(const QGemmLayout& a, const QGemmLayout& b) {
  return a.nr == b.nr && a.q8_xor == b.q8_xor && a.q4_xor == b.q4_xor && a.q4_scale == b.q4_scale;
}

}  // namespace

// ---------------------------------------------------------------------------
// Packed weights

struct PackedQuantMatrix::Impl {
  format::DType dtype;
  int rows, cols;
  QGemmLayout layout;
  size_t panel_bytes;  // K/32 blocks
  AlignedBuffer data;  // ceil(rows / nr) panels
};

PackedQuantMatrix::PackedQuantMatrix() : impl_(new Impl{format::DType::Q8_0, 0, 0, {}, 0, {}}) {}

PackedQuantMatrix::PackedQuantMatrix(const KernelTable& table, const QuantMatrixView& w) : impl_(new Impl) {
  try {
    repack(table, w);
  } catch (...) {
    delete impl_;
    throw;
  }
}

void PackedQuantMatrix::repack(const KernelTable& table, const QuantMatrixView& w) {
  Impl& p = *impl_;
  {
    const bool per_channel = w.dtype == format::DType::Q8_C;
    if (w.dtype != format::DType::Q8_0 && w.dtype != format::DType::Q4_0 && !per_channel)
      throw std::invalid_argument("PackedQuantMatrix: weights must be q8_0, q4_0 or q8_c");
    if (w.rows < 0 || w.cols < 0 || w.cols % kQuantBlock != 0)
      throw std::invalid_argument("PackedQuantMatrix: cols must be a multiple of 32");
    if (per_channel && (uint64_t)w.cols > format::kQ8cMaxCols)
      throw std::invalid_argument("PackedQuantMatrix: q8_c cols must be at most 65536");
    p.dtype = w.dtype;
    p.rows = w.rows;
    p.cols = w.cols;
    p.layout = table.qgemm;
    const int NR = p.layout.nr, nb = w.cols / kQuantBlock, npanels = ceil_div(w.rows, NR);
    const size_t bb = block_bytes(w.dtype, NR);
    p.panel_bytes = bb * nb + (per_channel ? sizeof(float) * NR : 0);
    const size_t total = p.panel_bytes * npanels;
    uint8_t* base = reinterpret_cast<uint8_t*>(p.data.reserve((total + 3) / 4));
    if (total) std::memset(base, 0, total);  // padding columns: zero weights and scales

    const uint8_t q8x = p.layout.q8_xor, q4x = p.layout.q4_xor;
    if (per_channel) {
      const int8_t* wq = static_cast<const int8_t*>(w.blocks);
      for (int j = 0; j < w.rows; ++j) {
        const int panel = j / NR, jj = j % NR;
        uint8_t* pb = base + panel * p.panel_bytes;
        const int8_t* src = wq + (size_t)j * w.cols;
        for (int b = 0; b < nb; ++b)
          for (int k = 0; k < kQuantBlock; ++k)
            pb[b * bb + (k / 4) * 4 * NR + 4 * jj + k % 4] = (uint8_t)src[b * kQuantBlock + k] ^ q8x;
        const float s = q8_c_row_scale(w.blocks, w.rows, w.cols, j);
        std::memcpy(pb + bb * nb + sizeof(float) * jj, &s, sizeof s);
      }
      return;
    }
    for (int j = 0; j < w.rows; ++j) {
      const int panel = j / NR, jj = j % NR;
      for (int b = 0; b < nb; ++b) {
        uint8_t* blk = base + panel * p.panel_bytes + b * bb;
        float* scales = reinterpret_cast<float*>(blk + (bb - sizeof(float) * NR));
        if (w.dtype == format::DType::Q8_0) {
          const BlockQ8_0& src = static_cast<const BlockQ8_0*>(w.blocks)[(size_t)j * nb + b];
          for (int k = 0; k < kQuantBlock; ++k)
            blk[(k / 4) * 4 * NR + 4 * jj + k % 4] = (uint8_t)src.qs[k] ^ q8x;
          scales[jj] = f16_to_float(src.d);
        } else {
          const BlockQ4_0& src = static_cast<const BlockQ4_0*>(w.blocks)[(size_t)j * nb + b];
          for (int k = 0; k < 16; ++k) {  // the file pairs k and k + 16 in one byte too
            const uint8_t lo = (src.qs[k] & 15) ^ q4x, hi = (src.qs[k] >> 4) ^ q4x;
            blk[(k / 4) * 4 * NR + 4 * jj + k % 4] = (uint8_t)(lo | (hi << 4));
          }
          scales[jj] = f16_to_float(src.d) * p.layout.q4_scale;
        }
      }
    }
  }
}

PackedQuantMatrix::~PackedQuantMatrix() { delete impl_; }
PackedQuantMatrix::PackedQuantMatrix(PackedQuantMatrix&& o) noexcept : impl_(o.impl_) { o.impl_ = nullptr; }
PackedQuantMatrix& PackedQuantMatrix::operator=(PackedQuantMatrix&& o) noexcept {
  std::swap(impl_, o.impl_);
  return *this;
}
int PackedQuantMatrix::rows() const { return impl_->rows; }
int PackedQuantMatrix::cols() const { return impl_->cols; }
format::DType PackedQuantMatrix::dtype() const { return impl_->dtype; }
size_t PackedQuantMatrix::bytes() const { return impl_->data.size() * sizeof(float); }

// ---------------------------------------------------------------------------
// The GEMM

void qgemm(const KernelTable& t, ThreadPool* pool, int M, const float* x, int ldx, const PackedQuantMatrix& w,
           float* y, int ldy, const ops::Epilogue& ep) {
  const QGemmOutput out = {&w, y, ldy, ep};
  qgemm_shared_input(t, pool, M, x, ldx, &out, 1);
}

bool can_share_input(const QGemmOutput* outs, int count) {
  for (int o = 1; o < count; ++o) {
    const PackedQuantMatrix::Impl &p = outs[o].w->impl(), &p0 = outs[0].w->impl();
    if (p.cols != p0.cols || (p.dtype == format::DType::Q8_C) != (p0.dtype == format::DType::Q8_C)) return false;
  }
  return count > 0;
}

void qgemm_shared_input(const KernelTable& t, ThreadPool* pool, int M, const float* x, int ldx,
                        const QGemmOutput* outs, int count) {
  if (!can_share_input(outs, count))
    throw std::invalid_argument("qgemm_shared_input: the matrices differ in depth or in activation quantization");
  for (int o = 0; o < count; ++o)
    if (!same_layout(outs[o].w->impl().layout, t.qgemm))
      throw std::invalid_argument("qgemm: weights were packed for another kernel table");
  const PackedQuantMatrix::Impl& p0 = outs[0].w->impl();
  const int K = p0.cols, nb = K / kQuantBlock;
  if (M <= 0) return;
  const bool per_channel = p0.dtype == format::DType::Q8_C;
  const int MR = per_channel ? t.qgemm.mr_c : t.qgemm.mr, NR = t.qgemm.nr;
  const int threads = pool ? pool->size() : 1;

  if (nb == 0) {  // y = (accumulate ? y : 0), then the epilogue
    for (int o = 0; o < count; ++o) {
      const QGemmOutput& out = outs[o];
      const int N = out.w->rows();
      if (!out.ep.accumulate)
        for (int i = 0; i < M; ++i) std::fill(out.y + (size_t)i * out.ldy, out.y + (size_t)i * out.ldy + N, 0.0f);
      apply_epilogue(t, out.y, out.ldy, M, N, 0, out.ep);
    }
    return;
  }

  // Quantize x once for every output: rows padded with zeros to a multiple
  // of MR, so the micro-kernel may read a whole MR-row tile. q8_c rows have
  // one scale (and corr) each, and the micro-kernel runs over all of K.
  const int nd = per_channel ? 1 : nb;
  const int Mp = ceil_div(M, MR) * MR;
  const size_t q_bytes = ((size_t)Mp * K + 63) / 64 * 64, s_bytes = ((size_t)Mp * nd * 4 + 63) / 64 * 64;
  static thread_local AlignedBuffer a_buf;  // grows once to the largest call
  uint8_t* abase = reinterpret_cast<uint8_t*>(a_buf.reserve((q_bytes + 2 * s_bytes) / 4));
  int8_t* aq = reinterpret_cast<int8_t*>(abase);
  float* ad = reinterpret_cast<float*>(abase + q_bytes);
  int32_t* acorr = reinterpret_cast<int32_t*>(abase + q_bytes + s_bytes);
  auto quantize = [&](size_t r0, size_t r1, int) {
    for (size_t r = r0; r < r1; ++r) {
      int8_t* q = aq + r * K;
      float* d = ad + r * nd;
      int32_t* corr = acorr + r * nd;
      if ((int)r < M) {
        if (per_channel) t.quantize_act_row_c(x + r * ldx, K, q, d, corr);
        else t.quantize_act_row(x + r * ldx, K, q, d, corr);
      } else {
        std::memset(q, 0, (size_t)K);
        std::fill(d, d + nd, 0.0f);
        std::fill(corr, corr + nd, 0);
      }
    }
  };
  if (pool && Mp > 16) pool->parallel_for((size_t)Mp, quantize, 16);
  else quantize(0, Mp, 0);
  const QuantRows a = {aq, ad, acorr, (size_t)K, nd};
  // The quantized rows from row i on, from block b0 of the depth on.
  auto rows_from = [&](int i, int b0) {
    QuantRows at = a;
    at.q += (size_t)i * a.ldq + (size_t)b0 * kQuantBlock;
    at.d += (size_t)i * nd + b0;
    at.corr += (size_t)i * nd + b0;
    return at;
  };

  // Tasks of every output in one parallel loop (one wait on the threads,
  // not one per output): blocks of MC rows, times chunks of panels when
  // there are too few row blocks to keep every thread busy (as in
  // gemm_blocked).
  const RowBlocks rows(M, MR, t.qgemm_blocks.mc, threads);
  const int mblocks = rows.count;
  const int nchunks_max = mblocks >= 2 * threads ? 1 : ceil_div(2 * threads, mblocks);
  auto chunks_of = [&](const QGemmOutput& out) { return std::min(ceil_div(out.w->rows(), NR), nchunks_max); };
  // Output o's tasks: [first_task[o], first_task[o + 1]). On the stack for
  // the usual few outputs: a warm forward pass allocates nothing.
  size_t first_task_few[kFewSharedOutputs + 1];
  std::vector<size_t> first_task_many;
  size_t* first_task = first_task_few;
  if (count > kFewSharedOutputs) first_task_many.resize(count + 1), first_task = first_task_many.data();
  first_task[0] = 0;
  for (int o = 0; o < count; ++o)
    first_task[o + 1] = first_task[o] + (outs[o].w->rows() > 0 ? (size_t)mblocks * chunks_of(outs[o]) : 0);
  auto task = [&](size_t begin, size_t end, int) {
    int o = 0;
    for (size_t task_id = begin; task_id < end; ++task_id) {
      while (task_id >= first_task[o + 1]) ++o;
      const QGemmOutput& out = outs[o];
      const PackedQuantMatrix::Impl& p = out.w->impl();
      const int N = p.rows, npanels = ceil_div(N, NR), nchunks = chunks_of(out);
      const int panels_per_chunk = ceil_div(npanels, nchunks);
      const uint8_t* wbase = reinterpret_cast<const uint8_t*>(p.data.data());
      const size_t bb = block_bytes(p.dtype, NR);
      const QGemmMicroKernel ukernel = per_channel                       ? t.qgemm_q8c_ukernel
                                       : p.dtype == format::DType::Q8_0 ? t.qgemm_q8_ukernel
                                                                        : t.qgemm_q4_ukernel;
      const int KB = t.qgemm_blocks.kb;
      const bool epilogue = has_epilogue(out.ep);
      // q8_c runs the whole depth in one call: the level's fused kernel, if
      // it has one, applies the epilogue before the tile is stored.
      const QGemmEpilogueKernel fused = per_channel && epilogue ? t.qgemm_q8c_ukernel_epilogue : nullptr;
      const int local = (int)(task_id - first_task[o]);
      const int ib = local / nchunks, jb = local % nchunks;
      const int ic = rows.begin(ib), mc = rows.begin(ib + 1) - ic;
      const int p_begin = jb * panels_per_chunk, p_end = std::min(npanels, p_begin + panels_per_chunk);
      if (per_channel || nb <= KB) {
        // One call runs the whole depth (always for q8_c; q8_0 and q4_0
        // up to KB blocks). Row tiles outer, panels inner: the tile's
        // activations (MR x K bytes) stay in L1 while the chunk's panels
        // stream from L2; the other order (a panel kept for the block's
        // tiles) was 3-4% slower over a whole pass (docs/TUNING.md).
        const int j_begin = p_begin * NR, j_end = std::min(N, p_end * NR);
        for (int ir = 0; ir < mc; ir += MR) {
          const int mr = std::min(MR, mc - ir), i = ic + ir;
          const QuantRows at = rows_from(i, 0);
          float* crow = out.y + (size_t)i * out.ldy;
          for (int pn = p_begin; pn < p_end; ++pn) {
            const int j = pn * NR, nr = std::min(NR, N - j);
            const uint8_t* wp = wbase + pn * p.panel_bytes;
            if (fused) fused(nb, at, wp, crow + j, out.ldy, mr, nr, out.ep.accumulate,
                             out.ep.bias ? out.ep.bias + j : nullptr, out.ep.act, out.ep.scale);
            else ukernel(nb, at, wp, crow + j, out.ldy, mr, nr, out.ep.accumulate);
          }
          if (epilogue && !fused && j_end > j_begin)
            apply_epilogue(t, crow + j_begin, out.ldy, mr, j_end - j_begin, j_begin, out.ep);
        }
        continue;
      }
      for (int pn = p_begin; pn < p_end; ++pn) {  // the panel's C tile stays in cache
        const int j = pn * NR, nr = std::min(NR, N - j);
        for (int b0 = 0; b0 < nb; b0 += KB) {
          const int kb = std::min(KB, nb - b0);
          const bool accumulate = b0 > 0 || out.ep.accumulate, last = b0 + kb == nb;
          const uint8_t* wp = wbase + pn * p.panel_bytes + b0 * bb;
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = std::min(MR, mc - ir), i = ic + ir;
            const QuantRows at = rows_from(i, b0);
            float* ct = out.y + (size_t)i * out.ldy + j;
            ukernel(kb, at, wp, ct, out.ldy, mr, nr, accumulate);
          }
          // Once per panel, over its mc rows while they are still in L1 (a
          // call per tile cost more: docs/TUNING.md).
          if (last && epilogue) apply_epilogue(t, out.y + (size_t)ic * out.ldy + j, out.ldy, mc, nr, j, out.ep);
        }
      }
    }
  };
  const size_t tasks = first_task[count];
  if (pool && tasks > 1) pool->parallel_for(tasks, task, 1);
  else task(0, tasks, 0);
}

void gemm_int8(const KernelTable& table, int M, int N, int K, const float* a, int lda, const float* b, int ldb,
               bool trans_b, float* c, int ldc, Int8GemmScratch& s) {
  const int K_pad = (K + kQuantBlock - 1) / kQuantBlock * kQuantBlock;
  if (K_pad != K) {  // zero columns contribute nothing to the dot products
    s.a_pad.assign((size_t)M * K_pad, 0.0f);
    for (int i = 0; i < M; ++i) std::copy(a + (size_t)i * lda, a + (size_t)i * lda + K, &s.a_pad[(size_t)i * K_pad]);
    a = s.a_pad.data(), lda = K_pad;
  }
  const int nb = K_pad / kQuantBlock;
  if (s.blocks.size() < (size_t)N * nb) s.blocks.resize((size_t)N * nb);
  if (s.row.size() < (size_t)K_pad) s.row.resize(K_pad);
  std::fill(s.row.begin() + K, s.row.begin() + K_pad, 0.0f);
  for (int j = 0; j < N; ++j) {  // column j of op(B) becomes weight row j
    for (int k = 0; k < K; ++k) s.row[k] = trans_b ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
    quantize_row_q8_0(s.row.data(), &s.blocks[(size_t)j * nb], K_pad);
  }
  s.packed.repack(table, QuantMatrixView{format::DType::Q8_0, N, K_pad, s.blocks.data()});
  qgemm(table, nullptr, M, a, lda, s.packed, c, ldc, ops::Epilogue{});
}

}  // namespace nystrom
