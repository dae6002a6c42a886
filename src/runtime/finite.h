// Whether a block of floats holds only finite values: the cheap check run on
// each layer's output, so that an overflow (weights too large for float32, a
// corrupted file read without its checksum) is an error naming the layer
// instead of NaN in the answers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nystrom {

inline bool all_finite(const float* x, size_t n) {
  // An exponent of all ones (infinity or NaN) is the one that carries into
  // bit 31 when 1 is added to it: branch-free, so the loop vectorizes.
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= (bits & 0x7f800000u) + 0x00800000u;
  }
  return (bad & 0x80000000u) == 0;
}

}  // namespace nystrom
