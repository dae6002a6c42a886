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

// --- q4_0: the scale of least squared error (format.h) ---

// The f16 of d, saturated at +-65504 so that a finite block never gets an
// infinite scale (whose zero levels would read back as NaN).
uint16_t saturating_f16(float d) {
  const uint16_t h = float_to_f16(d);
  return (h & 0x7fff) == 0x7c00 ? (uint16_t)((h & 0x8000) | 0x7bff) : h;
}

// The levels of x for the stored scale D, q = clamp(round-half-away(x / D)
// + 8, 0, 15) (8 when D == 0), and the squared error of D * (q - 8) summed
// in double. The choice of d must not depend on FMA: each square is its own
// statement, which neither GCC nor clang fuses into the sum in ISO C++ mode
// (the Makefile's -std=c++17).
double q4_levels(const float* x, float D, uint8_t* q) {
  double err = 0.0;
  for (int i = 0; i < kQuantBlock; ++i) {
    // round-half-away inline (std::round is a library call): t - trunc(t) is
    // exact, and clamping t to +-9 first changes no clamped level.
    float t = D != 0.0f ? x[i] / D : 0.0f;
    t = t > 9.0f ? 9.0f : t < -9.0f ? -9.0f : t;
    const int ti = (int)t;
    const float frac = t - (float)ti;
    const int r = ti + (frac >= 0.5f) - (frac <= -0.5f);
    const int qi = r > 7 ? 7 : r < -8 ? -8 : r;
    q[i] = (uint8_t)(qi + 8);
    const double e = (double)x[i] - (double)D * qi;  // D * qi is exact: fusing it changes nothing
    const double sq = e * e;
    err += sq;
  }
  return err;
}

// One q4_0 block: writes q[32] and returns the f16 bits of d.
uint16_t choose_q4_block(const float* x, uint8_t* q) {
  bool finite;
  const float amax = block_absmax(x, &finite);
  if (!finite || amax == 0.0f) {  // NaN scale (its outputs are NaN) or -0; every q = 8
    for (int i = 0; i < kQuantBlock; ++i) q[i] = 8;
    return finite ? 0x8000 : 0x7e00;
  }
  float v = 0.0f;  // the value of largest magnitude, the first on ties
  for (int i = 0; i < kQuantBlock && v == 0.0f; ++i)
    if (std::fabs(x[i]) == amax) v = x[i];

  double best_err = INFINITY;
  uint16_t best_d = 0;
  auto consider = [&](float c) {
    uint8_t qc[kQuantBlock];
    const uint16_t h = saturating_f16(c);
    const double err = q4_levels(x, f16_to_float(h), qc);
    if (err < best_err) {  // strictly: the first candidate wins ties
      best_err = err;
      best_d = h;
      for (int i = 0; i < kQuantBlock; ++i) q[i] = qc[i];
    }
  };
  // v on level -8 (d = v / -8, the max-abs rule, at s = 50) or on level +7
  // (d = v / 7), each times s / 50 for s = 40..60: a smaller step clips the
  // extreme but rounds the rest more finely, which often wins.
  for (float base : {v / -8.0f, v / 7.0f})
    for (int s = 40; s <= 60; ++s) consider(base * ((float)s / 50.0f));
  // The least-squares d for the winner's levels, then its own levels.
  double num = 0.0, den = 0.0;
  for (int i = 0; i < kQuantBlock; ++i) {
    num += (double)x[i] * (q[i] - 8);  // exact products: no FMA dependence
    den += (double)((q[i] - 8) * (q[i] - 8));
  }
  if (den > 0.0) consider((float)(num / den));
  return best_d;
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
    uint8_t q[kQuantBlock];
    y[b].d = choose_q4_block(x, q);
    for (int j = 0; j < 16; ++j) y[b].qs[j] = (uint8_t)(q[j] | (q[j + 16] << 4));
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
