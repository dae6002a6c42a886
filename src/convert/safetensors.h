// Reader for Hugging Face `model.safetensors`: an 8-byte little-endian header
// length N, N bytes of JSON mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets counted from the
// first byte after the header), then the data. The whole file is read into
// memory and every entry is checked against it before anyone sees it.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nystrom {

struct SafeTensor {
  std::string name;
  std::string dtype;            // "F32", "F16", "BF16", "I64", ... as in the file
  std::vector<uint64_t> shape;  // empty for a scalar
  const uint8_t* data = nullptr;  // little-endian, NOT necessarily aligned: memcpy out
  uint64_t nbytes = 0;            // == element size * product(shape)
};

// Bytes per element of a safetensors dtype; 0 if the dtype is unknown.
uint64_t safetensors_dtype_size(std::string_view dtype);

class SafetensorsFile {
 public:
  // Reads and validates the file; throws Error naming the file (and the
  // tensor, where one is at fault).
  explicit SafetensorsFile(const std::string& path);

  // Tensor pointers point into this object's buffer: copying is disabled,
  // moving keeps them valid.
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  SafetensorsFile(SafetensorsFile&&) = default;
  SafetensorsFile& operator=(SafetensorsFile&&) = default;

  const std::string& path() const { return path_; }
  // In header order; "__metadata__" is not a tensor and is skipped.
  const std::vector<SafeTensor>& tensors() const { return tensors_; }
  // nullptr if there is no tensor of that name.
  const SafeTensor* find(std::string_view name) const;

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
  std::vector<SafeTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
};

}  // namespace nystrom
