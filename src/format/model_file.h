// Reading and writing .nyf model files (layout: include/nystrom/format.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nystrom/format.h"
#include "nystrom/nystrom.h"
#include "runtime/mapped_file.h"

namespace nystrom {

// Bytes a tensor of this dtype and shape takes; false when the shape does not
// fit the dtype (quantized types need 2 dims with cols % 32 == 0) or the size
// overflows.
bool tensor_bytes(format::DType t, const std::vector<uint64_t>& shape, uint64_t* bytes);
const char* dtype_name(format::DType t);
bool parse_dtype(const std::string& name, format::DType* out);  // "f32", "f16", "q8_0", "q4_0"

// A tensor to be written: bytes hold the data in dtype's little-endian form.
struct TensorData {
  std::string name;
  format::DType dtype = format::DType::F32;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

// Writes the file atomically (temporary + rename). Throws Error.
void write_model_file(const std::string& path, const ModelConfig& config,
                      const std::vector<TensorData>& tensors);

// A tensor inside a mapped file.
struct TensorView {
  std::string name;
  format::DType dtype;
  std::vector<uint64_t> shape;
  const void* data;
  uint64_t size;
};

// A mapped, fully validated model file. Construction checks magic, version,
// checksum (unless verify_checksum is false), every table entry and the
// configuration, and throws Error with a message naming the file.
class ModelFile {
 public:
  explicit ModelFile(const std::string& path, bool verify_checksum = true);

  const ModelConfig& config() const { return config_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find(const std::string& name) const;
  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }
  // Drops a tensor's pages from memory (see MappedFile::release): for
  // tensors used only through a repacked copy.
  void release(const TensorView& t) const { map_->release(t.data, t.size); }

 private:
  std::string path_;
  std::unique_ptr<MappedFile> map_;
  ModelConfig config_;
  std::vector<TensorView> tensors_;
  uint32_t version_ = 0;
};

// Checks a configuration for internal consistency (sizes positive, heads
// divide hidden, odd conv kernel, ...); `where` prefixes the message.
void validate_config(const ModelConfig& c, const std::string& where);

}  // namespace nystrom
