#include "convert/torch_bin.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "convert/pickle.h"
#include "runtime/error.h"

namespace nystrom {

namespace {

using pickle::Kind;
using pickle::Value;

struct StorageType {
  const char* global;  // as the pickle names it: "module name"
  const char* dtype;   // as SafeTensor names it
  uint64_t size;       // bytes per element
};

const StorageType kStorageTypes[] = {
    {"torch FloatStorage", "F32", 4},
    {"torch HalfStorage", "F16", 2},
    {"torch BFloat16Storage", "BF16", 2},
    {"torch LongStorage", "I64", 8},
};

const char kRebuildTensor[] = "torch._utils _rebuild_tensor_v2";
const char kRebuildParameter[] = "torch._utils _rebuild_parameter";

const std::vector<std::string>& allowed_globals() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"collections OrderedDict", kRebuildTensor, kRebuildParameter};
    for (const StorageType& s : kStorageTypes) n.push_back(s.global);
    return n;
  }();
  return names;
}

// At most this many dimensions, and no tensor of more than 2^62 bytes.
constexpr size_t kMaxDims = 64;
constexpr uint64_t kMaxBytes = uint64_t(1) << 62;

// Text from the pickle made safe for a one-line message.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 200) out += "...";
  return out;
}

// "module.name" for a pickle global "module name".
std::string dotted(const std::string& global) {
  std::string s = printable(global);
  const size_t space = s.find(' ');
  if (space != std::string::npos) s[space] = '.';
  return s;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// A legacy (pre-1.6) torch.save file is a bare pickle stream, not a zip.
bool legacy_format(const unsigned char* head, size_t n) { return n >= 2 && head[0] == 0x80 && head[1] <= 5; }

[[noreturn]] void fail_legacy(const std::string& source) {
  fail(source, ": this is the legacy (pre-1.6, non-zip) torch.save format, which is not supported; "
               "re-save it with a newer PyTorch or as model.safetensors");
}

// The archive, with a clearer message than the zip reader's for the legacy format.
ZipArchive open_archive(const std::string& path) {
  try {
    return ZipArchive(path);
  } catch (const Error&) {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    unsigned char head[2];
    if (f && legacy_format(head, std::fread(head, 1, 2, f.get()))) fail_legacy(path);
    throw;
  }
}

ZipArchive open_archive(std::vector<uint8_t> bytes, const std::string& source) {
  if (legacy_format(bytes.data(), bytes.size())) fail_legacy(source);
  return ZipArchive(std::move(bytes), source);
}

class Builder {
 public:
  Builder(const ZipArchive& zip, const std::string& prefix, std::vector<std::vector<uint8_t>>& gathered)
      : zip_(zip), prefix_(prefix), gathered_(gathered) {
    const uint64_t size = zip.file_size();
    gather_budget_ = size > (kMaxBytes >> 3) ? kMaxBytes : 4 * size + (uint64_t(64) << 20);
  }

  // The tensor a state-dict value stands for (name left empty).
  SafeTensor tensor(const Value& v, const std::string& where, int depth = 0) {
    if (!v.is(Kind::Call))
      fail(where, ": is a ", pickle::kind_name(v.kind), ", not a tensor (expected a call of _rebuild_tensor_v2)");
    auto it = built_.find(&v);
    if (it != built_.end()) return it->second;
    const std::string& fn = v.call_name();
    const std::vector<const Value*>& args = v.items[1]->items;
    SafeTensor t;
    if (fn == kRebuildParameter && depth == 0) {
      // _rebuild_parameter(data, requires_grad, backward_hooks): the tensor is data.
      if (args.size() != 3) fail(where, ": _rebuild_parameter takes 3 arguments, got ", args.size());
      t = tensor(*args[0], where, depth + 1);
    } else if (fn == kRebuildTensor) {
      t = rebuild(args, where);
    } else {
      fail(where, ": ", dotted(fn), " does not make a tensor here");
    }
    built_.emplace(&v, t);
    return t;
  }

 private:
  static uint64_t count_arg(const Value& v, const std::string& what) {
    if (!v.is(Kind::Int)) fail(what, " must be an int, not a ", pickle::kind_name(v.kind));
    if (v.integer < 0) fail(what, " is negative (", v.integer, ")");
    return uint64_t(v.integer);
  }
  static const std::string& string_arg(const Value& v, const std::string& what) {
    if (!v.is(Kind::String)) fail(what, " must be a str, not a ", pickle::kind_name(v.kind));
    return v.text;
  }
  static std::vector<uint64_t> dims_arg(const Value& v, const std::string& what) {
    if (!v.is(Kind::Tuple)) fail(what, " must be a tuple, not a ", pickle::kind_name(v.kind));
    if (v.items.size() > kMaxDims) fail(what, " has ", v.items.size(), " dimensions (at most ", kMaxDims, ")");
    std::vector<uint64_t> dims;
    for (const Value* d : v.items) dims.push_back(count_arg(*d, what + " element"));
    return dims;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
  // backward_hooks[, metadata]).
  SafeTensor rebuild(const std::vector<const Value*>& args, const std::string& where) {
    if (args.size() != 6 && args.size() != 7)
      fail(where, ": _rebuild_tensor_v2 takes 6 or 7 arguments, got ", args.size());

    // The persistent id ('storage', torch.<T>Storage, key, location, numel).
    const Value& pid_value = *args[0];
    if (!pid_value.is(Kind::PersistentId))
      fail(where, ": the storage is a ", pickle::kind_name(pid_value.kind), ", not a persistent id");
    const Value& pid = *pid_value.items[0];
    if (!pid.is(Kind::Tuple) || pid.items.size() != 5 || !pid.items[0]->is(Kind::String) ||
        pid.items[0]->text != "storage")
      fail(where, ": the persistent id is not ('storage', type, key, location, numel)");
    const Value& type = *pid.items[1];
    const StorageType* st = nullptr;
    for (const StorageType& s : kStorageTypes)
      if (type.is(Kind::Global) && type.text == s.global) st = &s;
    if (!st)
      fail(where, ": unsupported storage type ",
           type.is(Kind::Global) ? dotted(type.text) : std::string("(a ") + pickle::kind_name(type.kind) + ")");
    const std::string& key = string_arg(*pid.items[2], where + ": the storage key");
    string_arg(*pid.items[3], where + ": the storage location");
    const uint64_t numel = count_arg(*pid.items[4], where + ": the storage size");

    const std::string entry_name = prefix_ + "data/" + key;
    const ZipEntry* entry = zip_.find(entry_name);
    if (!entry) fail(where, ": its storage '", printable(key), "' is missing (no entry ", printable(entry_name), ")");
    if (numel > entry->size / st->size)
      fail(where, ": storage '", printable(key), "' holds ", entry->size, " bytes, too few for ", numel, " ",
           st->dtype, " elements");
    const uint8_t* base = reinterpret_cast<const uint8_t*>(zip_.data(*entry).data());  // CRC-checked

    const uint64_t offset = count_arg(*args[1], where + ": the storage offset");
    SafeTensor t;
    t.dtype = st->dtype;
    t.shape = dims_arg(*args[2], where + ": the size");
    const std::vector<uint64_t> stride = dims_arg(*args[3], where + ": the stride");
    if (stride.size() != t.shape.size())
      fail(where, ": the size has ", t.shape.size(), " dimensions but the stride ", stride.size());

    // Element count; an empty tensor reads nothing.
    uint64_t count = 1;
    for (uint64_t d : t.shape) {
      if (d == 0) {
        count = 0;
        break;
      }
    }
    if (count)
      for (uint64_t d : t.shape) {
        if (count > kMaxBytes / st->size / d) fail(where, ": the size is too large");
        count *= d;
      }
    t.data = base;
    t.nbytes = count * st->size;
    if (count == 0) return t;

    // The last element read lies at offset + sum (size_i - 1) * stride_i;
    // it must lie inside the storage (computed so that nothing overflows).
    bool inside = offset < numel;
    uint64_t last = offset;
    for (size_t i = 0; i < t.shape.size() && inside; ++i) {
      const uint64_t steps = t.shape[i] - 1;
      if (steps == 0 || stride[i] == 0) continue;
      if (steps > (numel - 1 - last) / stride[i]) inside = false;
      else last += steps * stride[i];
    }
    if (!inside)
      fail(where, ": the view (offset ", offset, ", size ", shape_text(t.shape), ", stride ", shape_text(stride),
           ") reaches past the end of storage '", printable(key), "', which holds ", numel, " elements");

    // Row-major contiguous (strides of size-1 dimensions do not matter):
    // point into the archive.
    bool contiguous = true;
    uint64_t expect = 1;
    for (size_t i = t.shape.size(); i-- > 0;) {
      if (t.shape[i] != 1 && stride[i] != expect) contiguous = false;
      expect *= t.shape[i];
    }
    if (contiguous) {
      t.data = base + offset * st->size;
      return t;
    }

    // Otherwise gather element by element, every index <= last < numel.
    if (t.nbytes > gather_budget_ - gathered_bytes_)
      fail(where, ": gathering this strided view (", t.nbytes, " bytes) would exceed the limit of ", gather_budget_,
           " bytes of copied views for this file");
    gathered_bytes_ += t.nbytes;
    gathered_.emplace_back(static_cast<size_t>(t.nbytes));
    uint8_t* dst = gathered_.back().data();
    const size_t es = static_cast<size_t>(st->size);
    const size_t nd = t.shape.size();
    const uint64_t inner = t.shape[nd - 1], inner_stride = stride[nd - 1];
    std::vector<uint64_t> idx(nd - 1, 0);
    uint64_t row_start = offset;
    for (uint64_t row = 0, rows = count / inner; row < rows; ++row) {
      const uint8_t* src = base + row_start * es;
      if (inner_stride == 1) {
        std::memcpy(dst, src, static_cast<size_t>(inner) * es);
      } else {
        for (uint64_t j = 0; j < inner; ++j) std::memcpy(dst + j * es, src + j * inner_stride * es, es);
      }
      dst += inner * es;
      for (size_t d = nd - 1; d-- > 0;) {  // next row: an odometer over the outer dimensions
        if (++idx[d] < t.shape[d]) {
          row_start += stride[d];
          break;
        }
        row_start -= (t.shape[d] - 1) * stride[d];
        idx[d] = 0;
      }
    }
    t.data = gathered_.back().data();
    return t;
  }

  static std::string shape_text(const std::vector<uint64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
  }

  const ZipArchive& zip_;
  const std::string& prefix_;
  std::vector<std::vector<uint8_t>>& gathered_;
  std::map<const Value*, SafeTensor> built_;  // a tensor referenced twice is built once
  uint64_t gather_budget_ = 0, gathered_bytes_ = 0;
};

}  // namespace

TorchBinFile::TorchBinFile(const std::string& path) : path_(path), zip_(open_archive(path)) { load(); }

TorchBinFile::TorchBinFile(std::vector<uint8_t> bytes, const std::string& source)
    : path_(source), zip_(open_archive(std::move(bytes), source)) {
  load();
}

void TorchBinFile::load() {
  const std::string& path = path_;
  // The pickle is <folder>/data.pkl; the folder's name varies by writer.
  std::string pkl, prefix;
  for (const ZipEntry& e : zip_.entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos || e.name.compare(slash, std::string::npos, "/data.pkl") != 0) continue;
    if (!pkl.empty()) fail(path, ": the archive holds two pickles (", printable(pkl), ", ", printable(e.name), ")");
    pkl = e.name;
    prefix = e.name.substr(0, slash + 1);
  }
  if (pkl.empty()) fail(path, ": no <folder>/data.pkl in the archive (not a PyTorch checkpoint)");
  if (const ZipEntry* order = zip_.find(prefix + "byteorder")) {
    const std::string_view bo = zip_.data(*order);
    if (bo != "little")
      fail(path, ": storages are stored in '", printable(std::string(bo)), "' byte order; only little is supported");
  }

  // A real state dict's pickle is small next to its tensors; whatever the
  // file holds, reading it takes at most 8x its size (or 64 MiB).
  pickle::Limits limits;
  limits.max_memory = std::max<uint64_t>(limits.max_memory, 8 * (uint64_t)zip_.file_size());
  const pickle::Pickle pk(zip_.data(pkl), allowed_globals(), path + ": " + printable(pkl), limits);
  const Value& root = pk.root();
  if (!root.is(Kind::Dict))
    fail(path, ": the pickled object is a ", pickle::kind_name(root.kind), ", not a state dict");
  Builder builder(zip_, prefix, gathered_);
  tensors_.reserve(root.entries.size());
  for (const auto& [key, value] : root.entries) {
    if (!key->is(Kind::String)) fail(path, ": a state dict key is a ", pickle::kind_name(key->kind), ", not a str");
    const std::string where = path + ": tensor '" + printable(key->text) + "'";
    if (index_.count(key->text)) fail(where, ": appears twice in the state dict");
    SafeTensor t = builder.tensor(*value, where);
    t.name = key->text;
    index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }
}

const SafeTensor* TorchBinFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace nystrom
