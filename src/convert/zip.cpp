#include "convert/zip.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "nystrom/io.h"
#include "runtime/error.h"

namespace nystrom {

namespace {

// Record signatures ("PK" followed by two identifying bytes), little-endian.
constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;

constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEocdSize = 22;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kZip64EocdMinSize = 56;
constexpr uint64_t kMaxCommentSize = 65535;

constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kFlagEncrypted = 0x0001;
constexpr uint16_t kFlagDataDescriptor = 0x0008;

struct Crc32Tables {
  uint32_t t[8][256];
  Crc32Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
      t[0][i] = c;
    }
    for (int k = 1; k < 8; ++k)
      for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  }
};

const Crc32Tables& crc_tables() {
  static const Crc32Tables tables;
  return tables;
}

uint32_t load_u32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}


const char* method_name(uint16_t method) {
  switch (method) {
    case 1: return "shrink";
    case 6: return "implode";
    case 8: return "deflate";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case 93: return "zstd";
    case 95: return "xz";
    case 98: return "ppmd";
    default: return "unknown";
  }
}

// Little-endian reads at checked positions of the archive.
class Reader {
 public:
  Reader(const std::vector<uint8_t>& bytes, const std::string& source) : b_(bytes), source_(source) {}
  // Fails unless [at, at + len) lies inside the file.
  void need(uint64_t at, uint64_t len, const char* what) const {
    if (at > b_.size() || len > b_.size() - at)
      fail(source_, ": zip: ", what, " at offset ", at, " (", len, " bytes) runs past the end of the file (",
           b_.size(), " bytes); the archive is truncated or corrupt");
  }
  uint16_t u16(uint64_t at) const {
    need(at, 2, "field");
    return uint16_t(b_[at] | (b_[at + 1] << 8));
  }
  uint32_t u32(uint64_t at) const {
    need(at, 4, "field");
    return load_u32(&b_[at]);
  }
  uint64_t u64(uint64_t at) const {
    need(at, 8, "field");
    return uint64_t(load_u32(&b_[at])) | (uint64_t(load_u32(&b_[at + 4])) << 32);
  }

 private:
  const std::vector<uint8_t>& b_;
  const std::string& source_;
};

}  // namespace

