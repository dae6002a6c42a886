// The reference side of block quantization: the quantizers and dequantizers
// of include/nystrom/format.h, the activation quantizer every table's
// quantize_act_row must match byte for byte, and qgemm_reference. The fast
// integer GEMM and the weight packing live in kernels/qgemm.cpp.
#include "kernels/quant.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "format/half.h"
#include "kernels/ref/ref.h"

namespace nystrom {

namespace {

// round-half-away(t) for |t| <= 127 (plus rounding); a NaN from a block of
// infinities gives 0 rather than undefined behaviour.
int8_t round_q8(float t) {
  const float r = std::round(t);  // halfway cases away from zero
  if (!(r == r)) return 0;
  return (int8_t)(r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r);
}

// max |x[i]| over one block; *finite says whether every x[i] is finite.
float block_absmax(const float* x, bool* finite) {
  float a = 0.0f;
  bool ok = true;
  for (int i = 0; i < kQuantBlock; ++i) {
    const float v = std::fabs(x[i]);
    ok = ok && v <= 3.402823466e38f;  // false for inf and NaN
    if (v > a) a = v;
  }
  *finite = ok;
  return a;
}

}  // namespace

// ---------------------------------------------------------------------------
// Weights (format.h rules)

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int k) {
  for (int b = 0; b < k / kQuantBlock; ++b, x += kQuantBlock) {
    bool finite;
    const float a = block_absmax(x, &finite);
    const float d = a / 127.0f;
    for (int i = 0; i < kQuantBlock; ++i) y[b].qs[i] = d == 0.0f ? 0 : round_q8(x[i] / d);
    y[b].d = float_to_f16(d);
  }
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int k) {
  for (int b = 0; b < k / kQuantBlock; ++b, x += kQuantBlock) {
    float amax = 0.0f, v = 0.0f;  // v: the value of largest magnitude, the first on ties
    for (int i = 0; i < kQuantBlock; ++i) {
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        v = x[i];
      }
    }
    const float d = v / -8.0f;
    uint8_t q[kQuantBlock];
    for (int i = 0; i < kQuantBlock; ++i) {
      if (d == 0.0f) {
        q[i] = 8;
        continue;
      }
      const float t = x[i] / d + 8.5f;  // in [0.5, 16.5] for finite blocks
      const int qi = t >= 15.0f ? 15 : t >= 0.0f ? (int)t : 0;  // min(15, trunc(t)); NaN gives 0
      q[i] = (uint8_t)qi;
    }
    for (int j = 0; j < 16; ++j) y[b].qs[j] = (uint8_t)(q[j] | (q[j + 16] << 4));
    y[b].d = float_to_f16(d);
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int k) {
  for (int b = 0; b < k / kQuantBlock; ++b, y += kQuantBlock) {
    const float d = f16_to_float(x[b].d);
    for (int i = 0; i < kQuantBlock; ++i) y[i] = d * (float)x[b].qs[i];
  }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int k) {
  for (int b = 0; b < k / kQuantBlock; ++b, y += kQuantBlock) {
    const float d = f16_to_float(x[b].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * (float)((x[b].qs[j] & 15) - 8);
      y[j + 16] = d * (float)((x[b].qs[j] >> 4) - 8);
    }
  }
}

// ---------------------------------------------------------------------------
// Activations

void quantize_row_q8_act(const float* x, int k, int8_t* q, float* d, int32_t* corr) {
  for (int b = 0; b < k / kQuantBlock; ++b, x += kQuantBlock, q += kQuantBlock) {
    bool finite;
    const float a = block_absmax(x, &finite);
    const float db = finite ? a / 127.0f : NAN;
    int32_t sum = 0;
    for (int i = 0; i < kQuantBlock; ++i) {
      q[i] = finite && db != 0.0f ? round_q8(x[i] / db) : 0;
      sum += q[i];
    }
    d[b] = db;
    corr[b] = -128 * sum;
  }
}

// ---------------------------------------------------------------------------
// The reference integer GEMM

void qgemm_reference(int M, const float* x, int ldx, const QuantMatrixView& w, float* y, int ldy,
                     const ops::Epilogue& ep) {
  if (w.dtype != format::DType::Q8_0 && w.dtype != format::DType::Q4_0)
    throw std::invalid_argument("qgemm_reference: weights must be q8_0 or q4_0");
  const int N = w.rows, K = w.cols, nb = K / kQuantBlock;

  // The weights as plain integers and float scales, decoded once.
  std::vector<int8_t> wq((size_t)N * K);
  std::vector<float> wd((size_t)N * nb);
  for (int j = 0; j < N; ++j) {
    for (int b = 0; b < nb; ++b) {
      int8_t* dst = &wq[(size_t)j * K + (size_t)b * kQuantBlock];
      if (w.dtype == format::DType::Q8_0) {
        const BlockQ8_0& blk = static_cast<const BlockQ8_0*>(w.blocks)[(size_t)j * nb + b];
        for (int i = 0; i < kQuantBlock; ++i) dst[i] = blk.qs[i];
        wd[(size_t)j * nb + b] = f16_to_float(blk.d);
      } else {
        const BlockQ4_0& blk = static_cast<const BlockQ4_0*>(w.blocks)[(size_t)j * nb + b];
        for (int i = 0; i < 16; ++i) {
          dst[i] = (int8_t)((blk.qs[i] & 15) - 8);
          dst[i + 16] = (int8_t)((blk.qs[i] >> 4) - 8);
        }
        wd[(size_t)j * nb + b] = f16_to_float(blk.d);
      }
    }
  }

  std::vector<int8_t> qa(K);
  std::vector<float> da(nb);
  std::vector<int32_t> ca(nb);
  for (int i = 0; i < M; ++i) {
    quantize_row_q8_act(x + (size_t)i * ldx, K, qa.data(), da.data(), ca.data());
    for (int j = 0; j < N; ++j) {
      double sum = 0.0;
      for (int b = 0; b < nb; ++b) {
        const int8_t* wr = &wq[(size_t)j * K + (size_t)b * kQuantBlock];
        const int8_t* ar = &qa[(size_t)b * kQuantBlock];
        int32_t isum = 0;
        for (int t = 0; t < kQuantBlock; ++t) isum += (int32_t)wr[t] * ar[t];
        sum += (double)da[b] * (double)wd[(size_t)j * nb + b] * (double)isum;
      }
      float* out = y + (size_t)i * ldy + j;
      if (ep.accumulate) sum += *out;
      if (ep.bias) sum += ep.bias[j];
      *out = ref::activation((float)sum, ep.act) * ep.scale;
    }
  }
}

}  // namespace nystrom
