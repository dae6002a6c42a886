// Writes what torch.save writes, for tests that need a pytorch_model.bin
// without PyTorch: a ZIP writer for stored entries (optionally ZIP64, with
// data descriptors) and a pickle writer emitting the opcodes torch.save uses.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "convert/zip.h"

namespace torchsave {

// ---------------------------------------------------------------------------
// Little-endian fields.

inline std::string le(uint64_t v, int bytes) {
  std::string s(size_t(bytes), '\0');
  for (int i = 0; i < bytes; ++i) s[size_t(i)] = char(v >> (8 * i));
  return s;
}
inline std::string u16(uint64_t v) { return le(v, 2); }
inline std::string u32(uint64_t v) { return le(v, 4); }
inline std::string u64(uint64_t v) { return le(v, 8); }

// ---------------------------------------------------------------------------
// A ZIP writer for the tests: every entry's bytes are written as they are
// (method only labels them), with the CRC-32 of those bytes.

struct ZipItem {
  std::string name, data;
  uint16_t method = 0;   // 8 labels the entry deflate (its bytes are not really compressed)
  bool bad_crc = false;  // store a CRC that does not match the data
};

struct ZipStyle {
  bool zip64 = false;       // ZIP64 EOCD record + locator, sizes and offsets in ZIP64 extra fields
  bool descriptor = false;  // zeros in the local header, a data descriptor after the data (as torch writes)
  std::string comment;      // the archive comment after the EOCD
};

inline std::string zip_bytes(const std::vector<ZipItem>& items, const ZipStyle& style = ZipStyle()) {
  std::string out, cd;
  const uint16_t version = style.zip64 ? 45 : 20;
  const uint16_t flags = style.descriptor ? 0x0008 : 0;
  const uint64_t sat32 = 0xFFFFFFFFu;
  for (const ZipItem& it : items) {
    const uint32_t crc = nystrom::crc32_ieee(it.data.data(), it.data.size()) ^ (it.bad_crc ? 0x5A5A5A5Au : 0u);
    const uint64_t local = out.size(), size = it.data.size();
    std::string local_extra, central_extra;
    if (style.zip64) {
      local_extra = u16(1) + u16(16) + u64(size) + u64(size);
      central_extra = u16(1) + u16(24) + u64(size) + u64(size) + u64(local);
    }
    out += u32(0x04034b50) + u16(version) + u16(flags) + u16(it.method) + u16(0) + u16(0);
    if (style.descriptor) out += u32(0) + u32(0) + u32(0);
    else out += u32(crc) + u32(style.zip64 ? sat32 : size) + u32(style.zip64 ? sat32 : size);
    out += u16(it.name.size()) + u16(local_extra.size()) + it.name + local_extra + it.data;
    if (style.descriptor) out += u32(0x08074b50) + u32(crc) + (style.zip64 ? u64(size) + u64(size) : u32(size) + u32(size));

    cd += u32(0x02014b50) + u16(version) + u16(version) + u16(flags) + u16(it.method) + u16(0) + u16(0) + u32(crc);
    cd += u32(style.zip64 ? sat32 : size) + u32(style.zip64 ? sat32 : size);
    cd += u16(it.name.size()) + u16(central_extra.size()) + u16(0) + u16(0) + u16(0) + u32(0);
    cd += u32(style.zip64 ? sat32 : local) + it.name + central_extra;
  }
  const uint64_t cd_offset = out.size(), n = items.size();
  out += cd;
  if (style.zip64) {
    const uint64_t record = out.size();
    out += u32(0x06064b50) + u64(44) + u16(45) + u16(45) + u32(0) + u32(0) + u64(n) + u64(n) + u64(cd.size()) +
           u64(cd_offset);
    out += u32(0x07064b50) + u32(0) + u64(record) + u32(1);
  }
  out += u32(0x06054b50) + u16(0) + u16(0);
  out += style.zip64 ? u16(0xFFFF) + u16(0xFFFF) + u32(sat32) + u32(sat32)
                     : u16(n) + u16(n) + u32(cd.size()) + u32(cd_offset);
  out += u16(style.comment.size()) + style.comment;
  return out;
}

// ---------------------------------------------------------------------------
// A pickle writer: opcodes as protocol 2 spells them.

struct PickleWriter {
  std::string s;
  PickleWriter() { s += "\x80\x02"; }  // PROTO 2
  PickleWriter& op(char c) {
    s += c;
    return *this;
  }
  PickleWriter& str(const std::string& t) {  // BINUNICODE
    s += 'X' + u32(t.size()) + t;
    return *this;
  }
  PickleWriter& integer(int64_t v) {
    if (v >= 0 && v < 256) s += 'K' + le(uint64_t(v), 1);                      // BININT1
    else if (v >= 0 && v < 65536) s += 'M' + le(uint64_t(v), 2);               // BININT2
    else if (v >= INT32_MIN && v <= INT32_MAX) s += 'J' + u32(uint32_t(v));    // BININT
    else s += std::string("\x8a\x08", 2) + u64(uint64_t(v));                   // LONG1, 8 bytes
    return *this;
  }
  PickleWriter& global(const std::string& module, const std::string& name) {
    s += 'c' + module + "\n" + name + "\n";
    return *this;
  }
  PickleWriter& put(uint32_t i) {  // LONG_BINPUT
    s += 'r' + u32(i);
    return *this;
  }
  PickleWriter& get(uint32_t i) {  // LONG_BINGET
    s += 'j' + u32(i);
    return *this;
  }
  PickleWriter& ints(const std::vector<int64_t>& v) {  // a tuple of ints
    op('(');
    for (int64_t x : v) integer(x);
    return op('t');
  }
  std::string stop() { return s + '.'; }
};

// One tensor as torch.save pickles it: _rebuild_tensor_v2 over a persistent id.
struct View {
  std::string name, key;
  uint64_t numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> size, stride;
  std::string storage = "FloatStorage";
};

inline void write_tensor(PickleWriter& w, const View& v) {
  w.global("torch._utils", "_rebuild_tensor_v2").op('(');
  w.op('(').str("storage").global("torch", v.storage).str(v.key).str("cpu").integer(int64_t(v.numel)).op('t');
  w.op('Q');  // BINPERSID
  w.integer(v.offset).ints(v.size).ints(v.stride).op('\x89');  // NEWFALSE: requires_grad
  w.global("collections", "OrderedDict").op(')').op('R');       // backward_hooks
  w.op('t').op('R');
}

// A plain-dict state dict of these views, as HF's save_pretrained writes it.
inline std::string state_dict(const std::vector<View>& views) {
  PickleWriter w;
  w.op('}').op('(');
  for (const View& v : views) {
    w.str(v.name);
    write_tensor(w, v);
  }
  w.op('u');
  return w.stop();
}

inline std::string floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

// A torch.save archive: <folder>/data.pkl, <folder>/data/<key>, <folder>/version.
inline std::string torch_zip(const std::string& pkl, const std::map<std::string, std::string>& storages,
                      const std::string& folder = "archive", const ZipStyle& style = ZipStyle()) {
  std::vector<ZipItem> items = {{folder + "/data.pkl", pkl}};
  for (const auto& [key, bytes] : storages) items.push_back({folder + "/data/" + key, bytes});
  items.push_back({folder + "/version", "3\n"});
  return zip_bytes(items, style);
}
}  // namespace torchsave