uint32_t crc32_ieee(const void* data, size_t size, uint32_t crc) {
  const uint32_t(&t)[8][256] = crc_tables().t;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  while (size >= 8) {
    const uint32_t lo = crc ^ load_u32(p), hi = load_u32(p + 4);
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

ZipArchive::ZipArchive(const std::string& path) : source_(path), bytes_(read_whole_file(path)) { parse(); }

ZipArchive::ZipArchive(std::vector<uint8_t> bytes, const std::string& source)
    : source_(source), bytes_(std::move(bytes)) {
  parse();
}

void ZipArchive::parse() {
  const Reader r(bytes_, source_);
  const uint64_t size = bytes_.size();
  const std::string& src = source_;
  if (size < kEocdSize) fail(src, ": zip: too short for a zip archive (", size, " bytes)");

  // The End Of Central Directory record is the last thing in the file, after
  // which only its own comment (at most 65535 bytes) may follow.
  uint64_t eocd = 0;
  bool found = false;
  const uint64_t lowest = size - kEocdSize > kMaxCommentSize ? size - kEocdSize - kMaxCommentSize : 0;
  for (uint64_t p = size - kEocdSize + 1; p-- > lowest;) {
    if (r.u32(p) == kEocdSig && p + kEocdSize + r.u16(p + 20) == size) {
      eocd = p;
      found = true;
      break;
    }
  }
  if (!found)
    fail(src, ": zip: no end of central directory record (not a zip archive, or truncated)");

  uint64_t disk = r.u16(eocd + 4), cd_disk = r.u16(eocd + 6);
  uint64_t entries_on_disk = r.u16(eocd + 8), entry_count = r.u16(eocd + 10);
  uint64_t cd_size = r.u32(eocd + 12), cd_offset = r.u32(eocd + 16);
  uint64_t cd_limit = eocd;  // the central directory ends before this

  // ZIP64: a locator right before the EOCD points at the ZIP64 EOCD record,
  // whose 64-bit fields replace the 16/32-bit ones.
  if (eocd >= kZip64LocatorSize && r.u32(eocd - kZip64LocatorSize) == kZip64LocatorSig) {
    const uint64_t loc = eocd - kZip64LocatorSize;
    const uint32_t z64_disk = r.u32(loc + 4), total_disks = r.u32(loc + 16);
    const uint64_t z64 = r.u64(loc + 8);
    if (z64_disk != 0 || total_disks > 1) fail(src, ": zip: archives spanning several disks are not supported");
    if (z64 > loc || loc - z64 < kZip64EocdMinSize)
      fail(src, ": zip: the ZIP64 end of central directory offset ", z64, " is out of range");
    if (r.u32(z64) != kZip64EocdSig)
      fail(src, ": zip: no ZIP64 end of central directory record at offset ", z64);
    const uint64_t record_size = r.u64(z64 + 4);  // counted from after this field
    if (record_size < kZip64EocdMinSize - 12 || record_size > loc - z64 - 12)
      fail(src, ": zip: the ZIP64 end of central directory record has a bad size (", record_size, ")");
    disk = r.u32(z64 + 16);
    cd_disk = r.u32(z64 + 20);
    entries_on_disk = r.u64(z64 + 24);
    entry_count = r.u64(z64 + 32);
    cd_size = r.u64(z64 + 40);
    cd_offset = r.u64(z64 + 48);
    cd_limit = z64;
  }
  if (disk != 0 || cd_disk != 0 || entries_on_disk != entry_count)
    fail(src, ": zip: archives spanning several disks are not supported");
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
    fail(src, ": zip: the central directory (offset ", cd_offset, ", ", cd_size,
         " bytes) does not fit before the end of central directory record at ", cd_limit,
         "; the archive is truncated or corrupt");
  if (entry_count > cd_size / kCentralHeaderSize)
    fail(src, ": zip: ", entry_count, " entries cannot fit in a central directory of ", cd_size, " bytes");

  entries_.reserve(static_cast<size_t>(entry_count));
  const uint64_t cd_end = cd_offset + cd_size;
  uint64_t p = cd_offset;
  for (uint64_t i = 0; i < entry_count; ++i) {
    if (cd_end - p < kCentralHeaderSize || r.u32(p) != kCentralHeaderSig)
      fail(src, ": zip: central directory entry ", i, " at offset ", p, " is missing or corrupt");
    ZipEntry e;
    const uint16_t flags = r.u16(p + 8);
    e.method = r.u16(p + 10);
    e.crc32 = r.u32(p + 16);
    e.compressed_size = r.u32(p + 20);
    e.size = r.u32(p + 24);
    const uint64_t name_len = r.u16(p + 28), extra_len = r.u16(p + 30), comment_len = r.u16(p + 32);
    uint32_t start_disk = r.u16(p + 34);
    uint64_t local = r.u32(p + 42);
    if (cd_end - p - kCentralHeaderSize < name_len + extra_len + comment_len)
      fail(src, ": zip: central directory entry ", i, " runs past the central directory");
    const uint64_t name_at = p + kCentralHeaderSize;
    e.name.assign(reinterpret_cast<const char*>(&bytes_[name_at]), static_cast<size_t>(name_len));
    const std::string where = src + ": zip: entry '" + e.name + "'";

    // ZIP64 extra field: the 64-bit values of the fields saturated above, in
    // this order, each present only if its field is saturated.
    uint64_t x = name_at + name_len;
    const uint64_t extra_end = x + extra_len;
    while (extra_end - x >= 4) {
      const uint16_t id = r.u16(x), len = r.u16(x + 2);
      if (extra_end - x - 4 < len) fail(where, ": an extra field runs past the entry's extra area");
      if (id == kZip64ExtraId) {
        uint64_t at = x + 4;
        const uint64_t end = at + len;
        auto take64 = [&](uint64_t& field) {
          if (end - at < 8) fail(where, ": the ZIP64 extra field is too short");
          field = r.u64(at);
          at += 8;
        };
        if (e.size == 0xFFFFFFFFu) take64(e.size);
        if (e.compressed_size == 0xFFFFFFFFu) take64(e.compressed_size);
        if (local == 0xFFFFFFFFu) take64(local);
        if (start_disk == 0xFFFFu) {
          if (end - at < 4) fail(where, ": the ZIP64 extra field is too short");
          start_disk = r.u32(at);
        }
      }
      x += 4 + len;
    }
    if (start_disk != 0) fail(where, ": lies on another disk (multi-disk archives are not supported)");
    if (flags & kFlagEncrypted) fail(where, ": is encrypted; encrypted entries are not supported");

    // The local header repeats the name and method; the data follows it. Both
    // lie before the central directory.
    if (local > cd_offset || cd_offset - local < kLocalHeaderSize)
      fail(where, ": local header offset ", local, " is out of range");
    if (r.u32(local) != kLocalHeaderSig) fail(where, ": no local header at offset ", local);
    const uint16_t local_flags = r.u16(local + 6), local_method = r.u16(local + 8);
    const uint64_t local_name_len = r.u16(local + 26), local_extra_len = r.u16(local + 28);
    if (cd_offset - local - kLocalHeaderSize < local_name_len + local_extra_len)
      fail(where, ": local header runs into the central directory");
    if (local_name_len != name_len ||
        std::memcmp(&bytes_[local + kLocalHeaderSize], &bytes_[name_at], static_cast<size_t>(name_len)) != 0)
      fail(where, ": the local header at offset ", local, " names a different entry");
    if (local_method != e.method)
      fail(where, ": the local header says method ", local_method, ", the central directory ", e.method);
    if (!(local_flags & kFlagDataDescriptor)) {
      // Without a data descriptor the local header carries the real values.
      const uint32_t local_crc = r.u32(local + 14), local_csize = r.u32(local + 18), local_size = r.u32(local + 22);
      if (local_crc != e.crc32)
        fail(where, ": the local header's CRC-32 differs from the central directory's");
      if ((local_csize != 0xFFFFFFFFu && local_csize != e.compressed_size) ||
          (local_size != 0xFFFFFFFFu && local_size != e.size))
        fail(where, ": the local header's sizes differ from the central directory's");
    }
    e.data_offset = local + kLocalHeaderSize + local_name_len + local_extra_len;
    if (e.compressed_size > cd_offset - e.data_offset)
      fail(where, ": its data (", e.compressed_size, " bytes at offset ", e.data_offset,
           ") runs into the central directory; the archive is truncated or corrupt");
    if (e.method == 0 && e.size != e.compressed_size)
      fail(where, ": is stored but its size (", e.size, ") differs from its stored size (", e.compressed_size, ")");
    if (!index_.emplace(e.name, entries_.size()).second) fail(where, ": appears twice in the archive");
    entries_.push_back(std::move(e));
    p = name_at + name_len + extra_len + comment_len;
  }
  crc_checked_.assign(entries_.size(), 0);
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::string_view ZipArchive::data(const ZipEntry& entry) const { return data(entry.name); }

std::string_view ZipArchive::data(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail(source_, ": zip: no entry '", name, "'");
  const ZipEntry& e = entries_[it->second];
  if (e.method != 0)
    fail(source_, ": zip: entry '", e.name, "' is compressed (method ", e.method, ", ", method_name(e.method),
         "); only stored (uncompressed) entries can be read");
  const uint8_t* begin = bytes_.data() + e.data_offset;
  if (!crc_checked_[it->second]) {
    const uint32_t crc = crc32_ieee(begin, static_cast<size_t>(e.size));
    if (crc != e.crc32) {
      char got[16], want[16];
      std::snprintf(got, sizeof got, "%08x", crc);
      std::snprintf(want, sizeof want, "%08x", e.crc32);
      fail(source_, ": zip: entry '", e.name, "' is corrupt: CRC-32 is ", got, ", the directory says ", want);
    }
    crc_checked_[it->second] = 1;
  }
  return std::string_view(reinterpret_cast<const char*>(begin), static_cast<size_t>(e.size));
}

}  // namespace nystrom
