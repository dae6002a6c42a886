// The safetensors reader: what a valid file gives back, and that every way a
// header can lie about the data is caught with a message naming the tensor.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "convert/safetensors.h"
#include "nystrom/nystrom.h"
#include "support.h"

using nystrom::SafeTensor;
using nystrom::SafetensorsFile;

namespace {

using test::error_of;
using test::TempFile;

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// A safetensors file: length, header, data.
std::string safetensors_bytes(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) s.append(reinterpret_cast<const char*>(&v), 4);
  return s;
}

// Error message from opening a file with this header over `data_size` zero bytes.
std::string open_error(const std::string& header, size_t data_size = 64) {
  TempFile file(safetensors_bytes(header, std::string(data_size, '\0')));
  return error_of([&] { SafetensorsFile st(file.path); });
}

}  // namespace

TEST_CASE("safetensors: a valid file lists its tensors in header order with their bytes") {
  std::string data = floats({1, 2, 3, 4, 5, 6});
  int64_t ids[2] = {7, -9};
  data.append(reinterpret_cast<const char*>(ids), sizeof ids);
  std::string header =
      R"({"__metadata__": {"format": "pt"},)"
      R"( "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},)"
      R"( "ids": {"data_offsets": [24, 40], "shape": [2], "dtype": "I64"}})";
  header.append(5, ' ');  // writers pad the header with spaces to align the data
  TempFile file(safetensors_bytes(header, data));

  SafetensorsFile st(file.path);
  CHECK(st.path() == file.path);
  REQUIRE(st.tensors().size() == 2);
  const SafeTensor& w = st.tensors()[0];
  CHECK(w.name == "w");
  CHECK(w.dtype == "F32");
  CHECK(w.shape == std::vector<uint64_t>{2, 3});
  CHECK(w.nbytes == 24);
  float got[6];
  std::memcpy(got, w.data, sizeof got);
  CHECK(got[0] == 1.0f);
  CHECK(got[5] == 6.0f);

  const SafeTensor* t = st.find("ids");
  REQUIRE(t != nullptr);
  CHECK(t == &st.tensors()[1]);
  CHECK(t->dtype == "I64");
  CHECK(t->shape == std::vector<uint64_t>{2});
  int64_t got_ids[2];
  std::memcpy(got_ids, t->data, sizeof got_ids);
  CHECK(got_ids[0] == 7);
  CHECK(got_ids[1] == -9);

  CHECK(st.find("missing") == nullptr);
  CHECK(st.find("__metadata__") == nullptr);
}

TEST_CASE("safetensors: scalars, empty tensors and every known dtype") {
  std::string header =
      R"({"s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},)"
      R"( "e": {"dtype": "F16", "shape": [0, 1000000], "data_offsets": [4, 4]},)"
      R"( "i32": {"dtype": "I32", "shape": [1], "data_offsets": [4, 8]},)"
      R"( "f64": {"dtype": "F64", "shape": [1], "data_offsets": [8, 16]},)"
      R"( "bf16": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [16, 24]},)"
      R"( "i16": {"dtype": "I16", "shape": [4], "data_offsets": [24, 32]},)"
      R"( "i8": {"dtype": "I8", "shape": [8], "data_offsets": [32, 40]},)"
      R"( "u8": {"dtype": "U8", "shape": [8], "data_offsets": [40, 48]},)"
      R"( "bool": {"dtype": "BOOL", "shape": [8], "data_offsets": [48, 56]},)"
      R"( "u16": {"dtype": "U16", "shape": [4], "data_offsets": [56, 64]},)"
      R"( "u32": {"dtype": "U32", "shape": [2], "data_offsets": [64, 72]},)"
      R"( "u64": {"dtype": "U64", "shape": [1], "data_offsets": [72, 80]}})";
  TempFile file(safetensors_bytes(header, floats({2.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})));
  SafetensorsFile st(file.path);
  CHECK(st.tensors().size() == 12);
  CHECK(st.find("s")->shape.empty());
  CHECK(st.find("s")->nbytes == 4);
  CHECK(st.find("e")->nbytes == 0);
  CHECK(nystrom::safetensors_dtype_size("BF16") == 2);
  CHECK(nystrom::safetensors_dtype_size("F8_E4M3") == 0);
}

TEST_CASE("safetensors: tensors whose byte ranges overlap are refused (an empty one may sit anywhere)") {
  const std::string msg = open_error(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                                     R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})");
  CHECK(msg.find("tensors 'a' and 'b' overlap in the data area (bytes 0..8 and 4..12)") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
  // The same bytes twice (an alias) overlap too.
  CHECK(open_error(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                   R"( "b": {"dtype": "I32", "shape": [1], "data_offsets": [0, 4]}})")
            .find("overlap") != std::string::npos);
  CHECK(open_error(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                   R"( "e": {"dtype": "F32", "shape": [0], "data_offsets": [2, 2]},)"
                   R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})") == "(no error)");
}

