// The reference GEMM and micro-kernels (twins of kernels/gemm.cpp and the
// levels' gemm_<tile>.cpp).
#include "kernels/ref/ref.h"

namespace nystrom::ref {

void gemm(int M, int N, int K, const float* a, int lda, bool trans_a, const float* b, int ldb,
          bool trans_b, float* c, int ldc, const ops::Epilogue& ep) {
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      float sum = 0.0f;
      for (int k = 0; k < K; ++k) {
        float av = trans_a ? a[(size_t)k * lda + i] : a[(size_t)i * lda + k];
        float bv = trans_b ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
        sum += av * bv;
      }
      float* out = &c[(size_t)i * ldc + j];
      if (ep.accumulate) sum += *out;
      if (ep.bias) sum += ep.bias[j];
      *out = activation(sum, ep.act) * ep.scale;
    }
  }
}

}  // namespace nystrom::ref

namespace nystrom::ref {

// ---------------------------------------------------------------------------
// Micro-kernels (contract: GemmMicroKernel in kernels/kernel_table.h)

void gemm_ukernel(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr, bool accumulate,
                  int MR, int NR) {
  for (int i = 0; i < mr; ++i) {
    for (int j = 0; j < nr; ++j) {
      float sum = 0.0f;
      for (int p = 0; p < k; ++p) sum += a[(size_t)p * MR + i] * b[(size_t)p * NR + j];
      float* out = &c[(size_t)i * ldc + j];
      *out = accumulate ? *out + sum : sum;
    }
  }
}

namespace {

// A packed (a[p * 4 + i]) or read in place (row i at a + i * lda): element
// (i, p) at a + i * row_step + p * k_step.
template <size_t kRowStep, size_t kKStep>
inline void gemm_4x8(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int mr, int nr,
                     bool accumulate) {
  const size_t row_step = kRowStep ? kRowStep : lda, k_step = kKStep;
  // The whole tile is computed with constant bounds, unrolled so that the
  // compiler keeps the 4x8 accumulators in vector registers; only the mr x nr
  // corner that exists is stored.
  float acc[kGemmMR][kGemmNR] = {};
  for (int p = 0; p < k; ++p) {
    float bp[kGemmNR];
    for (int j = 0; j < kGemmNR; ++j) bp[j] = b[(size_t)p * kGemmNR + j];
#pragma GCC unroll 4
    for (int i = 0; i < kGemmMR; ++i) {
      const float ai = a[i * row_step + p * k_step];
#pragma GCC unroll 8
      for (int j = 0; j < kGemmNR; ++j) acc[i][j] += ai * bp[j];
    }
  }
  for (int i = 0; i < mr; ++i) {
    float* row = c + (size_t)i * ldc;
    if (accumulate) {
      for (int j = 0; j < nr; ++j) row[j] += acc[i][j];
    } else {
      for (int j = 0; j < nr; ++j) row[j] = acc[i][j];
    }
  }
}

}  // namespace

void gemm_ukernel_4x8(int k, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                      bool accumulate) {
  gemm_4x8<1, kGemmMR>(k, a, 0, b, c, ldc, mr, nr, accumulate);
}

void gemm_ukernel_rows_4x8(int k, const float* a, size_t lda, const float* b, float* c, int ldc, int nr,
                           bool accumulate) {
  gemm_4x8<0, 1>(k, a, lda, b, c, ldc, kGemmMR, nr, accumulate);
}

}  // namespace nystrom::ref
