// A reader for ZIP archives held whole in memory, as far as PyTorch's
// `torch.save` (the zip format of PyTorch >= 1.6) needs: the End Of Central
// Directory record (found by scanning back over the archive comment), the
// ZIP64 locator and record, the central directory with ZIP64 extra fields,
// and each entry's local header. Only STORED (method 0) entries can be read;
// their CRC-32 is checked the first time they are read. Every offset and size
// in the archive is checked against the real file size before it is used.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nystrom {

// CRC-32 with the IEEE polynomial (reflected 0xEDB88320), as ZIP, gzip and
// PNG use it. `crc` continues an earlier result (0 to start).
uint32_t crc32_ieee(const void* data, size_t size, uint32_t crc = 0);

struct ZipEntry {
  std::string name;
  uint16_t method = 0;        // 0 = stored, 8 = deflate, ...
  uint32_t crc32 = 0;         // from the central directory
  uint64_t data_offset = 0;   // of the entry's first data byte in the archive
  uint64_t size = 0;          // uncompressed size
  uint64_t compressed_size = 0;
};

class ZipArchive {
 public:
  // Reads the whole file and checks its directory; throws Error naming the
  // file (and the entry, where one is at fault).
  explicit ZipArchive(const std::string& path);
  // The same over bytes already in memory; `source` names them in messages.
  ZipArchive(std::vector<uint8_t> bytes, const std::string& source);

  // data() views point into this object's buffer: copying is disabled,
  // moving keeps them valid.
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;
  ZipArchive(ZipArchive&&) = default;
  ZipArchive& operator=(ZipArchive&&) = default;

  const std::string& source() const { return source_; }
  uint64_t file_size() const { return bytes_.size(); }
  // In central directory order.
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr if there is no entry of that name.
  const ZipEntry* find(std::string_view name) const;
  // The bytes of a stored entry, CRC-checked (the first time only: it
  // records that, so calls on one archive from several threads at once must
  // be serialized). Throws Error if there is no such entry, if it is
  // compressed, or if its CRC does not match.
  std::string_view data(std::string_view name) const;
  std::string_view data(const ZipEntry& entry) const;

 private:
  void parse();

  std::string source_;
  std::vector<uint8_t> bytes_;
  std::vector<ZipEntry> entries_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in entries_
  mutable std::vector<uint8_t> crc_checked_;           // per entry: 1 once its CRC matched
};

}  // namespace nystrom
