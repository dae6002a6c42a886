// Reader for `pytorch_model.bin` as `torch.save` writes it since PyTorch 1.6:
// a ZIP archive (convert/zip.h) of stored entries under one top-level folder
// (`archive/`, or the file's stem): `data.pkl`, the pickled state dict
// (convert/pickle.h), and `data/<key>`, the raw little-endian bytes of each
// storage. Each tensor is `torch._utils._rebuild_tensor_v2(storage, offset,
// size, stride, ...)` over a persistent id ('storage', torch.<T>Storage, key,
// location, numel); it may be a view of a storage shared with other tensors,
// at any offset and with any strides.
//
// The tensors come out like SafetensorsFile's: dtype "F32", "F16", "BF16" or
// "I64", shape, and contiguous row-major bytes. A tensor that is already
// contiguous in its storage points into the archive; any other is gathered
// element by element (every index checked against the storage) into a buffer
// owned here. The legacy (pre-1.6, non-zip) format is refused.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "convert/safetensors.h"
#include "convert/zip.h"

namespace nystrom {

class TorchBinFile {
 public:
  // Reads and validates the file; throws Error naming the file (and the
  // tensor, where one is at fault).
  explicit TorchBinFile(const std::string& path);
  // The same over the bytes of such a file; `source` names them in messages.
  TorchBinFile(std::vector<uint8_t> bytes, const std::string& source);

  // Tensor pointers point into this object's buffers: copying is disabled,
  // moving keeps them valid.
  TorchBinFile(const TorchBinFile&) = delete;
  TorchBinFile& operator=(const TorchBinFile&) = delete;
  TorchBinFile(TorchBinFile&&) = default;
  TorchBinFile& operator=(TorchBinFile&&) = default;

  const std::string& path() const { return path_; }  // or the source
  // In state-dict order. Two names bound to one pickled tensor (a tied
  // weight) are two entries sharing their bytes.
  const std::vector<SafeTensor>& tensors() const { return tensors_; }
  // nullptr if there is no tensor of that name.
  const SafeTensor* find(std::string_view name) const;

 private:
  void load();

  std::string path_;
  ZipArchive zip_;
  std::vector<std::vector<uint8_t>> gathered_;  // bytes of the non-contiguous views
  std::vector<SafeTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
};

inline TorchBinFile read_torch_bin(const std::string& path) { return TorchBinFile(path); }

}  // namespace nystrom
