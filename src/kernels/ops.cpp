// Entry points of the kernel layer. They validate nothing (the model code
// sizes every call) and forward to the kernels of the dispatch level.
#include "kernels/ops.h"

#include <algorithm>
#include <vector>

#include "kernels/bf16_gemm.h"
#include "kernels/dispatch.h"
#include "format/half.h"
#include "kernels/gemm.h"
#include "kernels/quant.h"
#include "kernels/ref/ref.h"
#include "runtime/thread_pool.h"

namespace nystrom::ops {

Act act_of(Activation a) {
  switch (a) {
    case Activation::GeluTanh: return Act::GeluTanh;
    case Activation::GeluErf: return Act::GeluErf;
    case Activation::Relu: return Act::Relu;
  }
  return Act::None;
}

void gemm(ThreadPool* pool, int M, int N, int K, const float* a, int lda, bool trans_a, const float* b,
          int ldb, bool trans_b, float* c, int ldc, const Epilogue& ep) {
  gemm_blocked(kernels(), pool, M, N, K, a, lda, trans_a, b, ldb, trans_b, c, ldc, ep);
}

void linear(ThreadPool* pool, int n, int in, int out, const float* x, int ldx, const float* w,
            const float* bias, float* y, int ldy, Act act, float scale) {
  Epilogue ep;
  ep.bias = bias;
  ep.act = act;
  ep.scale = scale;
  gemm(pool, n, out, in, x, ldx, false, w, in, true, y, ldy, ep);
}

void linear(ThreadPool* pool, int n, const float* x, int ldx, const WeightMatrix& w, const float* bias, float* y,
            int ldy, Act act, float scale) {
  Epilogue ep;
  ep.bias = bias;
  ep.act = act;
  ep.scale = scale;
  switch (w.dtype) {
    case format::DType::F32:
      if (w.panels && &w.panels->table() == &kernels()) {
        gemm_blocked_prepacked(pool, n, x, ldx, false, *w.panels, y, ldy, ep);
        break;
      }
      gemm_blocked(kernels(), pool, n, w.rows, w.cols, x, ldx, false, static_cast<const float*>(w.data), w.cols,
                   true, y, ldy, ep);
      break;
    case format::DType::F16:
      gemm_blocked_f16(kernels(), pool, n, w.rows, w.cols, x, ldx, false, static_cast<const uint16_t*>(w.data),
                       w.cols, y, ldy, ep);
      break;
    case format::DType::Q8_0:
    case format::DType::Q4_0:
    case format::DType::Q8_C:
      qgemm(*w.table, pool, n, x, ldx, *w.packed, y, ldy, ep);
      break;
  }
}

void linear_shared_input(ThreadPool* pool, int n, const float* x, int ldx, const LinearOutput* outs, int count) {
  // A fixed array, not a vector: a warm forward pass allocates nothing.
  QGemmOutput q[kFewSharedOutputs];
  int nq = 0;
  for (int o = 0; o < count && count <= kFewSharedOutputs; ++o) {
    const WeightMatrix& w = *outs[o].w;
    const bool quantized = w.dtype == format::DType::Q8_0 || w.dtype == format::DType::Q4_0 ||
                           w.dtype == format::DType::Q8_C;
    if (!quantized || w.table != outs[0].w->table) break;
    Epilogue ep;
    ep.bias = outs[o].bias;
    ep.act = outs[o].act;
    ep.scale = outs[o].scale;
    q[nq++] = QGemmOutput{w.packed, outs[o].y, outs[o].ldy, ep};
  }
  if (nq == count && can_share_input(q, count)) {
    qgemm_shared_input(*outs[0].w->table, pool, n, x, ldx, q, count);
    return;
  }
  for (int o = 0; o < count; ++o)
    linear(pool, n, x, ldx, *outs[o].w, outs[o].bias, outs[o].y, outs[o].ldy, outs[o].act, outs[o].scale);
}

void gemm_int8(int M, int N, int K, const float* a, int lda, const float* b, int ldb, bool trans_b, float* c,
               int ldc, Int8GemmScratch& scratch) {
  nystrom::gemm_int8(kernels(), M, N, K, a, lda, b, ldb, trans_b, c, ldc, scratch);
}

void gemm_bf16(int M, int N, int K, const float* a, int lda, const float* b, int ldb, bool trans_b, float* c,
               int ldc, Bf16GemmScratch& scratch) {
  nystrom::gemm_bf16(kernels(), M, N, K, a, lda, b, ldb, trans_b, c, ldc, scratch);
}

Bf16ScratchSize bf16_scratch_size(int M, int N, int K, bool trans_b) {
  return nystrom::bf16_scratch_size(kernels(), M, N, K, trans_b);
}

void weight_row(const WeightMatrix& w, int row, float* out) {
  const size_t cols = (size_t)w.cols;
  switch (w.dtype) {
    case format::DType::F32: {
      const float* src = static_cast<const float*>(w.data) + row * cols;
      std::copy(src, src + cols, out);
      break;
    }
    case format::DType::F16: {
      const uint16_t* src = static_cast<const uint16_t*>(w.data) + row * cols;
      kernels().f16_to_f32_row(src, out, (int)cols);
      break;
    }
    case format::DType::Q8_0:
      dequantize_row_q8_0(static_cast<const BlockQ8_0*>(w.data) + row * (cols / kQuantBlock), out, (int)cols);
      break;
    case format::DType::Q4_0:
      dequantize_row_q4_0(static_cast<const BlockQ4_0*>(w.data) + row * (cols / kQuantBlock), out, (int)cols);
      break;
    case format::DType::Q8_C:
      dequantize_row_q8_c(static_cast<const int8_t*>(w.data) + row * cols, q8_c_row_scale(w.data, w.rows, cols, row),
                          out, (int)cols);
      break;
  }
}

void softmax_rows(float* x, int rows, int cols, int ld) {
  const KernelTable& t = kernels();
  for (int i = 0; i < rows; ++i) t.softmax_row(x + (size_t)i * ld, cols);
}

void layer_norm_rows(const float* x, const float* residual, float* out, int rows, int cols, int ld,
                     const float* gamma, const float* beta, float eps) {
  layer_norm_rows(nullptr, x, residual, out, rows, cols, ld, gamma, beta, eps);
}

void layer_norm_rows(ThreadPool* pool, const float* x, const float* residual, float* out, int rows, int cols,
                     int ld, const float* gamma, const float* beta, float eps) {
  const KernelTable& t = kernels();
  auto run = [&](size_t r0, size_t r1, int) {
    for (size_t i = r0; i < r1; ++i) {
      size_t o = i * ld;
      t.layer_norm_row(x + o, residual ? residual + o : nullptr, out + o, cols, gamma, beta, eps);
    }
  };
  if (pool && rows > 1) pool->parallel_for(rows, run, 16);
  else run(0, rows, 0);
}

void activate(float* x, size_t n, Act act) {
  const KernelTable& t = kernels();
  for (size_t i = 0; i < n; i += 1 << 20) t.bias_act_rows(x + i, 0, 1, nullptr, (int)std::min<size_t>(n - i, 1 << 20), act, 1.0f);
}

void scale(float* x, int rows, int cols, int ld, float s) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) x[(size_t)i * ld + j] *= s;
}

