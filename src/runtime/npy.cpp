#include "nystrom/io.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "runtime/atomic_file.h"
#include "runtime/error.h"

namespace nystrom {

namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes, then major and minor version
constexpr size_t kMagicLen = 6;
constexpr uint64_t kAlign = 64;          // numpy aligns the data start to this
constexpr size_t kGrowthDigits = 21;     // numpy's spare room for a growing first dim


// 0 for dtypes this project does not exchange.
uint64_t npy_item_size(std::string_view dtype) {
  if (dtype == "<i8") return 8;
  if (dtype == "<i4" || dtype == "<f4") return 4;
  return 0;
}

std::string shape_str(const std::vector<uint64_t>& shape) {  // as Python prints a tuple
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

// Element count, or false on overflow of count * item_size.
bool byte_count(const std::vector<uint64_t>& shape, uint64_t item_size, uint64_t* out) {
  uint64_t n = item_size;
  for (uint64_t d : shape) {
    if (d == 0) {
      *out = 0;
      return true;
    }
  }
  for (uint64_t d : shape) {
    if (n > std::numeric_limits<uint64_t>::max() / d) return false;
    n *= d;
  }
  *out = n;
  return true;
}

// The header dict, as numpy writes it. Only the literal forms numpy produces
// are accepted: quoted strings, True/False, tuples of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  std::string descr;
  bool fortran_order = false;
  std::vector<uint64_t> shape;

  void parse() {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (have_descr) bad("key 'descr' appears twice");
        if (peek() != '\'' && peek() != '"') fail(path_, ": unsupported dtype (structured arrays are not supported)");
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_fortran) bad("key 'fortran_order' appears twice");
        fortran_order = parse_bool();
        have_fortran = true;
      } else if (key == "shape") {
        if (have_shape) bad("key 'shape' appears twice");
        parse_shape();
        have_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        bad("expected ',' or '}'");
      }
    }
    ++pos_;  // '}'
    skip_ws();
    if (pos_ != s_.size()) bad("unexpected characters after the dict");
    if (!have_descr) bad("missing key 'descr'");
    if (!have_fortran) bad("missing key 'fortran_order'");
    if (!have_shape) bad("missing key 'shape'");
  }

 private:
  std::string_view s_;
  const std::string& path_;
  size_t pos_ = 0;

  [[noreturn]] void bad(const std::string& what) const { fail(path_, ": malformed .npy header: ", what); }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }  // '\0': end (never valid here)

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }

  std::string parse_string() {
    char quote = peek();
    if (quote != '\'' && quote != '"') bad("expected a quoted string");
    size_t start = ++pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' || s_[pos_] == '\n') bad("unsupported character in string");
      ++pos_;
    }
    if (pos_ >= s_.size()) bad("unterminated string");
    return std::string(s_.substr(start, pos_++ - start));
  }

  bool parse_bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    bad("fortran_order must be True or False");
  }

  uint64_t parse_uint() {
    if (peek() < '0' || peek() > '9') bad("shape must be a tuple of non-negative integers");
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      uint64_t digit = static_cast<uint64_t>(peek() - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) bad("shape dimension too large");
      v = v * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2 long suffix in old files
    return v;
  }

  // "()", "(5,)", "(3, 4)", "(3, 4,)"; "(5)" is an int in Python, not a tuple.
  void parse_shape() {
    expect('(');
    skip_ws();
    bool trailing_comma = false;
    while (peek() != ')') {
      shape.push_back(parse_uint());
      skip_ws();
      trailing_comma = peek() == ',';
      if (trailing_comma) {
        ++pos_;
        skip_ws();
      } else if (peek() != ')') {
        bad("expected ',' or ')' in shape");
      }
    }
    ++pos_;
    if (shape.size() == 1 && !trailing_comma) bad("shape must be a tuple, e.g. (5,)");
  }
};

}  // namespace

uint64_t NpyArray::count() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

