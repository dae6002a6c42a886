// The .nyf model file (include/nystrom/format.h): what write_model_file puts
// in it comes back from ModelFile unchanged and 64-byte aligned, and every
// damaged, foreign or too-new file is refused with a message that says why.
// Also the NYH64 checksum against a from-the-description implementation.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "format/checksum.h"
#include "format/model_file.h"
#include "nystrom/format.h"
#include "nystrom/nystrom.h"
#include "small_config.h"
#include "support.h"

using nystrom::ModelConfig;
using nystrom::ModelFile;
using nystrom::TensorData;
namespace format = nystrom::format;

namespace {

// NYH64 exactly as include/nystrom/format.h describes it, written from the
// text alone: four lanes, 32-byte stripes (the last zero-padded), lane i
// takes little-endian word i of each stripe, then the merge and avalanche.
uint64_t nyh64_from_description(const std::string& bytes) {
  const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
  auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  uint64_t v[4] = {P1 + P2, P2, 0, 0 - P1};
  for (size_t at = 0; at < bytes.size(); at += 32) {
    unsigned char stripe[32] = {};
    for (size_t i = 0; i < 32 && at + i < bytes.size(); ++i) stripe[i] = (unsigned char)bytes[at + i];
    for (int lane = 0; lane < 4; ++lane) {
      uint64_t w = 0;
      for (int b = 7; b >= 0; --b) w = (w << 8) | stripe[lane * 8 + b];
      v[lane] = rotl(v[lane] + w * P2, 31) * P1;
    }
  }
  uint64_t h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18) + (uint64_t)bytes.size();
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P1;
  h ^= h >> 32;
  return h;
}

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A small, valid classifier configuration; the loader checks the config but
// not the tensor list (that is Model's job), so any tensors will do. Sizes
// differ from each other and activation, eps and a label from the defaults,
// so a field read into the wrong place shows.
ModelConfig sample_config() {
  ModelConfig c = test::small_config(8, nystrom::HeadType::Classifier);
  c.vocab_size = 10;
  c.intermediate_size = 16;
  c.max_positions = 12;
  c.num_landmarks = 4;
  c.segment_means_len = 12;
  c.activation = nystrom::Activation::GeluErf;
  c.layer_norm_eps = 1e-6f;
  c.labels = {"negative", "positive", "n\xc3\xa9utre"};
  return c;
}

// Sizes chosen so that every tensor but the last is followed by padding.
std::vector<TensorData> sample_tensors() {
  std::vector<TensorData> t;
  t.push_back({"first", format::DType::F32, {3}, float_bytes(test::random_vector(3, 1))});
  t.push_back({"second.weight", format::DType::F32, {2, 5}, float_bytes(test::random_vector(10, 2))});
  t.push_back(
      {std::string(63, 'n'), format::DType::F32, {1, 2, 3, 4}, float_bytes(test::random_vector(24, 3))});
  t.push_back({"last", format::DType::F32, {16}, float_bytes(test::random_vector(16, 4))});
  return t;
}

using test::error_of;
using test::write_file;

std::string open_error(const std::string& path, bool verify = true) {
  return error_of([&] { ModelFile f(path, verify); });
}

// The message holds phrase, on one line (as every error's is).
#define CHECK_ONE_LINE_CONTAINS(message, phrase)                                \
  do {                                                                          \
    const std::string line_ = (message);                                        \
    CHECK_CONTAINS(line_, phrase);                                              \
    CHECK_MESSAGE(line_.find('\n') == std::string::npos, "message: " << line_); \
  } while (0)

// A valid sample file, its bytes and parsed header, and ways to damage it.
struct Sample {
  test::TempDir dir;
  std::string path = dir / "model.nyf";
  std::string bytes;
  format::FileHeader header{};

  explicit Sample(const std::vector<TensorData>& tensors = sample_tensors()) {
    nystrom::write_model_file(path, sample_config(), tensors);
    bytes = test::slurp(path);
    REQUIRE(bytes.size() >= sizeof header);
    std::memcpy(&header, bytes.data(), sizeof header);
  }
  format::TensorEntry entry(size_t i) const {
    format::TensorEntry e;
    std::memcpy(&e, bytes.data() + header.tensor_table_offset + i * sizeof e, sizeof e);
    return e;
  }
  void set_entry(size_t i, const format::TensorEntry& e) {
    std::memcpy(&bytes[header.tensor_table_offset + i * sizeof e], &e, sizeof e);
  }
  void set_header(const format::FileHeader& h) { std::memcpy(&bytes[0], &h, sizeof h); }
  // Recomputes the checksum, as a writer of a (hypothetical) valid file would.
  void reseal() {
    uint64_t sum = nystrom::nyh64(bytes.data() + 16, bytes.size() - 16);
    std::memcpy(&bytes[8], &sum, 8);
  }
  void flip_bit(size_t at, int bit = 0) { bytes[at] = char(bytes[at] ^ (1 << bit)); }
  // Writes the (modified) bytes to a new file and returns the load error.
  std::string error(bool verify = true) {
    const std::string damaged = dir / "damaged.nyf";
    write_file(damaged, bytes);
    return open_error(damaged, verify);
  }
};

}  // namespace

