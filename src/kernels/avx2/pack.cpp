// GEMM panel packing with 4 x 4 SSE transposes (four loads, four stores of
// four floats). The scalar loop took ~3.5 cycles a float and was 7% of a
// base-size forward pass: every GEMM packs its A, and the attention products
// pack a transposed B too. SSE only, so the AVX-512 level uses it as well.
#include <immintrin.h>

#include "kernels/avx2/avx2.h"
#include "kernels/pack_panel.h"

namespace nystrom::avx2 {

void pack_panel(const float* src, size_t ld, int rows, int R, int kc, float* dst) {
  pack_panel_by4(src, ld, rows, R, kc, dst, [](const float* const* s, int k, float* d, int R) {
    __m128 x0 = _mm_loadu_ps(s[0] + k), x1 = _mm_loadu_ps(s[1] + k), x2 = _mm_loadu_ps(s[2] + k),
           x3 = _mm_loadu_ps(s[3] + k);
    _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
    _mm_storeu_ps(d, x0);
    _mm_storeu_ps(d + R, x1);
    _mm_storeu_ps(d + 2 * (size_t)R, x2);
    _mm_storeu_ps(d + 3 * (size_t)R, x3);
  });
}

}  // namespace nystrom::avx2