NpyArray read_npy(const std::string& path) {
  std::vector<uint8_t> bytes = read_whole_file(path);
  const uint64_t size = bytes.size();
  const size_t magic_len = size < kMagicLen ? static_cast<size_t>(size) : kMagicLen;
  if (magic_len && std::memcmp(bytes.data(), kMagic, magic_len) != 0) fail(path, ": not a .npy file (bad magic)");
  if (size < 10) fail(path, ": truncated .npy file (", size, " bytes)");
  const unsigned major = bytes[6], minor = bytes[7];
  size_t len_bytes;
  if (major == 1 && minor == 0) {
    len_bytes = 2;
  } else if ((major == 2 || major == 3) && minor == 0) {
    len_bytes = 4;  // 3.0 differs from 2.0 only in allowing utf8 in the header
  } else {
    fail(path, ": unsupported .npy format version ", major, ".", minor);
  }
  const uint64_t prefix = 8 + len_bytes;
  if (size < prefix) fail(path, ": truncated .npy file (", size, " bytes)");
  uint64_t header_len = 0;
  for (size_t i = len_bytes; i-- > 0;) header_len = (header_len << 8) | bytes[8 + i];
  if (header_len > size - prefix)
    fail(path, ": truncated .npy file (header of ", header_len, " bytes, file of ", size, ")");

  std::string_view header(reinterpret_cast<const char*>(bytes.data() + prefix), static_cast<size_t>(header_len));
  HeaderParser hp(header, path);
  hp.parse();

  const uint64_t item_size = npy_item_size(hp.descr);
  if (item_size == 0) fail(path, ": unsupported dtype '", hp.descr, "' (expected <i8, <i4 or <f4)");
  if (hp.fortran_order) fail(path, ": fortran_order True is not supported (save a C-order array)");
  uint64_t expected = 0;
  if (!byte_count(hp.shape, item_size, &expected)) fail(path, ": shape ", shape_str(hp.shape), " is too large");

  const uint64_t data_start = prefix + header_len;
  const uint64_t data_size = size - data_start;
  if (data_size < expected)
    fail(path, ": truncated .npy file (shape ", shape_str(hp.shape), " needs ", expected, " data bytes, found ",
         data_size, ")");
  if (data_size > expected)
    fail(path, ": ", data_size - expected, " unexpected bytes after the data of shape ", shape_str(hp.shape));

  NpyArray out;
  out.dtype = hp.descr;
  out.shape = hp.shape;
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(data_start));
  out.data = std::move(bytes);
  return out;
}

void write_npy(const std::string& path, const std::string& dtype, const std::vector<uint64_t>& shape,
               const void* data) {
  const uint64_t item_size = npy_item_size(dtype);
  if (item_size == 0) fail(path, ": cannot write dtype '", dtype, "' (expected <i8, <i4 or <f4)");
  uint64_t nbytes = 0;
  if (!byte_count(shape, item_size, &nbytes) || nbytes > std::numeric_limits<size_t>::max())
    fail(path, ": shape ", shape_str(shape), " is too large");

  std::string header = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shape_str(shape) + ", }";
  // Like numpy, leave room to rewrite the header in place if the first dim grows.
  if (!shape.empty()) header.append(kGrowthDigits - std::to_string(shape[0]).size(), ' ');

  // numpy pads with 1..64 spaces plus '\n' so the data starts 64-aligned,
  // and moves to version 2.0 only when the length no longer fits 16 bits.
  auto padded_len = [&](uint64_t len_bytes) {
    uint64_t unpadded = 8 + len_bytes + header.size() + 1;
    return header.size() + 1 + (kAlign - unpadded % kAlign);
  };
  uint64_t len_bytes = 2;
  uint64_t header_len = padded_len(2);
  if (header_len > 0xFFFF) {
    len_bytes = 4;
    header_len = padded_len(4);
  }
  header.append(static_cast<size_t>(header_len - header.size() - 1), ' ');
  header += '\n';

  uint8_t prefix[12];
  std::memcpy(prefix, kMagic, kMagicLen);
  prefix[6] = len_bytes == 2 ? 1 : 2;
  prefix[7] = 0;
  for (size_t i = 0; i < len_bytes; ++i) prefix[8 + i] = static_cast<uint8_t>(header_len >> (8 * i));

  AtomicFile file(path);
  file.write(prefix, static_cast<size_t>(8 + len_bytes));
  file.write(header.data(), header.size());
  if (nbytes) file.write(data, static_cast<size_t>(nbytes));
  file.commit();
}

std::vector<int64_t> read_npy_ids(const std::string& path) {
  NpyArray a = read_npy(path);
  if (a.dtype != "<i8" && a.dtype != "<i4")
    fail(path, ": token ids must be integers (<i8 or <i4), not '", a.dtype, "'");
  bool row = a.shape.size() == 1 || (a.shape.size() == 2 && a.shape[0] == 1);
  if (!row) fail(path, ": token ids must have shape (n,) or (1, n), not ", shape_str(a.shape));
  const uint64_t n = a.shape.back();
  std::vector<int64_t> ids(static_cast<size_t>(n));
  // The data is little-endian; so is every host this project targets.
  for (size_t i = 0; i < ids.size(); ++i) {
    if (a.dtype == "<i8") {
      std::memcpy(&ids[i], a.data.data() + 8 * i, 8);
    } else {
      int32_t v;
      std::memcpy(&v, a.data.data() + 4 * i, 4);
      ids[i] = v;
    }
  }
  return ids;
}

std::vector<float> read_npy_f32(const std::string& path, std::vector<uint64_t>* shape_out) {
  NpyArray a = read_npy(path);
  if (a.dtype != "<f4") fail(path, ": expected dtype <f4 (float32), not '", a.dtype, "'");
  std::vector<float> values(static_cast<size_t>(a.count()));
  if (!values.empty()) std::memcpy(values.data(), a.data.data(), a.data.size());
  if (shape_out) *shape_out = a.shape;
  return values;
}

}  // namespace nystrom
