// Reference f16 rows (twin of the levels' quant_rows.cpp; their other kernel,
// the activation quantizer, has quantize_row_q8_act of kernels/quant.cpp as
// its reference).
#include "format/half.h"
#include "kernels/ref/ref.h"

namespace nystrom::ref {

void f16_to_f32_row(const uint16_t* src, float* dst, int n) {
  for (int i = 0; i < n; ++i) dst[i] = f16_to_float(src[i]);
}

}  // namespace nystrom::ref
