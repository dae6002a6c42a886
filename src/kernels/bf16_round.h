// The rounding of a float to bf16 that every level's conversion gives
// (kernels/bf16_gemm.h). Static: each file that includes this gets its own
// copy, compiled with that file's flags; one inline copy for the whole
// program could be the one built for a level this CPU lacks.
#pragma once
#include <cstdint>
#include <cstring>

namespace nystrom {

// To nearest even; a subnormal becomes a zero of its sign (vdpbf16ps reads
// subnormals as zero); a NaN stays a NaN, made quiet (so rounding cannot
// turn it into an infinity).
static inline uint16_t bf16_from_float(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
  if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

static inline float float_from_bf16(uint16_t h) {
  const uint32_t u = (uint32_t)h << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

}  // namespace nystrom