void segment_means(const float* x, int n, int cols, int ld, int m, float* out, int ldo) {
  kernels().segment_means(x, n, cols, ld, m, out, ldo);
}

void depthwise_conv_add(const float* v, int n, int cols, int ldv, const float* w, int K, float* out,
                        int ldo) {
  kernels().depthwise_conv_add(v, n, 0, n, 1, cols, ldv, w, K, out, ldo);
}

void depthwise_conv_add(const float* v, int n, int t0, int t1, int heads, int cols, int ldv, const float* w, int K,
                        float* out, int ldo) {
  kernels().depthwise_conv_add(v, n, t0, t1, heads, cols, ldv, w, K, out, ldo);
}

float max_column_sum(const float* a, int m) {
  float best = 0.0f;
  for (int j = 0; j < m; ++j) {
    float s = 0.0f;
    for (int i = 0; i < m; ++i) s += a[(size_t)i * m + j];
    best = s > best ? s : best;
  }
  return best;
}

void nystrom_pinv(ThreadPool* pool, const float* a, int m, float c, int iters, float* z, float* work) {
  // Z <- 0.25 Z (13I - AZ (15I - AZ (7I - AZ))), with P = AZ:
  //   T1 = 7I - P,  T2 = 15I - P T1,  T3 = 13I - P T2,  Z <- 0.25 (Z T3).
  // The loop keeps Y = -Z instead of Z. Negation is exact and rounding is
  // symmetric, so every product with Y is the exact negation of the one
  // with Z, and: N = A Y is -P; T1 = 7I + N needs only a copy (it was a
  // scalar negating loop, a tenth of the function); T2 = 15I + N T1 and T3
  // = 13I + N T2 are plain accumulating products onto dI (the sum rounds as
  // d - (P T) does; the GEMM adds C to the rounded product); Y <- 0.25 (Y
  // T3) is -(the new Z), 0.25 applied to the product (a power of two: the
  // same bits). Z = -Y at the end. tests/kernels/test_kernels_ref.cpp holds
  // this to the bits of the formula written out step by step.
  const size_t mm = (size_t)m * m;
  float* neg_p = work;       // N = A Y = -P
  float* t = work + mm;      // T1, then T3
  float* t2 = work + 2 * mm;
  float* y = z;              // where Y is now: z, or the buffer neg_p when swapped
  const float inv_c = 1.0f / c;  // the reference scales by 1/c, not divides
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) y[(size_t)i * m + j] = -(a[(size_t)j * m + i] * inv_c);
  auto identity = [&](float* dst, float d) {  // dst = dI
    std::fill(dst, dst + mm, 0.0f);
    for (int i = 0; i < m; ++i) dst[(size_t)i * m + i] = d;
  };
  Epilogue onto_diag;  // dst = dI + product, dst holding dI
  onto_diag.accumulate = true;
  Epilogue quarter;
  quarter.scale = 0.25f;
  for (int it = 0; it < iters; ++it) {
    gemm(pool, m, m, m, a, m, false, y, m, false, neg_p, m);    // N = -P
    std::copy(neg_p, neg_p + mm, t);                            // T1 = 7I + N
    for (int i = 0; i < m; ++i) t[(size_t)i * m + i] += 7.0f;
    identity(t2, 15.0f);
    gemm(pool, m, m, m, neg_p, m, false, t, m, false, t2, m, onto_diag);  // T2
    identity(t, 13.0f);
    gemm(pool, m, m, m, neg_p, m, false, t2, m, false, t, m, onto_diag);  // T3
    gemm(pool, m, m, m, y, m, false, t, m, false, neg_p, m, quarter);     // the new Y, over N
    std::swap(y, neg_p);
  }
  for (size_t e = 0; e < mm; ++e) z[e] = -y[e];
}

}  // namespace nystrom::ops