TEST_CASE("nyf: NYH64 matches a direct implementation of its description, with golden values") {
  // Golden values computed once with nyh64_from_description above.
  CHECK(nyh64_from_description("") == 0x6871e6fe549303b5ull);
  CHECK(nyh64_from_description("abc") == 0xca051ca0cef2e1e4ull);
  CHECK(nystrom::nyh64("", 0) == 0x6871e6fe549303b5ull);
  CHECK(nystrom::nyh64("abc", 3) == 0xca051ca0cef2e1e4ull);
  // Every stripe boundary case: 0..3 stripes, partial stripes, lengths 31/32/33.
  std::mt19937 rng(7);
  std::string data(200, '\0');
  for (char& ch : data) ch = char(rng());
  for (size_t len = 0; len <= data.size(); ++len) {
    CAPTURE(len);
    CHECK(nystrom::nyh64(data.data(), len) == nyh64_from_description(data.substr(0, len)));
  }
}

TEST_CASE("nyf: NYH64 depends on the length, not only on the padded stripes") {
  // "abc" and "abc\0" pad to the same stripe; the length term tells them apart.
  CHECK(nystrom::nyh64("abc", 3) != nystrom::nyh64("abc\0", 4));
  CHECK(nystrom::nyh64("abc", 3) != nystrom::nyh64("abd", 3));
}

TEST_CASE("nyf: NYH64 fed piecewise equals NYH64 of the whole input") {
  std::mt19937 rng(8);
  std::vector<uint8_t> data(1000);
  for (uint8_t& b : data) b = uint8_t(rng());
  const uint64_t whole = nystrom::nyh64(data.data(), data.size());
  // Fixed cut patterns around the 32-byte stripe, then random ones.
  std::vector<std::vector<size_t>> cut_sets = {{0},   {1},           {31},         {32},
                                               {33},  {0, 0, 0},     {1, 1, 1},    {5, 27, 32, 64},
                                               {999}, {500, 0, 499}, {13, 19, 31}, {63, 1, 64}};
  for (int r = 0; r < 20; ++r) {
    std::vector<size_t> cuts;
    for (int i = 0; i < 8; ++i) cuts.push_back(rng() % 70);
    cut_sets.push_back(cuts);
  }
  for (const auto& pieces : cut_sets) {
    nystrom::Nyh64 h;
    size_t at = 0;
    for (size_t len : pieces) {
      len = std::min(len, data.size() - at);
      h.update(data.data() + at, len);
      at += len;
    }
    h.update(data.data() + at, data.size() - at);
    CHECK(h.finish() == whole);
    CHECK(h.finish() == whole);  // finish() leaves the state alone
  }
}

TEST_CASE("nyf: a written model file reads back the same configuration, labels and tensors, in order") {
  test::TempDir dir;
  const std::string path = dir / "m.nyf";
  const ModelConfig c = sample_config();
  const std::vector<TensorData> tensors = sample_tensors();
  nystrom::write_model_file(path, c, tensors);

  ModelFile f(path);
  CHECK(f.version() == 1);
  CHECK(f.path() == path);
  const ModelConfig& r = f.config();
  CHECK(r.vocab_size == c.vocab_size);
  CHECK(r.hidden_size == c.hidden_size);
  CHECK(r.num_layers == c.num_layers);
  CHECK(r.num_heads == c.num_heads);
  CHECK(r.intermediate_size == c.intermediate_size);
  CHECK(r.max_positions == c.max_positions);
  CHECK(r.type_vocab_size == c.type_vocab_size);
  CHECK(r.num_landmarks == c.num_landmarks);
  CHECK(r.segment_means_len == c.segment_means_len);
  CHECK(r.conv_kernel == c.conv_kernel);
  CHECK(r.position_offset == c.position_offset);
  CHECK(r.activation == c.activation);
  CHECK(r.head == c.head);
  CHECK(r.layer_norm_eps == c.layer_norm_eps);
  CHECK(r.labels == c.labels);

  REQUIRE(f.tensors().size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const nystrom::TensorView& v = f.tensors()[i];
    CAPTURE(tensors[i].name);
    CHECK(v.name == tensors[i].name);
    CHECK(v.dtype == tensors[i].dtype);
    CHECK(v.shape == tensors[i].shape);
    CHECK(v.size == tensors[i].bytes.size());
    CHECK(reinterpret_cast<uintptr_t>(v.data) % 64 == 0);
    CHECK(std::memcmp(v.data, tensors[i].bytes.data(), tensors[i].bytes.size()) == 0);
    CHECK(f.find(tensors[i].name) == &v);
  }
  CHECK(f.find("no.such.tensor") == nullptr);
}

