// Reference GEMM panel packing (contract: KernelTable::pack_panel).
#include "kernels/ref/ref.h"

namespace nystrom::ref {

void pack_panel(const float* src, size_t ld, int rows, int R, int kc, float* dst) {
  for (int k = 0; k < kc; ++k, dst += R) {
    int r = 0;
    for (; r < rows; ++r) dst[r] = src[(size_t)r * ld + k];
    for (; r < R; ++r) dst[r] = 0.0f;
  }
}

}  // namespace nystrom::ref
