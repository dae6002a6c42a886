// Scalar integer GEMM micro-kernels (layout: ref::kQGemmLayout), twins of the
// levels' qgemm_<tile>.cpp.
#include "kernels/ref/ref.h"

namespace nystrom::ref {

namespace {

constexpr int kMR = kQGemmLayout.mr, kNR = kQGemmLayout.nr, kMRc = kQGemmLayout.mr_c;

// Weight k (0..31) of column j in a packed block, as an integer: w itself
// (q8_0) or 16 w (q4_0, a signed nibble moved to the top of a byte).
template <bool Q4>
int weight(const uint8_t* blk, int j, int k) {
  if (!Q4) return (int8_t)blk[(k / 4) * 4 * kNR + 4 * j + k % 4];
  const uint8_t byte = blk[((k % 16) / 4) * 4 * kNR + 4 * j + k % 4];
  return k < 16 ? (int8_t)(uint8_t)(byte << 4) : (int8_t)(byte & 0xF0);
}

template <bool Q4>
void qgemm_ukernel(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                   bool accumulate) {
  const int wbytes = (Q4 ? 16 : 32) * kNR;
  float acc[kMR][kNR] = {};
  for (int b = 0; b < nblocks; ++b, w += wbytes + 4 * kNR) {
    int32_t isum[kMR][kNR] = {};
    for (int k = 0; k < 32; ++k) {
      int wk[kNR];
      for (int j = 0; j < kNR; ++j) wk[j] = weight<Q4>(w, j, k);
      for (int r = 0; r < kMR; ++r) {
        const int ak = a.q[(size_t)r * a.ldq + (size_t)b * 32 + k];
        for (int j = 0; j < kNR; ++j) isum[r][j] += wk[j] * ak;
      }
    }
    const float* scale = reinterpret_cast<const float*>(w + wbytes);
    for (int r = 0; r < kMR; ++r) {
      const float dr = a.d[(size_t)r * a.ldd + b];
      for (int j = 0; j < kNR; ++j) acc[r][j] += (float)isum[r][j] * (scale[j] * dr);
    }
  }
  for (int r = 0; r < mr; ++r) {
    float* row = c + (size_t)r * ldc;
    for (int j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + acc[r][j] : acc[r][j];
  }
}

// q8_c: one int32 sum per output over the whole depth, scaled once.
void qgemm_q8c_ukernel(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                       bool accumulate) {
  int32_t isum[kMRc][kNR] = {};
  for (int b = 0; b < nblocks; ++b, w += 32 * kNR) {
    for (int k = 0; k < 32; ++k) {
      int wk[kNR];
      for (int j = 0; j < kNR; ++j) wk[j] = weight<false>(w, j, k);
      for (int r = 0; r < kMRc; ++r) {
        const int ak = a.q[(size_t)r * a.ldq + (size_t)b * 32 + k];
        for (int j = 0; j < kNR; ++j) isum[r][j] += wk[j] * ak;
      }
    }
  }
  const float* scale = reinterpret_cast<const float*>(w);
  for (int r = 0; r < mr; ++r) {
    const float dr = a.d[(size_t)r * a.ldd];
    float* row = c + (size_t)r * ldc;
    for (int j = 0; j < nr; ++j) {
      const float v = (float)isum[r][j] * (scale[j] * dr);
      row[j] = accumulate ? row[j] + v : v;
    }
  }
}

}  // namespace

void qgemm_q8_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate) {
  qgemm_ukernel<false>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

void qgemm_q4_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                           bool accumulate) {
  qgemm_ukernel<true>(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

void qgemm_q8c_ukernel_4x16(int nblocks, const QuantRows& a, const uint8_t* w, float* c, int ldc, int mr, int nr,
                            bool accumulate) {
  qgemm_q8c_ukernel(nblocks, a, w, c, ldc, mr, nr, accumulate);
}

}  // namespace nystrom::ref
