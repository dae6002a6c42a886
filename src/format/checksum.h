// NYH64, the model file checksum (defined in include/nystrom/format.h).
#pragma once
#include <cstddef>
#include <cstdint>

namespace nystrom {

class Nyh64 {
 public:
  Nyh64();
  void update(const void* data, size_t size);  // may be called piecewise
  uint64_t finish() const;

 private:
  void stripe(const uint8_t* p);
  uint64_t v_[4];
  uint8_t buf_[32];
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

uint64_t nyh64(const void* data, size_t size);

}  // namespace nystrom