TEST_CASE("nyf: a written model file follows the documented byte layout and checksum") {
  Sample s;
  const format::FileHeader& h = s.header;
  CHECK(std::memcmp(h.magic, "NYFMODEL", 8) == 0);
  CHECK(h.version == 1);
  CHECK(h.header_size == 256);
  CHECK(h.file_size == s.bytes.size());
  CHECK(h.tensor_table_offset % 64 == 0);
  CHECK(h.tensor_count == 4);
  CHECK(h.tensor_entry_size == 128);
  CHECK(h.config.num_labels == 3);
  CHECK(h.checksum == nyh64_from_description(s.bytes.substr(16)));
  const std::string labels = s.bytes.substr(h.labels_offset, h.labels_size);
  CHECK(labels == std::string("negative\0positive\0n\xc3\xa9utre\0", 26));
  for (size_t i = 0; i < h.tensor_count; ++i) {
    format::TensorEntry e = s.entry(i);
    CHECK(e.offset % 64 == 0);
    CHECK(e.reserved == 0);
  }
}

TEST_CASE("nyf: a model without labels writes an empty label section") {
  test::TempDir dir;
  ModelConfig c = sample_config();
  c.head = nystrom::HeadType::MaskedLM;
  c.labels.clear();
  nystrom::write_model_file(dir / "m.nyf", c, sample_tensors());
  ModelFile f(dir / "m.nyf");
  CHECK(f.config().labels.empty());
  CHECK(f.config().head == nystrom::HeadType::MaskedLM);
}

TEST_CASE("nyf: write_model_file refuses what the format cannot hold and leaves no file behind") {
  test::TempDir dir;
  const std::string path = dir / "m.nyf";
  std::vector<TensorData> t = sample_tensors();
  SUBCASE("a name of 64 bytes") {
    t[0].name = std::string(64, 'x');
    CHECK_ONE_LINE_CONTAINS(error_of([&] { nystrom::write_model_file(path, sample_config(), t); }), "name");
  }
  SUBCASE("data that does not match the shape") {
    t[1].bytes.pop_back();
    CHECK_ONE_LINE_CONTAINS(error_of([&] { nystrom::write_model_file(path, sample_config(), t); }), "second.weight");
  }
  SUBCASE("an invalid configuration") {
    ModelConfig c = sample_config();
    c.num_heads = 3;  // does not divide hidden_size 8
    CHECK_ONE_LINE_CONTAINS(error_of([&] { nystrom::write_model_file(path, c, t); }), "num_attention_heads");
  }
  CHECK_FALSE(test::exists(path));
  CHECK(test::run("ls -A '" + dir.path + "'").out.empty());  // no temporary either
}

TEST_CASE("nyf: loading a missing file fails with a message naming it") {
  test::TempDir dir;
  const std::string path = dir / "absent.nyf";
  std::string msg = open_error(path);
  CHECK_ONE_LINE_CONTAINS(msg, path);
  CHECK_ONE_LINE_CONTAINS(msg, "cannot open");
}

TEST_CASE("nyf: loading an empty file fails") {
  test::TempDir dir;
  write_file(dir / "empty.nyf", "");
  CHECK_ONE_LINE_CONTAINS(open_error(dir / "empty.nyf"), "empty");
}

TEST_CASE("nyf: loading a file that is not a model fails on the magic") {
  test::TempDir dir;
  write_file(dir / "x.nyf", std::string("{\"not\": \"a model\"}") + std::string(300, ' '));
  CHECK_ONE_LINE_CONTAINS(open_error(dir / "x.nyf"), "not a .nyf model file");
  write_file(dir / "y.nyf", "NYF");  // shorter than the magic
  CHECK_ONE_LINE_CONTAINS(open_error(dir / "y.nyf"), "not a .nyf model file");
}

TEST_CASE("nyf: loading a truncated model file fails") {
  Sample s;
  SUBCASE("inside the data") {
    s.bytes.resize(s.bytes.size() - 10);
    CHECK_ONE_LINE_CONTAINS(s.error(), "truncated");
  }
  SUBCASE("inside the header") {
    s.bytes.resize(100);
    CHECK_ONE_LINE_CONTAINS(s.error(), "truncated");
  }
}

TEST_CASE("nyf: loading a model file with bytes appended fails") {
  Sample s;
  s.bytes += std::string(64, '\0');
  CHECK_ONE_LINE_CONTAINS(s.error(), "appended");
}

