// Helpers shared by the kernel tests (GEMM, qgemm, reference kernels) and the
// tests that run every level: the levels this CPU runs, sentinel cells that
// show stray reads and writes, the summation error bound
// the tolerances build on, the worst element of a comparison, and names of
// the epilogue activations for messages.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "support.h"

namespace test {

// Every level compiled in and supported by this CPU, scalar first.
inline std::vector<const nystrom::KernelTable*> levels() {
  std::vector<const nystrom::KernelTable*> out;
  for (nystrom::Isa isa : nystrom::kAllIsas)
    if (const nystrom::KernelTable* t = nystrom::kernels_for(isa)) out.push_back(t);
  return out;
}

// The same without the scalar level, whose kernels are the references.
inline std::vector<const nystrom::KernelTable*> simd_levels() {
  std::vector<const nystrom::KernelTable*> out = levels();
  out.erase(out.begin());
  return out;
}

// The levels whose f32 GEMM (kernels/gemm.cpp: the blocking, the
// micro-kernel, the packing and the epilogue's row kernel) is not an
// earlier level's: neon_dot is neon's table with SDOT integer micro-kernels
// (kernels/neon_dot/table.cpp), so under qemu its f32 GEMM, minutes of
// emulated time, would run the same instructions twice.
// Under an emulator (the aarch64 runs) or a sanitizer
// (test::emulated_or_sanitized()) the scalar level is left out as well:
// there these cases are for the NEON kernels, and for memory and thread
// errors in gemm.cpp's blocking, packing and threading, which every level
// walks alike, while the scalar level is portable C++ (kernels/ref/, no
// instruction-set code) that the native suite runs through the same cases
// in full, and every sanitized case on small shapes runs too. Emulated, it
// took a quarter to two thirds of each gemm_blocked case's time (wall time
// on a loaded machine: 147 -> 110 s, 87 -> 57 s, 50 -> 16 s without it);
// under ASan and TSan, at -O1, most of it.
inline std::vector<const nystrom::KernelTable*> f32_gemm_levels() {
  std::vector<const nystrom::KernelTable*> out;
  for (const nystrom::KernelTable* t : levels()) {
    if (t->isa == nystrom::Isa::Scalar && emulated_or_sanitized()) continue;
    bool seen = false;
    for (const nystrom::KernelTable* u : out) {
      const nystrom::GemmBlocks &a = t->gemm, &b = u->gemm;
      seen = seen || (a.mr == b.mr && a.nr == b.nr && a.kc == b.kc && a.mc == b.mc && a.nc == b.nc &&
                      t->gemm_ukernel == u->gemm_ukernel && t->pack_panel == u->pack_panel &&
                      t->bias_act_rows == u->bias_act_rows && t->f16_to_f32_row == u->f16_to_f32_row);
    }
    if (!seen) out.push_back(t);
  }
  return out;
}

// A quiet NaN with a payload no arithmetic produces: cells that must be
// neither read nor written hold it, and are compared bit for bit afterwards.
inline float sentinel() {
  const uint32_t bits = 0x7fc0beefu;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline bool is_sentinel(float x) {
  const float s = sentinel();
  return std::memcmp(&x, &s, sizeof x) == 0;
}

constexpr double kUnit = 5.9604644775390625e-8;  // u = 2^-24

// Twice gamma_n: the most two summation orders of n terms may differ by,
// per unit of sum |t_i|.
inline double two_gamma(int n) { return 2.0 * n * kUnit / (1.0 - n * kUnit); }

inline const char* act_name(nystrom::ops::Act act) {
  switch (act) {
    case nystrom::ops::Act::None: return "none";
    case nystrom::ops::Act::GeluTanh: return "gelu_tanh";
    case nystrom::ops::Act::GeluErf: return "gelu_erf";
    case nystrom::ops::Act::Relu: return "relu";
  }
  return "?";
}

// Reports the worst element of a comparison, and passes when every element
// is within its own tolerance (a NaN never is).
struct WorstError {
  double ratio = 0.0;  // error / tolerance
  size_t index = 0;
  float got = 0, want = 0;
  void add(size_t i, float g, float w, double tol) {
    const double err = std::fabs((double)g - (double)w);
    double r = tol > 0 ? err / tol : (err > 0 ? INFINITY : 0.0);
    if (std::isnan(err)) r = INFINITY;
    if (r > ratio || (std::isinf(r) && !std::isinf(ratio))) ratio = r, index = i, got = g, want = w;
  }
};

// Passes when every |got - want| <= abs_tol + rel_tol |want| (a NaN fails);
// reports the worst element otherwise.
inline void check_close(const std::vector<float>& got, const std::vector<float>& want, double abs_tol,
                 double rel_tol, const std::string& what) {
  REQUIRE(got.size() == want.size());
  size_t worst = 0;
  double worst_ratio = 0.0;  // error / tolerance, infinite for a NaN or a miss at tolerance 0
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs((double)got[i] - (double)want[i]);
    const double tol = abs_tol + rel_tol * std::fabs((double)want[i]);
    double ratio = tol > 0.0 ? err / tol : (err > 0.0 ? INFINITY : 0.0);
    if (std::isnan(err)) ratio = INFINITY;
    if (ratio > worst_ratio) worst_ratio = ratio, worst = i;
  }
  INFO(what);
  INFO("worst element " << worst << ": got " << got[worst] << ", want " << want[worst]
                        << " (error / tolerance = " << worst_ratio << ")");
  CHECK(worst_ratio <= 1.0);
}

// An M x N result stored from row 1 of a buffer with leading dimension ld
// (row 0 and row M + 1 are guard rows): every element of the corner within
// its own tolerance of want, every gap and guard cell still the sentinel.
inline void check_corner(const std::vector<float>& got, const std::vector<float>& want, const std::vector<double>& tol,
                         int M, int N, size_t ld, const std::string& what) {
  WorstError worst;
  size_t gap_written = 0;
  for (size_t idx = 0; idx < got.size(); ++idx) {
    const size_t row = idx / ld;
    if (row == 0 || row > (size_t)M || idx % ld >= (size_t)N) {
      gap_written += !is_sentinel(got[idx]);
      continue;
    }
    worst.add(idx, got[idx], want[idx], tol[idx]);
  }
  INFO(what);
  INFO("worst element (" << worst.index / ld - 1 << ", " << worst.index % ld << "): got " << worst.got << ", want "
                         << worst.want << " (error / tolerance = " << worst.ratio << ")");
  INFO("gap and guard cells written: " << gap_written);
  CHECK(gap_written == 0);
  CHECK(worst.ratio <= 1.0);
}

}  // namespace test
