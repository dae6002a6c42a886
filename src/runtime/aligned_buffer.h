// A growable float buffer aligned to 64 bytes (a cache line, one AVX-512
// register), for packed GEMM operands and planned activations.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace nystrom {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }

  // Grows (never shrinks) to hold at least n floats; contents are not kept.
  float* reserve(size_t n) {
    if (n > size_) {
      std::free(data_);
      size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) {
        size_ = 0;
        throw std::bad_alloc();
      }
      size_ = n;
    }
    return data_;
  }
  float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace nystrom