TEST_CASE("nyf: a flipped bit anywhere after the checksum field is a checksum mismatch") {
  Sample s;
  size_t at = 0;
  SUBCASE("in the header's configuration record") { at = offsetof(format::FileHeader, config) + 4; }
  SUBCASE("in the checksum itself") { at = 8; }
  SUBCASE("in the tensor table") { at = s.header.tensor_table_offset + 3; }
  SUBCASE("in the label section") { at = s.header.labels_offset + 1; }
  SUBCASE("in tensor data") { at = s.entry(1).offset + 5; }
  SUBCASE("in the padding between two tensors") {
    format::TensorEntry first = s.entry(0), second = s.entry(1);
    REQUIRE(first.offset + first.size < second.offset);  // 12 bytes of data, then padding
    at = first.offset + first.size + 7;
    REQUIRE(s.bytes[at] == 0);
  }
  SUBCASE("in the padding between the labels and the first tensor") {
    at = s.header.labels_offset + s.header.labels_size;
    REQUIRE(at < s.entry(0).offset);
  }
  CAPTURE(at);
  s.flip_bit(at, 6);
  CHECK_ONE_LINE_CONTAINS(s.error(), "checksum mismatch");
}

TEST_CASE("nyf: ModelFile(path, false) skips the checksum and reads the data as it is") {
  Sample s;
  const format::TensorEntry e = s.entry(3);
  s.flip_bit(e.offset, 0);
  CHECK_ONE_LINE_CONTAINS(s.error(true), "checksum mismatch");
  CHECK(s.error(false) == "(no error)");
  ModelFile f(s.dir / "damaged.nyf", false);
  CHECK(std::memcmp(f.find("last")->data, s.bytes.data() + e.offset, e.size) == 0);
}

TEST_CASE("nyf: a newer format version is refused with a message naming both versions") {
  Sample s;
  format::FileHeader h = s.header;
  h.version = format::kFormatVersion + 1;
  s.set_header(h);
  s.reseal();
  const std::string msg = s.error();
  const std::string after_path = msg.substr(msg.find(".nyf:") + 5);  // the path may hold digits
  INFO("message: " << msg);
  CHECK(after_path.find("version") != std::string::npos);
  CHECK(after_path.find(std::to_string(format::kFormatVersion + 1)) != std::string::npos);
  CHECK(after_path.find(std::to_string(format::kFormatVersion)) != std::string::npos);
  CHECK(after_path.find("newer") != std::string::npos);
}

TEST_CASE("nyf: a damaged version field is a checksum mismatch, not a request to upgrade the engine") {
  Sample s;
  format::FileHeader h = s.header;
  h.version = format::kFormatVersion + 1;
  s.set_header(h);  // not resealed: the bytes no longer match the checksum
  CHECK_ONE_LINE_CONTAINS(s.error(), "checksum mismatch");
  CHECK(s.error().find("upgrade") == std::string::npos);
}

TEST_CASE("nyf: version 0 is refused") {
  Sample s;
  format::FileHeader h = s.header;
  h.version = 0;
  s.set_header(h);
  s.reseal();
  CHECK_ONE_LINE_CONTAINS(s.error(), "version");
}

TEST_CASE("nyf: nonzero reserved fields are refused even with a valid checksum") {
  Sample s;
  format::FileHeader h = s.header;
  std::string phrase = "reserved";
  SUBCASE("header reserved area") {
    h.reserved[17] = 1;
    s.set_header(h);
  }
  SUBCASE("tokenizer section, reserved in version 1") {
    h.tokenizer_offset = 256;
    h.tokenizer_size = 1;
    s.set_header(h);
  }
  SUBCASE("tensor entry reserved word") {
    format::TensorEntry e = s.entry(2);
    e.reserved = 1;
    s.set_entry(2, e);
    phrase = std::string(63, 'n');  // and it names the tensor
  }
  SUBCASE("bytes after a tensor name's NUL") {
    format::TensorEntry e = s.entry(0);
    e.name[40] = 'x';
    s.set_entry(0, e);
    phrase = "first";
  }
  s.reseal();
  const std::string msg = s.error();
  CHECK_ONE_LINE_CONTAINS(msg, phrase);
  CHECK_ONE_LINE_CONTAINS(msg, "reserved");
}

TEST_CASE("nyf: a classifier's problem type is kept; files from before it read as single-label") {
  CHECK(ModelFile(Sample().path).config().problem_type == nystrom::ProblemType::SingleLabel);
  for (nystrom::ProblemType t : {nystrom::ProblemType::MultiLabel, nystrom::ProblemType::Regression}) {
    test::TempDir dir;
    ModelConfig c = sample_config();
    c.problem_type = t;
    nystrom::write_model_file(dir / "m.nyf", c, sample_tensors());
    CHECK(ModelFile(dir / "m.nyf").config().problem_type == t);
  }
}

