// The reference side of block quantization: the quantizers and dequantizers
// of include/nystrom/format.h, the activation quantizer every table's
// quantize_act_row must match byte for byte, and qgemm_reference. The fast
// integer GEMM and the weight packing live in kernels/qgemm.cpp.
#include "kernels/quant.h"

#include <cmath>
#include <cstring>
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

// The q4_0 scale search (format.h). The error it minimises weights each
// weight's squared error by (x / v)^2: the large weights of a block count
// most (on the shipped ListOps model the plain squared error, minimised,
// moved q4_0's outputs further from f32's than the classic rule did; the
// weighted one brings them closer). All sums are of exact products (the
// factors are floats or small integers, rounded to float where needed), so
// they come out the same with or without fused multiply-add: the choice of
// d does not depend on the compiler or the CPU.

// sum w (x - d q)^2 with w = r^2, r = x / v: w (x - d q)^2 = (r (x - d q))^2.
double q4_block_error(const float* x, const float* r, float d, const int8_t* q) {
  double sum = 0.0;
  for (int i = 0; i < kQuantBlock; ++i) {
    const float e = (float)((double)x[i] - (double)d * q[i]);  // d q is exact
    const float u = (float)((double)r[i] * e);
    sum += (double)u * u;
  }
  return sum;
}

// Candidate scales d = v / t: t in -8 .. -6.5 (v coded as -8 or short of
// it) and in 6.5 .. 7.5 (v coded as the top code, 7), in steps of 0.25
// (steps of 0.1 cost twice the time and, measured on the ListOps model and
// the reference cases, gain no fidelity to f32).
constexpr int kQ4Candidates = 12;
float q4_divisor(int step) { return step < 7 ? -8.0f + 0.25f * (float)step : 6.5f + 0.25f * (float)(step - 7); }

// For each candidate: codes round-half-up(x / d) clamped to -8..7, then the
// weighted least-squares d for those codes, rounded to f16. A candidate
// replaces *h and q only when its error (with the f16 d) is strictly
// smaller, so the result is never worse than what came in. v is nonzero
// and the block finite.
void search_q4_scale(const float* x, float v, uint16_t* h, int8_t* q) {
  float r[kQuantBlock], w[kQuantBlock];
  for (int i = 0; i < kQuantBlock; ++i) {
    r[i] = x[i] / v;
    w[i] = r[i] * r[i];
  }
  double best = q4_block_error(x, r, f16_to_float(*h), q);
  int8_t last[kQuantBlock] = {};  // the previous candidate's codes
  bool have_last = false;
  for (int step = 0; step < kQ4Candidates; ++step) {
    const float inv = q4_divisor(step) / v;  // 1 / d
    if (!(std::fabs(inv) <= 3.402823466e38f)) continue;  // v subnormal
    int8_t c[kQuantBlock];
    for (int i = 0; i < kQuantBlock; ++i) {
      float t = x[i] * inv;  // |t| <= 8 and a little rounding
      t = t > 7.0f ? 7.0f : t < -8.0f ? -8.0f : t;
      c[i] = (int8_t)((int)(t + 8.5f) - 8);  // half up: t + 8.5 >= 0.5, so the cast floors
    }
    // Neighbouring candidates often round to the same codes, hence the
    // same fitted d: each set of codes is measured once.
    if (have_last && std::memcmp(c, last, sizeof c) == 0) continue;
    std::memcpy(last, c, sizeof c);
    have_last = true;
    double wxc = 0.0, wcc = 0.0;  // sum w x c and sum w c^2, of exact products
    for (int i = 0; i < kQuantBlock; ++i) {
      wxc += (double)w[i] * x[i] * c[i];
      wcc += (double)w[i] * (c[i] * c[i]);
    }
    if (!(wcc > 0.0)) continue;
    const uint16_t hc = float_to_f16((float)(wxc / wcc));
    const double err = q4_block_error(x, r, f16_to_float(hc), c);
    if (err < best) {
      best = err;
      *h = hc;
      std::memcpy(q, c, sizeof c);
    }
  }
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
    bool finite = true;
    for (int i = 0; i < kQuantBlock; ++i) {
      finite = finite && std::fabs(x[i]) <= 3.402823466e38f;
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        v = x[i];
      }
    }
    // The classic rule first: the answer for zero and non-finite blocks, and
    // the error any other choice has to beat.
    const float d = v / -8.0f;
    int8_t q[kQuantBlock];  // q - 8, in -8..7
    for (int i = 0; i < kQuantBlock; ++i) {
      if (d == 0.0f) {
        q[i] = 0;
        continue;
      }
      const float t = x[i] / d + 8.5f;  // in [0.5, 16.5] for finite blocks
      const int qi = t >= 15.0f ? 15 : t >= 0.0f ? (int)t : 0;  // min(15, trunc(t)); NaN gives 0
      q[i] = (int8_t)(qi - 8);
    }
    uint16_t h = float_to_f16(d);
    if (finite && d != 0.0f) search_q4_scale(x, v, &h, q);
    for (int j = 0; j < 16; ++j) y[b].qs[j] = (uint8_t)((q[j] + 8) | ((q[j + 16] + 8) << 4));
    y[b].d = h;
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int k) {
  for (int b = 0; b < k / kQuantBlock; ++b, y += kQuantBlock) {
    const float d = f16_to_float(x[b].d);
    for (int i = 0; i < kQuantBlock; ++i) y[i] = d * (float)x[b].qs[i];
  }
}

