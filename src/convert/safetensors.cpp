#include "convert/safetensors.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "nystrom/io.h"
#include "runtime/error.h"
#include "runtime/json.h"

namespace nystrom {

namespace {


uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint64_t to_u64(const JsonValue& v, const std::string& what) {
  int64_t x = v.as_int(what);
  if (x < 0) fail(what, " must not be negative");
  return static_cast<uint64_t>(x);
}

}  // namespace

uint64_t safetensors_dtype_size(std::string_view dtype) {
  struct Entry {
    const char* name;
    uint64_t size;
  };
  static const Entry table[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U64", 8},  {"U32", 4},
                                {"U16", 2}, {"U8", 1},  {"BOOL", 1}};
  for (const Entry& e : table)
    if (dtype == e.name) return e.size;
  return 0;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), bytes_(read_whole_file(path)) {
  const uint64_t file_size = bytes_.size();
  if (file_size < 8) fail(path, ": too short for a safetensors file (", file_size, " bytes)");
  const uint64_t header_len = read_u64_le(bytes_.data());
  if (header_len > file_size - 8)
    fail(path, ": header length ", header_len, " exceeds the file size (", file_size, " bytes)");
  const uint8_t* data_area = bytes_.data() + 8 + header_len;
  const uint64_t data_size = file_size - 8 - header_len;

  std::string_view header(reinterpret_cast<const char*>(bytes_.data() + 8), static_cast<size_t>(header_len));
  JsonValue root = parse_json(header, path);
  if (!root.is_object()) fail(path, ": header must be a JSON object, not ", json_type_name(root.type));

  for (const auto& member : root.object) {
    const std::string& name = member.first;
    if (name == "__metadata__") continue;  // free-form strings, nothing we need
    const JsonValue& entry = member.second;
    const std::string where = path + ": tensor '" + name + "'";
    if (!entry.is_object()) fail(where, ": entry must be an object, not ", json_type_name(entry.type));
    if (index_.count(name)) fail(where, ": listed twice in the header");

    const JsonValue* dtype = entry.find("dtype");
    const JsonValue* shape = entry.find("shape");
    const JsonValue* offsets = entry.find("data_offsets");
    if (!dtype) fail(where, ": missing dtype");
    if (!shape) fail(where, ": missing shape");
    if (!offsets) fail(where, ": missing data_offsets");

    SafeTensor t;
    t.name = name;
    t.dtype = dtype->as_string(where + ": dtype");
    const uint64_t elem_size = safetensors_dtype_size(t.dtype);
    if (elem_size == 0) fail(where, ": unsupported dtype '", t.dtype, "'");

    if (!shape->is_array()) fail(where, ": shape must be an array of integers");
    for (const JsonValue& dim : shape->array) t.shape.push_back(to_u64(dim, where + ": shape dimension"));
    uint64_t expected = elem_size;
    bool has_zero_dim = false;
    for (uint64_t d : t.shape) has_zero_dim = has_zero_dim || d == 0;
    if (has_zero_dim) {
      expected = 0;  // an empty tensor, however large its other dims
    } else {
      for (uint64_t d : t.shape) {
        if (expected > std::numeric_limits<uint64_t>::max() / d)
          fail(where, ": shape is too large (byte count overflows 64 bits)");
        expected *= d;
      }
    }

    if (!offsets->is_array() || offsets->array.size() != 2)
      fail(where, ": data_offsets must be an array of two integers [begin, end]");
    const uint64_t begin = to_u64(offsets->array[0], where + ": data_offsets begin");
    const uint64_t end = to_u64(offsets->array[1], where + ": data_offsets end");
    if (begin > end) fail(where, ": data_offsets begin ", begin, " is after end ", end);
    if (end > data_size)
      fail(where, ": data_offsets end ", end, " is beyond the data area (", data_size, " bytes)");
    if (end - begin != expected)
      fail(where, ": data_offsets span ", end - begin, " bytes but ", t.dtype, " of this shape needs ", expected);

    t.data = data_area + begin;
    t.nbytes = end - begin;
    index_.emplace(name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // Two tensors sharing bytes would alias each other's data: the writers
  // never do that, so it is a damaged or crafted header.
  std::vector<const SafeTensor*> by_offset;
  for (const SafeTensor& t : tensors_)
    if (t.nbytes) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const SafeTensor* a, const SafeTensor* b) { return a->data < b->data; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const SafeTensor* prev = by_offset[i - 1];
    const SafeTensor* cur = by_offset[i];
    if (cur->data < prev->data + prev->nbytes)
      fail(path, ": tensors '", prev->name, "' and '", cur->name, "' overlap in the data area (bytes ",
           prev->data - data_area, "..", prev->data - data_area + prev->nbytes, " and ", cur->data - data_area, "..",
           cur->data - data_area + cur->nbytes, ")");
  }
}

const SafeTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace nystrom
