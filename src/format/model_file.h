// Reading and writing .nyf model files (layout: include/nystrom/format.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nystrom/format.h"
#include "nystrom/nystrom.h"
#include "runtime/mapped_file.h"

namespace nystrom {

// Bytes a tensor of this dtype and shape takes; false when the shape does not
// fit the dtype (quantized types need 2 dims with cols % 32 == 0) or the size
// overflows.
bool tensor_bytes(format::DType t, const std::vector<uint64_t>& shape, uint64_t* bytes);

// A tensor to be written: bytes hold the data in dtype's little-endian form.
struct TensorData {
  std::string name;
  format::DType dtype = format::DType::F32;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

// One file of the tokenizer section: its name (one of
// format::kTokenizerFileNames) and bytes, which the model file holds
// verbatim (a tokenizer is built from them above this layer).
struct TokenizerFileView {
  std::string name;
  std::string_view bytes;
};

// Writes the file atomically (temporary + rename). Throws Error. With
// tokenizer files the file is version 3 and ends with its tokenizer section;
// without, it is byte for byte what earlier versions of this writer wrote.
// Returns the file's size in bytes.
uint64_t write_model_file(const std::string& path, const ModelConfig& config,
                          const std::vector<TensorData>& tensors,
                          const std::vector<TokenizerFileView>& tokenizer = {});

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
  // The tokenizer section's files in file order (pointing into the
  // mapping); empty when there is none.
  const std::vector<TokenizerFileView>& tokenizer_files() const { return tokenizer_files_; }
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
  std::vector<TokenizerFileView> tokenizer_files_;
  uint32_t version_ = 0;

  void read_tokenizer_section(const format::FileHeader& h, uint64_t others_end);
};

// Checks a configuration for internal consistency (sizes positive, heads
// divide hidden, odd conv kernel, ...); `where` prefixes the message.
void validate_config(const ModelConfig& c, const std::string& where);

}  // namespace nystrom
