// The .npy reader and writer: files as numpy writes them (versions 1.0 and
// 2.0, written out by hand below), the header variants numpy accepts, every
// rejection, and that write_npy reproduces numpy's bytes exactly.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "support.h"

using nystrom::NpyArray;
using nystrom::read_npy;
using nystrom::read_npy_f32;
using nystrom::read_npy_ids;
using nystrom::write_npy;

namespace {

using test::error_of;
using test::slurp;
using test::TempFile;

// A version 1.0 file: magic, version, u16 header length, header, data. The
// header text is given as written; padding to the 64-byte boundary is added.
std::string npy_v1(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

std::string i64s(std::initializer_list<int64_t> values) {
  std::string s;
  for (int64_t v : values) s.append(reinterpret_cast<const char*>(&v), 8);
  return s;
}

std::string read_error(const std::string& bytes) {
  TempFile file(bytes);
  return error_of([&] { read_npy(file.path); });
}

const std::string kDictI8 = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";

}  // namespace

TEST_CASE("npy: a version 1.0 file as numpy.save writes it") {
  // np.save(f, np.array([1, 2, -3])): 60 spaces of padding (20 of them
  // numpy's room to grow the first dim) and a newline end the header at 128.
  std::string bytes = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + kDictI8 + std::string(60, ' ') + "\n" +
                      std::string("\x01\x00\x00\x00\x00\x00\x00\x00"
                                  "\x02\x00\x00\x00\x00\x00\x00\x00"
                                  "\xfd\xff\xff\xff\xff\xff\xff\xff",
                                  24);
  REQUIRE(bytes.size() == 128 + 24);
  TempFile file(bytes);
  NpyArray a = read_npy(file.path);
  CHECK(a.dtype == "<i8");
  CHECK(a.shape == std::vector<uint64_t>{3});
  CHECK(a.count() == 3);
  CHECK(a.data.size() == 24);
  CHECK(read_npy_ids(file.path) == std::vector<int64_t>{1, 2, -3});

  // Writing the same array gives back numpy's bytes exactly.
  TempFile out;
  int64_t values[3] = {1, 2, -3};
  write_npy(out.path, "<i8", {3}, values);
  CHECK(slurp(out.path) == bytes);
}

TEST_CASE("npy: a version 2.0 file (numpy's format.write_array with version=(2, 0))") {
  // float32 [[1, 2], [-1.5, 0.5]]: u32 header length 116, data at 128.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  std::string bytes = std::string("\x93NUMPY\x02\x00\x74\x00\x00\x00", 12) + dict + std::string(56, ' ') + "\n" +
                      std::string("\x00\x00\x80\x3f"
                                  "\x00\x00\x00\x40"
                                  "\x00\x00\xc0\xbf"
                                  "\x00\x00\x00\x3f",
                                  16);
  REQUIRE(bytes.size() == 128 + 16);
  TempFile file(bytes);
  std::vector<uint64_t> shape;
  std::vector<float> v = read_npy_f32(file.path, &shape);
  CHECK(shape == std::vector<uint64_t>{2, 2});
  CHECK(v == std::vector<float>{1.0f, 2.0f, -1.5f, 0.5f});

  // 3.0 is 2.0 with a utf8 header.
  bytes[6] = 3;
  TempFile v3(bytes);
  CHECK(read_npy_f32(v3.path) == v);
}

TEST_CASE("npy: header variants numpy would read") {
  std::string data = i64s({4, 5, 6});
  SUBCASE("keys in any order, double quotes, no trailing comma, odd whitespace") {
    TempFile f(npy_v1("{ \"shape\" :(3 ,) ,'fortran_order':False,\t'descr':\"<i8\"}", data));
    CHECK(read_npy(f.path).shape == std::vector<uint64_t>{3});
  }
  SUBCASE("Python 2 long suffixes") {
    TempFile f(npy_v1("{'descr': '<i8', 'fortran_order': False, 'shape': (1L, 3L), }", data));
    CHECK(read_npy(f.path).shape == std::vector<uint64_t>{1, 3});
    CHECK(read_npy_ids(f.path) == std::vector<int64_t>{4, 5, 6});
  }
  SUBCASE("a trailing comma inside a multi-dimensional shape") {
    TempFile f(npy_v1("{'descr': '<i8', 'fortran_order': False, 'shape': (3, 1,), }", data));
    CHECK(read_npy(f.path).shape == std::vector<uint64_t>{3, 1});
  }
  SUBCASE("0-d: one element, empty shape") {
    TempFile f(npy_v1("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", i64s({42})));
    NpyArray a = read_npy(f.path);
    CHECK(a.shape.empty());
    CHECK(a.count() == 1);
  }
  SUBCASE("an empty array") {
    TempFile f(npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 7), }", ""));
    NpyArray a = read_npy(f.path);
    CHECK(a.count() == 0);
    CHECK(a.data.empty());
  }
  SUBCASE("a header without the final newline") {
    std::string header = kDictI8;
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header + data;
    TempFile f(bytes);
    CHECK(read_npy(f.path).count() == 3);
  }
}