TEST_CASE("safetensors: moving the file keeps tensor pointers valid") {
  TempFile file(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", floats({3})));
  SafetensorsFile a(file.path);
  const uint8_t* before = a.find("w")->data;
  SafetensorsFile b(std::move(a));
  CHECK(b.find("w")->data == before);
  float v;
  std::memcpy(&v, b.find("w")->data, 4);
  CHECK(v == 3.0f);
}

TEST_CASE("safetensors: offsets are read exactly, even beyond 2^53") {
  // 2^53 + 1 cannot be held by a double; the message must show it unrounded.
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "U8", "shape": [9007199254740993],)"
                            R"( "data_offsets": [0, 9007199254740993]}})"),
                 "data_offsets end 9007199254740993 is beyond the data area (64 bytes)");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 9223372036854775807]}})"),
                 "end 9223372036854775807 is beyond");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 18446744073709551616]}})"),
                 "data_offsets end must be an integer");
}

TEST_CASE("safetensors: the file's framing is checked before anything is allocated from it") {
  SUBCASE("shorter than the length field") {
    TempFile file(std::string("\x05\x00\x00", 3));
    CHECK_ERROR(SafetensorsFile(file.path), "too short for a safetensors file (3 bytes)");
  }
  SUBCASE("empty") {
    TempFile file(std::string{});
    CHECK_ERROR(SafetensorsFile(file.path), "too short for a safetensors file (0 bytes)");
  }
  SUBCASE("header length beyond the file") {
    TempFile file(u64_le(100) + "{}");
    std::string msg = error_of([&] { SafetensorsFile st(file.path); });
    CHECK_CONTAINS(msg, file.path);
    CHECK_CONTAINS(msg, "header length 100 exceeds the file size (10 bytes)");
  }
  SUBCASE("a huge header length") {
    TempFile file(u64_le(UINT64_MAX) + "{}");
    CHECK_ERROR(SafetensorsFile(file.path), "header length 18446744073709551615 exceeds");
  }
  SUBCASE("a missing file") {
    CHECK_ERROR(SafetensorsFile("/nonexistent/dir/model.safetensors"),
                "/nonexistent/dir/model.safetensors: cannot open");
  }
  SUBCASE("a directory") {
    const char* dir = std::getenv("TMPDIR");
    std::string d = (dir && *dir) ? dir : "/tmp";
    CHECK_ERROR(SafetensorsFile(d), "not a regular file");
  }
}

TEST_CASE("safetensors: header JSON errors") {
  CHECK_CONTAINS(open_error("{\"w\": "), "JSON syntax error at line 1, column 7");
  CHECK_CONTAINS(open_error(""), "JSON syntax error");
  CHECK_CONTAINS(open_error("[]"), "header must be a JSON object, not array");
  // A header cut short by its own length: the JSON is valid only in the data area.
  TempFile file(u64_le(3) + "{\"a\": 1}");
  CHECK_ERROR(SafetensorsFile(file.path), "JSON syntax error");
}

TEST_CASE("safetensors: each malformed entry is reported with the file and the tensor") {
  TempFile file(safetensors_bytes(R"({"bad.weight": 5})", ""));
  std::string msg = error_of([&] { SafetensorsFile st(file.path); });
  CHECK(msg == file.path + ": tensor 'bad.weight': entry must be an object, not number");

  CHECK_CONTAINS(open_error(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})"), "tensor 'w': missing dtype");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})"), "tensor 'w': missing shape");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1]}})"), "tensor 'w': missing data_offsets");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}})"),
                 "tensor 'w': dtype must be a string");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}})"),
                 "tensor 'w': unsupported dtype 'F8_E4M3'");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]}})"),
                 "tensor 'w': shape must be an array of integers");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})"),
                 "tensor 'w': shape dimension must not be negative");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})"),
                 "tensor 'w': shape dimension must be an integer");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})"),
                 "tensor 'w': shape dimension must be an integer");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": {"a": 0}}})"),
                 "tensor 'w': data_offsets must be an array of two integers");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})"),
                 "tensor 'w': data_offsets must be an array of two integers");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})"),
                 "tensor 'w': data_offsets begin must not be negative");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}})"),
                 "tensor 'w': data_offsets end must be an integer");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})"),
                 "tensor 'w': data_offsets begin 8 is after end 4");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [64, 68]}})", 64),
                 "tensor 'w': data_offsets end 68 is beyond the data area (64 bytes)");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})"),
                 "tensor 'w': data_offsets span 20 bytes but F32 of this shape needs 24");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}})"),
                 "needs 8");  // too much is as wrong as too little
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})"),
                 "tensor 'w': shape is too large");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})"),
                 "tensor 'w': shape is too large");
  CHECK_CONTAINS(open_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                            R"( "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})"),
                 "tensor 'w': listed twice");
}

TEST_CASE("safetensors: the tiny-mlm test checkpoint") {
  SafetensorsFile st(test::testdata_dir() + "/tiny-mlm/model.safetensors");
  const SafeTensor* w = st.find("nystromformer.embeddings.word_embeddings.weight");
  REQUIRE(w != nullptr);
  CHECK(w->dtype == "F32");
  CHECK(w->shape == std::vector<uint64_t>{512, 64});
  CHECK(w->nbytes == 512 * 64 * 4);
  CHECK(st.tensors().front().name == "nystromformer.embeddings.word_embeddings.weight");
  const SafeTensor* q = st.find("nystromformer.encoder.layer.0.attention.self.query.weight");
  REQUIRE(q != nullptr);
  CHECK(q->shape == std::vector<uint64_t>{64, 64});
}