TEST_CASE("nyf: an unknown problem type, or one without a classifier head, is refused") {
  Sample s;
  format::FileHeader h = s.header;
  h.config.problem_type = 3;
  s.set_header(h);
  s.reseal();
  CHECK_ONE_LINE_CONTAINS(s.error(), "unknown problem type code 3");
  test::TempDir dir;
  ModelConfig c = test::small_config(8);
  c.problem_type = nystrom::ProblemType::MultiLabel;
  CHECK_THROWS_WITH_AS(nystrom::write_model_file(dir / "m.nyf", c, {}),
                       doctest::Contains("without a classifier head"), nystrom::Error);
}

TEST_CASE("nyf: a tensor whose data lies outside the file is refused even with a valid checksum") {
  Sample s;
  format::TensorEntry e = s.entry(3);
  SUBCASE("offset past the end") { e.offset = (s.bytes.size() + 63) / 64 * 64 + 64; }
  SUBCASE("offset plus size past the end") {
    REQUIRE(e.offset + e.size == s.bytes.size());  // the file ends where this tensor's data ends
    e.offset += 64;
  }
  SUBCASE("offset inside the header") { e.offset = 64; }
  SUBCASE("huge offset that would overflow") { e.offset = 0xFFFFFFFFFFFFFFC0ull; }
  s.set_entry(3, e);
  s.reseal();
  const std::string msg = s.error();
  CHECK_ONE_LINE_CONTAINS(msg, "last");
  CHECK_ONE_LINE_CONTAINS(msg, "outside the file");
}

TEST_CASE("nyf: inconsistent tensor entries are refused even with a valid checksum") {
  Sample s;
  format::TensorEntry e = s.entry(1);
  std::string phrase;
  SUBCASE("misaligned data offset") {
    e.offset += 4;
    phrase = "aligned";
  }
  SUBCASE("size that does not match the shape") {
    e.size -= 4;
    phrase = "does not match";
  }
  SUBCASE("unknown dtype code") {
    e.dtype = 99;
    phrase = "dtype";
  }
  SUBCASE("ndim 0") {
    e.ndim = 0;
    phrase = "ndim";
  }
  SUBCASE("a zero dimension") {
    e.shape[1] = 0;
    phrase = "zero";
  }
  SUBCASE("a duplicate name") {
    std::memset(e.name, 0, sizeof e.name);
    std::memcpy(e.name, "first", 5);
    phrase = "twice";
  }
  s.set_entry(1, e);
  s.reseal();
  const std::string msg = s.error();
  CHECK_ONE_LINE_CONTAINS(msg, phrase);
}

// q8_c [rows x cols]: rows * cols codes, then rows f32 scales.
std::vector<uint8_t> q8c_bytes(size_t rows, size_t cols) {
  std::vector<uint8_t> b(rows * cols + 4 * rows);
  for (size_t i = 0; i < rows * cols; ++i) b[i] = (uint8_t)(i * 37);
  for (size_t r = 0; r < rows; ++r) {
    const float s = 0.25f * (float)(r + 1);
    std::memcpy(&b[rows * cols + 4 * r], &s, 4);
  }
  return b;
}

TEST_CASE("nyf: a q8_c tensor is written as version 4 and reads back byte for byte") {
  std::vector<TensorData> t = sample_tensors();
  t.push_back({"pc.weight", format::DType::Q8_C, {3, 64}, q8c_bytes(3, 64)});
  Sample s(t);
  CHECK(s.header.version == 4u);
  ModelFile f(s.path);
  CHECK(f.version() == 4u);
  const nystrom::TensorView* v = f.find("pc.weight");
  REQUIRE(v != nullptr);
  CHECK(v->dtype == format::DType::Q8_C);
  CHECK(v->size == 3u * 64 + 12);
  CHECK(std::memcmp(v->data, t.back().bytes.data(), v->size) == 0);
  CHECK(std::string(format::dtype_name(format::DType::Q8_C)) == "q8_c");
  format::DType parsed = format::DType::F32;
  CHECK(format::parse_dtype("q8_c", &parsed));
  CHECK(parsed == format::DType::Q8_C);
}