TEST_CASE("npy: unsupported content is named") {
  TempFile f(npy_v1("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0')));
  CHECK(error_of([&] { read_npy(f.path); }) == f.path + ": unsupported dtype '>f8' (expected <i8, <i4 or <f4)");
  CHECK_CONTAINS(read_error(npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, 0))),
                 "unsupported dtype '<f8'");
  CHECK_CONTAINS(read_error(npy_v1("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", std::string(1, 0))),
                 "unsupported dtype '|u1'");
  CHECK_CONTAINS(read_error(npy_v1("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "")),
                 "unsupported dtype (structured");
  CHECK_CONTAINS(read_error(npy_v1("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", std::string(16, 0))),
                 "fortran_order True is not supported");
  CHECK_CONTAINS(read_error(std::string("\x93NUMPY\x04\x00\x10\x00\x00\x00", 10) + std::string(64, ' ')),
                 "unsupported .npy format version 4.0");
  CHECK_CONTAINS(read_error(std::string("\x93NUMPY\x01\x01\x10\x00", 10) + std::string(64, ' ')),
                 "unsupported .npy format version 1.1");
}

TEST_CASE("npy: truncated and oversized files") {
  std::string good = npy_v1(kDictI8, i64s({1, 2, 3}));
  CHECK_CONTAINS(read_error(""), "truncated .npy file (0 bytes)");
  CHECK_CONTAINS(read_error(good.substr(0, 4)), "truncated .npy file (4 bytes)");
  CHECK_CONTAINS(read_error(good.substr(0, 9)), "truncated .npy file (9 bytes)");
  CHECK_CONTAINS(read_error(std::string("\x93NUMPY\x02\x00\x10\x00", 10)), "truncated .npy file (10 bytes)");
  CHECK_CONTAINS(read_error(good.substr(0, 100)), "truncated .npy file (header of 118 bytes, file of 100)");
  CHECK_CONTAINS(read_error(good.substr(0, good.size() - 1)), "truncated .npy file (shape (3,) needs 24 data bytes, found 23)");
  CHECK_CONTAINS(read_error(good + "x"), "1 unexpected bytes after the data of shape (3,)");
  // A header length of 4 GiB in a tiny file must not be allocated.
  CHECK_CONTAINS(read_error(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14)), "header of 4294967295 bytes");
  // Nor a shape whose byte count overflows.
  CHECK_CONTAINS(read_error(npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "")),
                 "is too large");
  CHECK_CONTAINS(read_error(npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", "")),
                 "shape dimension too large");
}

TEST_CASE("npy: malformed files and headers") {
  CHECK_CONTAINS(read_error("PK\x03\x04 not numpy at all"), "not a .npy file (bad magic)");
  CHECK_CONTAINS(read_error("\x93NUMPX"), "bad magic");
  CHECK_ERROR(read_npy("/nonexistent/ids.npy"), "/nonexistent/ids.npy: cannot open");

  const char* bad_headers[][2] = {
      {"", "expected '{'"},
      {"'descr': '<i8'", "expected '{'"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (3,), ", "expected a quoted string"},
      {"{'descr': '<i8', 'fortran_order': False}", "missing key 'shape'"},
      {"{'fortran_order': False, 'shape': (3,)}", "missing key 'descr'"},
      {"{'descr': '<i8', 'shape': (3,)}", "missing key 'fortran_order'"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (3,), 'extra': 1}", "unexpected key 'extra'"},
      {"{'descr': '<i8', 'descr': '<i8', 'fortran_order': False, 'shape': (3,)}", "key 'descr' appears twice"},
      {"{'descr': '<i8', 'fortran_order': False, 'fortran_order': False, 'shape': (3,)}", "appears twice"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (3,), 'shape': (3,)}", "appears twice"},
      {"{'descr': '<i8', 'fortran_order': 0, 'shape': (3,)}", "fortran_order must be True or False"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (3)}", "shape must be a tuple"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': [3]}", "expected '('"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (-3,)}", "non-negative integers"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (3.0,)}", "expected ',' or ')' in shape"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (3,,)}", "non-negative integers"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (3,", "non-negative integers"},
      {"{'descr': '<i8' 'fortran_order': False, 'shape': (3,)}", "expected ',' or '}'"},
      {"{'descr' '<i8', 'fortran_order': False, 'shape': (3,)}", "expected ':'"},
      {"{'descr': '<i8, 'fortran_order': False, 'shape': (3,)}", "expected ',' or '}'"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (3,)} x", "unexpected characters after the dict"},
      {"{'descr': '<i\\x38', 'fortran_order': False, 'shape': (3,)}", "unsupported character in string"},
      {"{'descr': '<i8", "unsupported character in string"},  // the padding's newline
  };
  for (const auto& c : bad_headers) {
    INFO("header: ", c[0]);
    std::string msg = read_error(npy_v1(c[0], i64s({1, 2, 3})));
    CHECK_CONTAINS(msg, "malformed .npy header");
    CHECK_CONTAINS(msg, c[1]);
  }
  std::string cut = "{'descr': '<i8";  // no padding at all
  CHECK_CONTAINS(read_error(std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(cut.size()) + '\0' + cut),
                 "malformed .npy header: unterminated string");
}

