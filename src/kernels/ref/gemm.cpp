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
      *out = activation(sum, ep.act);
    }
  }
}

}  // namespace nystrom::ref