TEST_CASE("nyf: write_model_file refuses a q8_c tensor its shape cannot hold") {
  test::TempDir dir;
  auto write_error = [&](const TensorData& bad) {
    std::vector<TensorData> t = sample_tensors();
    t.push_back(bad);
    return error_of([&] { nystrom::write_model_file(dir / "m.nyf", sample_config(), t); });
  };
  CHECK_ONE_LINE_CONTAINS(write_error({"a.weight", format::DType::Q8_C, {2, 48}, q8c_bytes(2, 48)}), "cannot be stored as q8_c");
  CHECK_ONE_LINE_CONTAINS(write_error({"a.weight", format::DType::Q8_C, {64}, q8c_bytes(1, 64)}), "cannot be stored as q8_c");
  CHECK_ONE_LINE_CONTAINS(write_error({"a.weight", format::DType::Q8_C, {1, 65536 + 32}, q8c_bytes(1, 65536 + 32)}),
                          "cannot be stored as q8_c");
  std::vector<uint8_t> short_by_a_scale = q8c_bytes(2, 32);
  short_by_a_scale.resize(short_by_a_scale.size() - 4);
  CHECK_ONE_LINE_CONTAINS(write_error({"a.weight", format::DType::Q8_C, {2, 32}, short_by_a_scale}), "bytes");
  CHECK_FALSE(test::exists(dir / "m.nyf"));
}

TEST_CASE("nyf: a malformed q8_c tensor is refused even with a valid checksum") {
  std::vector<TensorData> t = sample_tensors();
  t.push_back({"pc.weight", format::DType::Q8_C, {4, 32}, q8c_bytes(4, 32)});
  Sample s(t);
  format::TensorEntry e = s.entry(t.size() - 1);
  format::FileHeader h = s.header;
  std::string phrase = "does not match its shape and dtype";
  SUBCASE("the size leaves out the row scales") { e.size = 4 * 32; }
  SUBCASE("a row count its size does not hold") { e.shape[0] = 5; }
  SUBCASE("a column count that is not a multiple of 32") {
    e.shape[0] = 3, e.shape[1] = 48;  // 3 * 48 + 12 = 156 would be the size, were 48 allowed
  }
  SUBCASE("one dimension") {
    e.ndim = 1, e.shape[0] = 4 * 32, e.shape[1] = 0;
  }
  SUBCASE("in a file of version 3") {
    h.version = 3;
    phrase = "q8_c needs format version 4";
  }
  s.set_entry(t.size() - 1, e);
  s.set_header(h);
  s.reseal();
  CHECK_ONE_LINE_CONTAINS(s.error(), phrase);
}

TEST_CASE("nyf: a tensor table that runs past the end of the file is refused") {
  Sample s;
  format::FileHeader h = s.header;
  h.tensor_count = 1000000;
  s.set_header(h);
  s.reseal();
  CHECK_ONE_LINE_CONTAINS(s.error(), "tensor table");
}

TEST_CASE("nyf: Model::open names a required tensor that the file lacks") {
  nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(test::testdata_dir() + "/tiny-exact");
  const std::string gone = "encoder.layer.1.output.LayerNorm.bias";
  size_t before = ck.tensors.size();
  ck.tensors.erase(std::remove_if(ck.tensors.begin(), ck.tensors.end(),
                                  [&](const TensorData& t) { return t.name == gone; }),
                   ck.tensors.end());
  REQUIRE(ck.tensors.size() == before - 1);
  test::TempDir dir;
  nystrom::write_model_file(dir / "m.nyf", ck.config, ck.tensors);
  CHECK(open_error(dir / "m.nyf") == "(no error)");  // the file itself is fine
  std::string msg = error_of([&] { nystrom::Model::open(dir / "m.nyf"); });
  CHECK_ONE_LINE_CONTAINS(msg, "missing tensor " + gone);
}

TEST_CASE("nyf: Model::open names a tensor the configuration has no place for") {
  nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(test::testdata_dir() + "/tiny-exact");
  ck.tensors.push_back({"encoder.layer.7.extra", format::DType::F32, {2}, float_bytes({1.0f, 2.0f})});
  test::TempDir dir;
  nystrom::write_model_file(dir / "m.nyf", ck.config, ck.tensors);
  CHECK_ONE_LINE_CONTAINS(error_of([&] { nystrom::Model::open(dir / "m.nyf"); }), "encoder.layer.7.extra");
}

// ---------------------------------------------------------------------------
// The tokenizer section (format version 3). The reader checks the container
// only, so the files' contents here need not make a tokenizer.