TEST_CASE("npy: write_npy round trips and aligns the data like numpy") {
  SUBCASE("float32, several ranks") {
    std::vector<float> v = {1.5f, -2.0f, 3.25f, 0.0f, 1e-8f, -7.0f};
    for (const std::vector<uint64_t>& shape :
         {std::vector<uint64_t>{6}, std::vector<uint64_t>{2, 3}, std::vector<uint64_t>{1, 2, 3}}) {
      TempFile f;
      write_npy(f.path, "<f4", shape, v.data());
      std::string bytes = slurp(f.path);
      CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
      CHECK((bytes.size() - 24) % 64 == 0);  // the data starts on a 64-byte boundary
      CHECK(bytes[bytes.size() - 25] == '\n');
      std::vector<uint64_t> got_shape;
      CHECK(read_npy_f32(f.path, &got_shape) == v);
      CHECK(got_shape == shape);
    }
  }
  SUBCASE("int32 ids, a 0-d value and an empty array") {
    int32_t ids[4] = {0, 5, -1, 2147483647};
    TempFile f;
    write_npy(f.path, "<i4", {1, 4}, ids);
    CHECK(read_npy_ids(f.path) == std::vector<int64_t>{0, 5, -1, 2147483647});

    TempFile scalar;
    float x = 9.5f;
    write_npy(scalar.path, "<f4", {}, &x);
    std::vector<uint64_t> shape{7};
    CHECK(read_npy_f32(scalar.path, &shape) == std::vector<float>{9.5f});
    CHECK(shape.empty());
    CHECK(slurp(scalar.path).size() == 128 + 4);

    TempFile empty;
    write_npy(empty.path, "<f4", {0, 3}, nullptr);
    CHECK(read_npy(empty.path).count() == 0);
  }
  SUBCASE("a header over 64 KiB moves to version 2.0") {
    std::vector<uint64_t> shape(22000, 1);  // "1, " each: more than 65535 characters
    float x = 4.0f;
    TempFile f;
    write_npy(f.path, "<f4", shape, &x);
    std::string bytes = slurp(f.path);
    CHECK(bytes[6] == 2);
    CHECK((bytes.size() - 4) % 64 == 0);
    std::vector<uint64_t> got;
    CHECK(read_npy_f32(f.path, &got) == std::vector<float>{4.0f});
    CHECK(got == shape);
  }
  SUBCASE("an unsupported dtype leaves no file behind") {
    TempFile f;
    double d = 1;
    CHECK_ERROR(write_npy(f.path, "<f8", {1}, &d), "cannot write dtype '<f8'");
    CHECK_FALSE(test::exists(f.path));
  }
  SUBCASE("an unwritable path") {
    float x = 0;
    CHECK_ERROR(write_npy("/nonexistent/dir/out.npy", "<f4", {1}, &x), "cannot create");
  }
}

TEST_CASE("npy: read_npy_ids and read_npy_f32 insist on their dtype and shape") {
  TempFile floats(npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", std::string(8, '\0')));
  CHECK_ERROR(read_npy_ids(floats.path), "token ids must be integers (<i8 or <i4), not '<f4'");
  TempFile matrix(npy_v1("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", std::string(48, '\0')));
  CHECK_ERROR(read_npy_ids(matrix.path), "token ids must have shape (n,) or (1, n), not (2, 3)");
  TempFile scalar(npy_v1("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", std::string(8, '\0')));
  CHECK_ERROR(read_npy_ids(scalar.path), "not ()");
  TempFile ints(npy_v1(kDictI8, i64s({1, 2, 3})));
  CHECK_ERROR(read_npy_f32(ints.path), "expected dtype <f4 (float32), not '<i8'");
}

TEST_CASE("npy: the tiny-mlm reference files, and writing them back byte for byte") {
  const std::string dir = test::testdata_dir() + "/tiny-mlm/";
  NpyArray ids = read_npy(dir + "input_ids.npy");
  CHECK(ids.dtype == "<i8");
  CHECK(ids.shape == std::vector<uint64_t>{64});
  CHECK(read_npy_ids(dir + "input_ids.npy").size() == 64);

  std::vector<uint64_t> shape;
  std::vector<float> hidden = read_npy_f32(dir + "last_hidden_state.npy", &shape);
  CHECK(shape == std::vector<uint64_t>{64, 64});
  CHECK(hidden.size() == 64 * 64);

  for (const char* name : {"input_ids.npy", "last_hidden_state.npy", "logits.npy"}) {
    INFO(name);
    NpyArray a = read_npy(dir + name);
    TempFile copy;
    write_npy(copy.path, a.dtype, a.shape, a.data.data());
    CHECK(slurp(copy.path) == slurp(dir + name));
  }
}