// Also qgemm's per-call activation quantizer, so no libm call per value:
// max |x| as the largest of the bit patterns with the sign cleared (their
// order is the values' order, and inf/NaN patterns sort above every finite
// one), and round-half-away from a truncation (t - trunc(t) is exact for
// |t| <= 127.5), in fixed runs of 32 the compiler can vectorize.
int32_t quantize_row_q8_c(const float* x, int k, int8_t* q, float* s) {
  uint32_t top = 0;
  for (int b = 0; b + kQuantBlock <= k; b += kQuantBlock)
    for (int i = b; i < b + kQuantBlock; ++i) {
      uint32_t bits;
      std::memcpy(&bits, &x[i], 4);
      bits &= 0x7FFFFFFFu;
      top = bits > top ? bits : top;
    }
  const bool finite = top < 0x7F800000u;
  float a;
  std::memcpy(&a, &top, 4);
  const float d = finite ? a / 127.0f : NAN;
  *s = d;
  if (!finite || d == 0.0f) {
    if (k > 0) std::memset(q, 0, (size_t)k);  // q may be null when k == 0
    return 0;
  }
  int32_t sum = 0;
  for (int b = 0; b + kQuantBlock <= k; b += kQuantBlock)
    for (int i = b; i < b + kQuantBlock; ++i) {
      const float t = x[i] / d;  // |t| <= 127 (+ rounding)
      int r = (int)t;
      const float frac = t - (float)r;
      r += (frac >= 0.5f) - (frac <= -0.5f);
      r = r > 127 ? 127 : r < -127 ? -127 : r;
      q[i] = (int8_t)r;
      sum += r;
    }
  return sum;
}

void dequantize_row_q8_c(const int8_t* q, float s, float* y, int k) {
  for (int i = 0; i < k; ++i) y[i] = s * (float)q[i];
}

void quantize_matrix_row_q8_c(const float* x, size_t rows, size_t cols, size_t row, uint8_t* matrix) {
  float s;
  quantize_row_q8_c(x, (int)cols, reinterpret_cast<int8_t*>(matrix) + row * cols, &s);
  std::memcpy(matrix + rows * cols + sizeof(float) * row, &s, sizeof s);
}

float q8_c_row_scale(const void* matrix, size_t rows, size_t cols, size_t row) {
  float s;
  std::memcpy(&s, static_cast<const uint8_t*>(matrix) + rows * cols + sizeof(float) * row, sizeof s);
  return s;
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

void quantize_row_q8c_act(const float* x, int k, int8_t* q, float* d, int32_t* corr) {
  *corr = -128 * quantize_row_q8_c(x, k, q, d);
}

// ---------------------------------------------------------------------------
// The reference integer GEMM

void qgemm_reference(int M, const float* x, int ldx, const QuantMatrixView& w, float* y, int ldy,
                     const ops::Epilogue& ep) {
  if (w.dtype != format::DType::Q8_0 && w.dtype != format::DType::Q4_0 && w.dtype != format::DType::Q8_C)
    throw std::invalid_argument("qgemm_reference: weights must be q8_0, q4_0 or q8_c");
  const int N = w.rows, K = w.cols, nb = K / kQuantBlock;
  if (w.dtype == format::DType::Q8_C) {
    const int8_t* wq = static_cast<const int8_t*>(w.blocks);
    std::vector<int8_t> qa(K);
    for (int i = 0; i < M; ++i) {
      float da;
      int32_t corr;
      quantize_row_q8c_act(x + (size_t)i * ldx, K, qa.data(), &da, &corr);
      for (int j = 0; j < N; ++j) {
        int64_t isum = 0;
        for (int t = 0; t < K; ++t) isum += (int32_t)wq[(size_t)j * K + t] * qa[t];
        double sum = (double)da * (double)q8_c_row_scale(w.blocks, N, K, j) * (double)isum;
        float* out = y + (size_t)i * ldy + j;
        if (ep.accumulate) sum += *out;
        if (ep.bias) sum += ep.bias[j];
        *out = ref::activation((float)sum, ep.act) * ep.scale;
      }
    }
    return;
  }

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