namespace {

// Views of static bytes, so they outlive every use.
std::vector<nystrom::TokenizerFileView> sample_tokenizer_files() {
  static const std::string config("{\"do_lower_case\": true}\0\xff", 25);
  return {{"tokenizer.json", "{\"model\": {\"type\": \"WordLevel\"}}\n"},
          {"tokenizer_config.json", config},
          {"special_tokens_map.json", ""}};
}

template <typename T>
void put_le(std::string& out, T v) {
  for (size_t i = 0; i < sizeof v; ++i) out += char(uint64_t(v) >> (8 * i));
}

// A section written from the description in format.h.
std::string section_from_description(const std::vector<nystrom::TokenizerFileView>& files) {
  std::string s;
  put_le<uint32_t>(s, (uint32_t)files.size());
  for (const auto& f : files) {
    put_le<uint32_t>(s, (uint32_t)f.name.size());
    s += f.name;
    put_le<uint64_t>(s, f.bytes.size());
    s += f.bytes;
  }
  return s;
}

// A version 3 sample whose section can be replaced.
struct TokSample : Sample {
  TokSample() {
    nystrom::write_model_file(path, sample_config(), sample_tensors(), sample_tokenizer_files());
    bytes = test::slurp(path);
    std::memcpy(&header, bytes.data(), sizeof header);
  }
  // Puts `section` where the section is, fixing sizes and the checksum.
  void replace_section(const std::string& section) {
    bytes.resize(header.tokenizer_offset);
    bytes += section;
    header.tokenizer_size = section.size();
    header.file_size = bytes.size();
    set_header(header);
    reseal();
  }
};

}  // namespace

TEST_CASE("nyf: tokenizer files come back from a version 3 file in order, byte for byte") {
  TokSample s;
  CHECK(s.header.version == 3);
  ModelFile f(s.path);
  CHECK(f.version() == 3);
  const auto files = sample_tokenizer_files();
  REQUIRE(f.tokenizer_files().size() == files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    CAPTURE(files[i].name);
    CHECK(f.tokenizer_files()[i].name == files[i].name);
    CHECK(f.tokenizer_files()[i].bytes == files[i].bytes);
  }
  CHECK(f.config().labels == sample_config().labels);
  CHECK(f.tensors().size() == sample_tensors().size());
}

TEST_CASE("nyf: the tokenizer section follows the documented layout and ends the file") {
  TokSample s;
  const format::FileHeader& h = s.header;
  CHECK(h.tokenizer_offset % 64 == 0);
  CHECK(h.tokenizer_offset + h.tokenizer_size == s.bytes.size());
  CHECK(s.bytes.substr(h.tokenizer_offset) == section_from_description(sample_tokenizer_files()));
  CHECK(h.checksum == nyh64_from_description(s.bytes.substr(16)));
  // Everything before it is what the writer writes without a tokenizer:
  // the same table, labels and tensor data at the same offsets.
  Sample plain;
  CHECK(plain.bytes.size() <= h.tokenizer_offset);
  CHECK(s.bytes.substr(256, plain.bytes.size() - 256) == plain.bytes.substr(256));
  CHECK(s.bytes.find_first_not_of('\0', plain.bytes.size()) == h.tokenizer_offset);
}

TEST_CASE("nyf: without a tokenizer the writer writes version 1 or 2, byte for byte as before version 3") {
  // Golden NYH64 values of whole files written by the version 2 writer.
  auto pattern = [](size_t n, unsigned seed) {
    std::vector<uint8_t> b(n);
    for (size_t i = 0; i < n; ++i) b[i] = (uint8_t)(i * 31 + seed * 17 + 7);
    return b;
  };
  std::vector<TensorData> t = {{"first", format::DType::F32, {3}, pattern(12, 1)},
                               {"second.weight", format::DType::F32, {2, 5}, pattern(40, 2)},
                               {"last", format::DType::F32, {16}, pattern(64, 3)}};
  test::TempDir dir;
  nystrom::write_model_file(dir / "v1.nyf", sample_config(), t);
  t[1] = {"second.weight", format::DType::F16, {2, 5}, pattern(20, 2)};
  nystrom::write_model_file(dir / "v2.nyf", sample_config(), t);
  const std::string v1 = test::slurp(dir / "v1.nyf"), v2 = test::slurp(dir / "v2.nyf");
  CHECK(ModelFile(dir / "v1.nyf").version() == 1);
  CHECK(ModelFile(dir / "v2.nyf").version() == 2);
  CHECK(ModelFile(dir / "v2.nyf").tokenizer_files().empty());
  CHECK(v1.size() == 896);
  CHECK(v2.size() == 896);
  CHECK(nystrom::nyh64(v1.data(), v1.size()) == 0x5c5b8a406233d0e4ull);
  CHECK(nystrom::nyh64(v2.data(), v2.size()) == 0xd157e86fccdaf1f9ull);
}

TEST_CASE("nyf: write_model_file refuses tokenizer files the format cannot name") {
  test::TempDir dir;
  const std::string path = dir / "m.nyf";
  auto files = sample_tokenizer_files();
  std::string phrase;
  SUBCASE("an unknown name") {
    files[1].name = "notes.txt";
    phrase = "notes.txt";
  }
  SUBCASE("a name given twice") {
    files[2].name = files[0].name;
    phrase = "twice";
  }
  SUBCASE("more files than the section holds") {
    files.assign(17, files[0]);
    phrase = "17";
  }
  CHECK_ONE_LINE_CONTAINS(error_of([&] { nystrom::write_model_file(path, sample_config(), sample_tensors(), files); }), phrase);
  CHECK_FALSE(test::exists(path));
}

