#include "format/checksum.h"

#include <cstring>

namespace nystrom {
namespace {

constexpr uint64_t P1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t P2 = 0xC2B2AE3D27D4EB4Full;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t w = 0;
  for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];  // compilers fold this to one load on LE
  return w;
}

}  // namespace

Nyh64::Nyh64() : v_{P1 + P2, P2, 0, 0 - P1} {}

void Nyh64::stripe(const uint8_t* p) {
  for (int i = 0; i < 4; ++i) v_[i] = rotl(v_[i] + load_le64(p + 8 * i) * P2, 31) * P1;
}

void Nyh64::update(const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  length_ += size;
  if (buffered_) {
    size_t take = 32 - buffered_ < size ? 32 - buffered_ : size;
    std::memcpy(buf_ + buffered_, p, take);
    buffered_ += take, p += take, size -= take;
    if (buffered_ < 32) return;
    stripe(buf_);
    buffered_ = 0;
  }
  for (; size >= 32; p += 32, size -= 32) stripe(p);
  std::memcpy(buf_, p, size);
  buffered_ = size;
}

uint64_t Nyh64::finish() const {
  Nyh64 s = *this;
  if (s.buffered_) {
    std::memset(s.buf_ + s.buffered_, 0, 32 - s.buffered_);
    s.stripe(s.buf_);
  }
  uint64_t h = rotl(s.v_[0], 1) + rotl(s.v_[1], 7) + rotl(s.v_[2], 12) + rotl(s.v_[3], 18) + length_;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P1;
  h ^= h >> 32;
  return h;
}

uint64_t nyh64(const void* data, size_t size) {
  Nyh64 h;
  h.update(data, size);
  return h.finish();
}

}  // namespace nystrom