TEST_CASE("nyf: a malformed tokenizer section is refused even with a valid checksum") {
  TokSample s;
  const auto files = sample_tokenizer_files();
  std::string phrase;
  auto with_header = [&](auto change) {
    format::FileHeader h = s.header;
    change(h);
    s.set_header(h);
    s.reseal();
  };
  SUBCASE("tokenizer fields in a version 2 file") {
    with_header([](format::FileHeader& h) { h.version = 2; });
    phrase = "reserved";
  }
  SUBCASE("an offset that is not 64-byte aligned") {
    with_header([](format::FileHeader& h) { h.tokenizer_offset += 8, h.tokenizer_size -= 8; });
    phrase = "aligned";
  }
  SUBCASE("an offset past the end of the file") {
    with_header([](format::FileHeader& h) { h.tokenizer_offset = 0xFFFFFFFFFFFFFFC0ull; });
    phrase = "outside the file";
  }
  SUBCASE("a size past the end of the file") {
    with_header([](format::FileHeader& h) { h.tokenizer_size += 64; });
    phrase = "outside the file";
  }
  SUBCASE("a section that stops before the end of the file") {
    with_header([](format::FileHeader& h) { h.tokenizer_size -= 1; });
    phrase = "does not end the file";
  }
  SUBCASE("a section over the last tensor's data") {
    const format::TensorEntry last = s.entry(3);
    with_header([&](format::FileHeader& h) {
      h.tokenizer_size += h.tokenizer_offset - last.offset;
      h.tokenizer_offset = last.offset;
    });
    phrase = "overlaps";
  }
  SUBCASE("size 0 with an offset") {
    with_header([](format::FileHeader& h) { h.tokenizer_size = 0; });
    phrase = "size 0";
  }
  SUBCASE("no files") {
    s.replace_section(section_from_description({}));
    phrase = "holds 0 files";
  }
  SUBCASE("17 files") {
    std::vector<nystrom::TokenizerFileView> many(17, files[0]);
    s.replace_section(section_from_description(many));
    phrase = "holds 17 files";
  }
  // The sample's files with file i renamed, as the section.
  auto renamed = [&](size_t i, const std::string& name) {
    auto bad = files;
    bad[i].name = name;
    return section_from_description(bad);
  };
  SUBCASE("an unknown name") {
    s.replace_section(renamed(1, "evil.so"));
    phrase = "evil.so";
  }
  SUBCASE("a name twice") {
    s.replace_section(renamed(2, files[1].name));
    phrase = "twice";
  }
  SUBCASE("an empty name") {
    s.replace_section(renamed(0, ""));
    phrase = "name length 0";
  }
  SUBCASE("a name longer than 64 bytes") {
    s.replace_section(renamed(0, std::string(65, 'a')));
    phrase = "name length 65";
  }
  SUBCASE("a name holding a NUL") {
    s.replace_section(renamed(0, std::string("vocab.txt\0", 10)));
    phrase = "not a known tokenizer file";
  }
  SUBCASE("a data size larger than what is left") {
    std::string sec = section_from_description(files);
    sec.resize(sec.size() - 3);  // the last record's data is cut short
    s.replace_section(sec);
    phrase = "truncated";
  }
  SUBCASE("a record cut inside its size field") {
    std::string sec = section_from_description({files[0]});
    sec += section_from_description({files[1]}).substr(4, 4 + 21 + 3);  // length, name, 3 of 8 size bytes
    std::memcpy(&sec[0], "\x02\0\0\0", 4);
    s.replace_section(sec);
    phrase = "truncated";
  }
  SUBCASE("bytes after the last file") {
    s.replace_section(section_from_description(files) + "xyz");
    phrase = "3 bytes after its last file";
  }
  const std::string msg = s.error();
  CHECK_ONE_LINE_CONTAINS(msg, phrase);
  if (phrase != "reserved") CHECK_ONE_LINE_CONTAINS(msg, "tokenizer section");
}

TEST_CASE("nyf: a version 3 file without a tokenizer section reads as having none") {
  Sample s;
  format::FileHeader h = s.header;
  h.version = 3;
  s.set_header(h);
  s.reseal();
  write_file(s.dir / "v3.nyf", s.bytes);
  ModelFile f(s.dir / "v3.nyf");
  CHECK(f.version() == 3);
  CHECK(f.tokenizer_files().empty());
}
