// The reader of `pytorch_model.bin` (torch.save's zip format): the real
// checkpoints of testdata/hf convert to the very same .nyf bytes from the .bin
// alone as from model.safetensors; views of shared storages at offsets and
// with strides are gathered in row-major order; and every way the archive or
// the pickle can be wrong or hostile gives a nystrom::Error naming it.
// There is no PyTorch here, so the archives are written by hand with
// torch_save_writer.h.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "convert/pickle.h"
#include "convert/safetensors.h"
#include "convert/torch_bin.h"
#include "convert/zip.h"
#include "nystrom/nystrom.h"
#include "support.h"
#include "torch_save_writer.h"

using nystrom::SafeTensor;
using nystrom::TorchBinFile;
using namespace torchsave;

namespace {

std::vector<float> iota(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(i);
  return v;
}

using test::error_of;
using test::write_file;

// The archive written to a file of its own, opened.
struct BinFile {
  test::TempDir dir;
  std::string path;
  explicit BinFile(const std::string& bytes) : path(dir / "pytorch_model.bin") { write_file(path, bytes); }
};

std::string open_error(const std::string& bytes) {
  BinFile file(bytes);
  return error_of([&] { TorchBinFile t(file.path); });
}

std::vector<float> values_f32(const SafeTensor& t) {
  REQUIRE(t.dtype == "F32");
  std::vector<float> v(t.nbytes / 4);
  std::memcpy(v.data(), t.data, t.nbytes);
  return v;
}

// A small valid state dict and archive, for the corruption tests: a view,
// a strided view of the same storage, a tied (memo) reference.
std::string small_pickle() {
  PickleWriter w;
  w.op('}').op('(').str("a");
  write_tensor(w, {"", "0", 6, 0, {2, 3}, {3, 1}});
  w.put(1).str("b");
  write_tensor(w, {"", "0", 6, 1, {2, 2}, {1, 3}});
  w.str("c");
  write_tensor(w, {"", "1", 4, 1, {3}, {1}});
  w.str("tied").get(1).op('u');
  return w.stop();
}
const std::map<std::string, std::string>& small_storages() {
  static const std::map<std::string, std::string> s = {{"0", floats(iota(6))}, {"1", floats({9, 8, 7, 6})}};
  return s;
}
std::string small_archive(const ZipStyle& style = ZipStyle()) {
  return torch_zip(small_pickle(), small_storages(), "archive", style);
}

using test::convert;

}  // namespace

// ---------------------------------------------------------------------------
// The real checkpoints.

TEST_CASE("torch bin: each reference .bin converts alone to the same .nyf bytes as its model.safetensors") {
  int cases = 0;
  for (const std::string& name : test::reference_cases()) {
    const std::string src = test::testdata_dir() + "/" + name;
    if (!test::exists(src + "/pytorch_model.bin")) continue;
    CAPTURE(name);
    ++cases;
    test::TempDir bin_only, out;
    write_file(bin_only / "config.json", test::slurp(src + "/config.json"));
    write_file(bin_only / "pytorch_model.bin", test::slurp(src + "/pytorch_model.bin"));
    test::RunResult from_st = convert(src, out / "st.nyf");
    REQUIRE_MESSAGE(from_st.exit_code == 0, from_st.err);
    test::RunResult from_bin = convert(bin_only.path, out / "bin.nyf");
    REQUIRE_MESSAGE(from_bin.exit_code == 0, from_bin.err);
    const std::string a = test::slurp(out / "st.nyf"), b = test::slurp(out / "bin.nyf");
    CHECK(a.size() > 1000);
    CHECK(a == b);
  }
  CHECK(cases == 2);  // tiny-mlm and small-cls ship a pytorch_model.bin
}

TEST_CASE("torch bin: every tensor of a reference .bin equals the safetensors one; the written-out tie shares bytes") {
  for (const std::string& name : {std::string("tiny-mlm"), std::string("small-cls")}) {
    CAPTURE(name);
    const std::string dir = test::testdata_dir() + "/" + name;
    REQUIRE_MESSAGE(test::exists(dir + "/pytorch_model.bin"), "test data missing at " << dir);
    nystrom::SafetensorsFile st(dir + "/model.safetensors");
    TorchBinFile bin = nystrom::read_torch_bin(dir + "/pytorch_model.bin");
    for (const SafeTensor& s : st.tensors()) {
      CAPTURE(s.name);
      const SafeTensor* t = bin.find(s.name);
      REQUIRE(t != nullptr);
      CHECK(t->dtype == s.dtype);
      CHECK(t->shape == s.shape);
      REQUIRE(t->nbytes == s.nbytes);
      CHECK(std::memcmp(t->data, s.data, s.nbytes) == 0);
    }
    if (name == "tiny-mlm") {
      // torch.save writes the tied decoder out as the same tensor object.
      const SafeTensor* dec = bin.find("cls.predictions.decoder.weight");
      const SafeTensor* word = bin.find("nystromformer.embeddings.word_embeddings.weight");
      REQUIRE(dec != nullptr);
      REQUIRE(word != nullptr);
      CHECK(dec->data == word->data);
      CHECK(dec->shape == word->shape);
      CHECK(bin.tensors().size() == st.tensors().size() + 2);  // + decoder.weight, decoder.bias
    }
  }
}

TEST_CASE("torch bin: a checkpoint whose .bin lacks a tensor fails naming pytorch_model.bin and the tensor") {
  const std::string src = test::testdata_dir() + "/tiny-mlm";
  nystrom::SafetensorsFile st(src + "/model.safetensors");
  std::vector<View> views;
  std::map<std::string, std::string> storages;
  for (const SafeTensor& t : st.tensors()) {
    if (t.name == "nystromformer.encoder.layer.1.output.dense.bias") continue;
    View v;
    v.name = t.name;
    v.key = std::to_string(views.size());
    v.numel = t.nbytes / 4;
    int64_t stride = 1;
    v.size.assign(t.shape.begin(), t.shape.end());
    v.stride.assign(t.shape.size(), 1);
    for (size_t i = t.shape.size(); i-- > 0;) v.stride[i] = stride, stride *= int64_t(t.shape[i]);
    storages[v.key] = std::string(reinterpret_cast<const char*>(t.data), t.nbytes);
    views.push_back(v);
  }
  test::TempDir ck, out;
  write_file(ck / "config.json", test::slurp(src + "/config.json"));
  write_file(ck / "pytorch_model.bin", torch_zip(state_dict(views), storages, "pytorch_model"));
  test::RunResult r = convert(ck.path, out / "m.nyf");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("pytorch_model.bin") != std::string::npos);
  CHECK(r.err.find("encoder.layer.1.output.dense.bias") != std::string::npos);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK_FALSE(test::exists(out / "m.nyf"));
}

TEST_CASE("torch bin: a folder whose only checkpoint is a broken .bin fails with one line naming it") {
  test::TempDir ck, out;
  write_file(ck / "config.json", test::slurp(test::testdata_dir() + "/tiny-mlm/config.json"));
  write_file(ck / "pytorch_model.bin", "PK\x03\x04 not really a zip");
  test::RunResult r = convert(ck.path, out / "m.nyf");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("pytorch_model.bin") != std::string::npos);
  CHECK(r.err.find("model.safetensors") != std::string::npos);
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

// ---------------------------------------------------------------------------
// Views, storages and dtypes.

TEST_CASE("torch bin: views of one shared storage at offsets and with strides are gathered row-major") {
  const std::vector<float> storage = iota(24);
  std::vector<View> views = {
      {"transposed", "s", 24, 2, {3, 4}, {1, 3}},         // a column-major view at offset 2
      {"rows", "s", 24, 12, {2, 3}, {3, 1}},              // contiguous, at offset 12
      {"every_other", "s", 24, 1, {2, 3}, {12, 2}},       // strided in both dimensions
      {"broadcast", "s", 24, 20, {2, 2}, {0, 1}},         // stride 0 repeats a row
      {"permuted", "s", 24, 0, {4, 2, 3}, {1, 12, 4}},    // a (2,3,4) tensor permuted to (4,2,3)
      {"scalar", "s", 24, 23, {}, {}},                    // zero dimensions: one element
      {"empty", "s", 24, 0, {0, 5}, {5, 1}},              // no elements
  };
  PickleWriter w;
  w.op('}').op('(');
  for (const View& v : views) {
    w.str(v.name);
    write_tensor(w, v);
    if (v.name == "transposed") w.put(900);
  }
  w.str("tied").get(900);  // the same tensor object under a second name
  w.op('u');
  BinFile file(torch_zip(w.stop(), {{"s", floats(storage)}}));
  TorchBinFile bin(file.path);

  REQUIRE(bin.tensors().size() == views.size() + 1);
  CHECK(bin.tensors()[0].name == "transposed");
  CHECK(bin.tensors().back().name == "tied");

  const SafeTensor* t = bin.find("transposed");
  REQUIRE(t != nullptr);
  CHECK(t->shape == std::vector<uint64_t>{3, 4});
  CHECK(values_f32(*t) == std::vector<float>{2, 5, 8, 11, 3, 6, 9, 12, 4, 7, 10, 13});
  CHECK(values_f32(*bin.find("rows")) == std::vector<float>{12, 13, 14, 15, 16, 17});
  CHECK(values_f32(*bin.find("every_other")) == std::vector<float>{1, 3, 5, 13, 15, 17});
  CHECK(values_f32(*bin.find("broadcast")) == std::vector<float>{20, 21, 20, 21});

  std::vector<float> permuted = values_f32(*bin.find("permuted"));
  REQUIRE(permuted.size() == 24);
  int wrong = 0;
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 3; ++c) wrong += permuted[size_t(a * 6 + b * 3 + c)] != float(a + 12 * b + 4 * c);
  CHECK(wrong == 0);

  const SafeTensor* scalar = bin.find("scalar");
  REQUIRE(scalar != nullptr);
  CHECK(scalar->shape.empty());
  CHECK(values_f32(*scalar) == std::vector<float>{23});
  const SafeTensor* empty = bin.find("empty");
  REQUIRE(empty != nullptr);
  CHECK(empty->shape == std::vector<uint64_t>{0, 5});
  CHECK(empty->nbytes == 0);

  const SafeTensor* tied = bin.find("tied");
  REQUIRE(tied != nullptr);
  CHECK(tied->data == t->data);
  CHECK(tied->shape == t->shape);
}

TEST_CASE("torch bin: half, bfloat16 and long storages give F16, BF16 and I64 tensors") {
  const std::string half = u16(0x3C00) + u16(0x4000) + u16(0xC200);  // 1, 2, -3
  const std::string bf16 = u16(0x3F80) + u16(0x4040);                 // 1, 3
  const std::string longs = u64(5) + u64(uint64_t(-7)) + u64(uint64_t(1) << 40);
  View h{"h", "h", 3, 0, {2}, {2}, "HalfStorage"};  // elements 0 and 2
  View b{"b", "b", 2, 0, {2}, {1}, "BFloat16Storage"};
  View l{"l", "l", 3, 1, {1, 2}, {2, 1}, "LongStorage"};
  BinFile file(torch_zip(state_dict({h, b, l}), {{"h", half}, {"b", bf16}, {"l", longs}}, "model"));
  TorchBinFile bin(file.path);
  const SafeTensor* th = bin.find("h");
  REQUIRE(th != nullptr);
  CHECK(th->dtype == "F16");
  CHECK(std::string(reinterpret_cast<const char*>(th->data), th->nbytes) == u16(0x3C00) + u16(0xC200));
  const SafeTensor* tb = bin.find("b");
  REQUIRE(tb != nullptr);
  CHECK(tb->dtype == "BF16");
  CHECK(std::string(reinterpret_cast<const char*>(tb->data), tb->nbytes) == bf16);
  const SafeTensor* tl = bin.find("l");
  REQUIRE(tl != nullptr);
  CHECK(tl->dtype == "I64");
  CHECK(tl->shape == std::vector<uint64_t>{1, 2});
  CHECK(std::string(reinterpret_cast<const char*>(tl->data), tl->nbytes) == longs.substr(8));
}

TEST_CASE("torch bin: an OrderedDict with torch's _metadata, _rebuild_parameter and ZIP64 with descriptors load") {
  // torch.save(model.state_dict()): OrderedDict() REDUCE, SETITEMS, then
  // BUILD with {'_metadata': OrderedDict(...)}; a Parameter is wrapped in
  // _rebuild_parameter(tensor, requires_grad, hooks).
  PickleWriter w;
  w.global("collections", "OrderedDict").op(')').op('R').op('(');
  w.str("weight").global("torch._utils", "_rebuild_parameter").op('(');
  write_tensor(w, {"", "0", 4, 0, {2, 2}, {2, 1}});
  w.op('\x88').global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
  w.str("bias");
  write_tensor(w, {"", "1", 2, 0, {2}, {1}});
  w.op('u');
  w.op('}').str("_metadata").global("collections", "OrderedDict").op(')').op('R');
  w.str("").op('}').str("version").integer(1).op('s').op('s');  // _metadata[''] = {'version': 1}
  w.op('s').op('b');                                             // BUILD
  ZipStyle style;
  style.zip64 = true;
  style.descriptor = true;
  style.comment = "a comment after the directory";
  BinFile file(torch_zip(w.stop(), {{"0", floats({1, 2, 3, 4})}, {"1", floats({5, 6})}}, "my_model", style));
  TorchBinFile bin(file.path);
  REQUIRE(bin.tensors().size() == 2);
  CHECK(values_f32(*bin.find("weight")) == std::vector<float>{1, 2, 3, 4});
  CHECK(values_f32(*bin.find("bias")) == std::vector<float>{5, 6});
}

// ---------------------------------------------------------------------------
// The ZIP layer.

TEST_CASE("torch bin: zip CRC-32 gives the IEEE check value") {
  CHECK(nystrom::crc32_ieee("123456789", 9) == 0xCBF43926u);
  CHECK(nystrom::crc32_ieee("", 0) == 0u);
  // In pieces, across the 8-byte fast path.
  const std::string text = "The quick brown fox jumps over the lazy dog";
  CHECK(nystrom::crc32_ieee(text.data(), text.size()) == 0x414FA339u);
  CHECK(nystrom::crc32_ieee(text.data() + 11, text.size() - 11, nystrom::crc32_ieee(text.data(), 11)) == 0x414FA339u);
}

TEST_CASE("torch bin: zip entries list names, data offsets and sizes, and data() returns the bytes") {
  for (bool zip64 : {false, true}) {
    CAPTURE(zip64);
    ZipStyle style;
    style.zip64 = zip64;
    const std::string bytes = zip_bytes({{"a/one", "hello"}, {"a/two", ""}, {"a/three", std::string(1000, 'x')}}, style);
    nystrom::ZipArchive zip(std::vector<uint8_t>(bytes.begin(), bytes.end()), "mem.zip");
    REQUIRE(zip.entries().size() == 3);
    CHECK(zip.entries()[0].name == "a/one");
    CHECK(zip.entries()[0].size == 5);
    CHECK(bytes.substr(zip.entries()[0].data_offset, 5) == "hello");
    CHECK(zip.data("a/one") == "hello");
    CHECK(zip.data("a/two").empty());
    CHECK(zip.data("a/three") == std::string(1000, 'x'));
    CHECK(zip.find("a/four") == nullptr);
    CHECK_ERROR(zip.data("a/four"), "no entry 'a/four'");
  }
}

TEST_CASE("torch bin: a compressed (deflate) zip entry is refused naming the entry and the method") {
  View a{"a", "0", 2, 0, {2}, {1}};
  const std::string bytes = zip_bytes({{"archive/data.pkl", state_dict({a})},
                                       {"archive/data/0", floats({1, 2}), 8}});
  const std::string msg = open_error(bytes);
  CHECK_CONTAINS(msg, "'archive/data/0' is compressed (method 8, deflate)");
  CHECK_CONTAINS(msg, "pytorch_model.bin");
  CHECK_CONTAINS(open_error(zip_bytes({{"archive/data.pkl", state_dict({}), 8}})), "method 8");
}

TEST_CASE("torch bin: a zip entry whose CRC-32 does not match is refused") {
  View a{"a", "0", 2, 0, {2}, {1}};
  std::vector<ZipItem> items = {{"archive/data.pkl", state_dict({a})}, {"archive/data/0", floats({1, 2})}};
  items[1].bad_crc = true;
  const std::string msg = open_error(zip_bytes(items));
  CHECK_CONTAINS(msg, "'archive/data/0' is corrupt: CRC-32");
  items[1].bad_crc = false;
  items[0].bad_crc = true;
  CHECK_CONTAINS(open_error(zip_bytes(items)), "'archive/data.pkl' is corrupt: CRC-32");
}

TEST_CASE("torch bin: every truncation of an archive is refused as a zip error") {
  for (bool zip64 : {false, true}) {
    ZipStyle style;
    style.zip64 = zip64;
    const std::string bytes = small_archive(style);
    REQUIRE(error_of([&] { BinFile f(bytes); TorchBinFile t(f.path); }) == "(no error)");
    int not_zip_errors = 0;
    for (size_t len = 0; len < bytes.size(); ++len) {
      const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(len));
      const std::string msg = error_of([&] { TorchBinFile t(cut, "t.bin"); });
      if (msg.find("zip:") == std::string::npos) {
        ++not_zip_errors;
        INFO("length " << len << ": " << msg);
        CHECK(false);
      }
    }
    CHECK(not_zip_errors == 0);
  }
  CHECK_CONTAINS(open_error(""), "too short");
  CHECK_CONTAINS(open_error(std::string(100, 'x')), "no end of central directory");
}

TEST_CASE("torch bin: any single corrupted byte of an archive loads or fails with an Error, never worse") {
  for (bool zip64 : {false, true}) {
    ZipStyle style;
    style.zip64 = zip64;
    style.descriptor = zip64;
    const std::string bytes = small_archive(style);
    int loaded = 0, refused = 0;
    for (size_t at = 0; at < bytes.size(); ++at) {
      for (uint8_t x : {uint8_t(0xFF), uint8_t(0x01), uint8_t(0x80)}) {
        std::string bad = bytes;
        bad[at] = char(bad[at] ^ x);
        // Anything but nystrom::Error escapes error_of and fails the test.
        const std::string msg = error_of([&] { TorchBinFile t(std::vector<uint8_t>(bad.begin(), bad.end()), "t.bin"); });
        (msg == "(no error)" ? loaded : refused) += 1;
        CHECK(msg.find('\n') == std::string::npos);
      }
    }
    CHECK(refused > 0);
    MESSAGE("zip64 " << zip64 << ": " << loaded << " corruptions still loaded (bytes the format ignores), "
                     << refused << " refused");
  }
}

TEST_CASE("torch bin: any corrupted or truncated data.pkl (with a matching CRC) loads or fails with an Error") {
  const std::string pkl = small_pickle();
  {
    const std::string good = torch_zip(pkl, small_storages());
    TorchBinFile bin(std::vector<uint8_t>(good.begin(), good.end()), "good");
    REQUIRE(bin.tensors().size() == 4);
    CHECK(values_f32(*bin.find("b")) == std::vector<float>{1, 4, 2, 5});
  }
  int loaded = 0, refused = 0;
  auto attempt = [&](const std::string& program) {
    const std::string bytes = torch_zip(program, small_storages());
    // Anything but nystrom::Error escapes error_of and fails the test.
    const std::string msg = error_of([&] { TorchBinFile t(std::vector<uint8_t>(bytes.begin(), bytes.end()), "f"); });
    (msg == "(no error)" ? loaded : refused) += 1;
    CHECK(msg.find('\n') == std::string::npos);
  };
  for (size_t at = 0; at < pkl.size(); ++at) {
    attempt(pkl.substr(0, at));
    for (uint8_t x : {uint8_t(0xFF), uint8_t(0x01), uint8_t(0x10), uint8_t(0x80)}) {
      std::string bad = pkl;
      bad[at] = char(bad[at] ^ x);
      attempt(bad);
    }
  }
  CHECK(refused > 0);
  MESSAGE(loaded << " corrupted pickles still loaded, " << refused << " refused");
}

TEST_CASE("torch bin: archives without data.pkl, with duplicate entries or in the legacy format are refused") {
  CHECK_CONTAINS(open_error(zip_bytes({{"archive/other", "x"}})), "no <folder>/data.pkl");
  CHECK_CONTAINS(open_error(zip_bytes({{"archive/data.pkl", state_dict({})}, {"archive/data.pkl", "x"}})),
                 "appears twice");
  CHECK_CONTAINS(open_error(zip_bytes({{"a/data.pkl", state_dict({})}, {"b/data.pkl", state_dict({})}})),
                 "two pickles");
  const std::string legacy = std::string("\x80\x02\x8a\x0a", 4) + std::string(64, '\0');
  CHECK_CONTAINS(open_error(legacy), "legacy");
  CHECK_ERROR(TorchBinFile(std::vector<uint8_t>(legacy.begin(), legacy.end()), "mem"), "mem: this is the legacy");
  CHECK_CONTAINS(open_error(zip_bytes({{"archive/data.pkl", state_dict({})}, {"archive/byteorder", "big"}})),
                 "byte order");
  // An empty state dict is a valid archive with no tensors.
  BinFile empty(zip_bytes({{"archive/data.pkl", state_dict({})}}));
  CHECK(TorchBinFile(empty.path).tensors().empty());
}

// ---------------------------------------------------------------------------
// The pickle layer.

TEST_CASE("torch bin: a pickle naming any global outside the allow-list is refused by name") {
  PickleWriter w;
  w.global("os", "system").str("echo hacked").op('\x85').op('R');
  CHECK_CONTAINS(open_error(torch_zip(w.stop(), {})), "pickle: refusing to load global 'os system'");

  // Via STACK_GLOBAL (protocol 4) too, and a storage type not on the list.
  PickleWriter w4;
  w4.str("builtins").str("eval").op('\x93');
  CHECK_CONTAINS(open_error(torch_zip(w4.stop(), {})), "refusing to load global 'builtins eval'");
  View v{"a", "0", 2, 0, {2}, {1}, "IntStorage"};
  CHECK_CONTAINS(open_error(torch_zip(state_dict({v}), {{"0", floats({1, 2})}})),
                 "refusing to load global 'torch IntStorage'");
}

TEST_CASE("torch bin: unknown opcodes, stack underflow and other malformed pickles are refused") {
  auto pickle_error = [](const std::string& program) { return open_error(torch_zip(program, {})); };
  CHECK_CONTAINS(pickle_error(std::string("\x80\x02\xff.", 4)), "unknown or unsupported opcode 0xff");
  CHECK_CONTAINS(pickle_error("\x80\x02ios\nsystem\n."), "unknown or unsupported opcode 0x69 'i'");  // INST
  CHECK_CONTAINS(pickle_error("\x80\x02s."), "stack underflow");                    // SETITEM on nothing
  CHECK_CONTAINS(pickle_error("\x80\x02N\x86."), "stack underflow");                // TUPLE2 of one value
  CHECK_CONTAINS(pickle_error("\x80\x02}(R."), "stack underflow");                  // REDUCE below the MARK
  CHECK_CONTAINS(pickle_error("\x80\x02t."), "no MARK");
  CHECK_CONTAINS(pickle_error("\x80\x02h\x05."), "memo key 5 was never stored");
  CHECK_CONTAINS(pickle_error("\x80\x02}"), "ended without STOP");
  CHECK_CONTAINS(pickle_error("\x80\x02X\xff\xff\xff\x7f" "abc."), "runs past the end of the pickle");
  CHECK_CONTAINS(pickle_error("\x80\x02N)R."), "cannot call a None");
  CHECK_CONTAINS(pickle_error("\x80\x02]."), "not a state dict");
  CHECK_CONTAINS(pickle_error("\x80\x02}NN."), "more than one value");
}

TEST_CASE("torch bin: state dict values that are not tensors are refused by name") {
  PickleWriter w;
  w.op('}').str("w").integer(3).op('s');
  CHECK_CONTAINS(open_error(torch_zip(w.stop(), {})), "tensor 'w': is a int, not a tensor");
  PickleWriter k;
  k.op('}').integer(1).integer(3).op('s');
  CHECK_CONTAINS(open_error(torch_zip(k.stop(), {})), "key is a int");
}

TEST_CASE("torch bin: pickle stack depth and memo size are limited") {
  std::string deep = "\x80\x02";
  for (int i = 0; i < 200; ++i) deep += 'N';
  deep += '.';
  nystrom::pickle::Limits limits;
  limits.max_stack = 100;
  CHECK_ERROR(nystrom::pickle::Pickle(deep, {}, "deep.pkl", limits),
              "deep.pkl: pickle: the stack is deeper than the limit of 100");
  std::string marks = "\x80\x02" + std::string(200, '(') + ".";
  CHECK_ERROR(nystrom::pickle::Pickle(marks, {}, "marks.pkl", limits), "deeper than the limit");

  std::string memo = "\x80\x02N";
  for (int i = 0; i < 20; ++i) memo += "q" + std::string(1, char(i));
  memo += '.';
  limits.max_memo = 10;
  CHECK_ERROR(nystrom::pickle::Pickle(memo, {}, "memo.pkl", limits), "more than the limit of 10");
  limits.max_memo = 20;
  CHECK(error_of([&] { nystrom::pickle::Pickle p(memo, {}, "memo.pkl", limits); }) == "(no error)");
}

// A list of `count` one-int tuples, appended in batches: 3 bytes of pickle
// per element, each building two values.
std::string tuples_pickle(size_t count) {
  std::string p = "\x80\x02]";
  for (size_t done = 0; done < count; done += 1000) {
    p += '(';
    for (size_t i = done; i < std::min(count, done + 1000); ++i) p += "K\x01\x85";
    p += 'e';
  }
  return p + '.';
}

TEST_CASE("torch bin: a pickle's working memory is bounded: 64 MiB or 8x the file, whichever is more") {
  const std::string p = tuples_pickle(20000);  // 60 kB that build some 6 MB of values
  nystrom::pickle::Limits limits;
  limits.max_memory = 1 << 20;
  CHECK_ERROR(nystrom::pickle::Pickle(p, {}, "tuples.pkl", limits),
              "tuples.pkl: pickle: building it would take more than the limit of 1 MiB of working memory");
  CHECK(error_of([&] { nystrom::pickle::Pickle ok(p, {}, "tuples.pkl"); }) == "(no error)");
  // A checkpoint of 800 kB whose pickle would take ~80 MB (the issue's
  // 8.4 MB pickle took 441 MB): refused, naming the file, in one line.
  const std::string msg = open_error(torch_zip(tuples_pickle(270000), {}));
  CHECK(msg.find("pytorch_model.bin: archive/data.pkl: pickle: building it would take more than the limit of 64 MiB "
                 "of working memory") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
}

TEST_CASE("torch bin: pickle values: ints of every width, floats, strings, lists and shared memo entries") {
  PickleWriter w;
  w.op('(');
  w.integer(7).integer(300).integer(-5).integer(int64_t(1) << 40).integer(-(int64_t(1) << 40));
  w.s += std::string("\x8a\x00", 2);                                  // LONG1 of zero bytes: 0
  w.s += std::string("\x8a\x02\x00\x80", 4);                          // LONG1 -32768
  w.s += 'G' + std::string("\x3f\xf8\x00\x00\x00\x00\x00\x00", 8);    // BINFLOAT 1.5
  w.s += std::string("\x8c\x03", 2) + "abc";                          // SHORT_BINUNICODE
  w.op('\x88').op('N').op(']').put(1).integer(1).op('a').get(1);      // [1] twice, shared
  w.op('t');
  nystrom::pickle::Pickle p(w.stop(), {}, "values.pkl");
  using nystrom::pickle::Kind;
  const auto& items = p.root().items;
  REQUIRE(p.root().is(Kind::Tuple));
  REQUIRE(items.size() == 13);
  CHECK(items[0]->integer == 7);
  CHECK(items[1]->integer == 300);
  CHECK(items[2]->integer == -5);
  CHECK(items[3]->integer == int64_t(1) << 40);
  CHECK(items[4]->integer == -(int64_t(1) << 40));
  CHECK(items[5]->integer == 0);
  CHECK(items[6]->integer == -32768);
  CHECK(items[7]->number == 1.5);
  CHECK(items[8]->text == "abc");
  CHECK(items[9]->boolean);
  CHECK(items[10]->is(Kind::None));
  CHECK(items[11] == items[12]);
  CHECK(items[11]->items.size() == 1);
}

// ---------------------------------------------------------------------------
// Views that do not fit their storage.

TEST_CASE("torch bin: a view reaching past its storage, or a storage larger than its entry, is refused") {
  const std::map<std::string, std::string> s = {{"0", floats(iota(24))}};
  auto view_error = [&](const View& v) { return open_error(torch_zip(state_dict({v}), s)); };
  CHECK_CONTAINS(view_error({"w", "0", 24, 0, {5, 5}, {5, 1}}), "tensor 'w': the view");
  CHECK_CONTAINS(view_error({"w", "0", 24, 0, {5, 5}, {5, 1}}), "reaches past the end of storage '0', which holds 24");
  CHECK_CONTAINS(view_error({"w", "0", 24, 24, {1}, {1}}), "reaches past the end");
  CHECK_CONTAINS(view_error({"w", "0", 24, 1, {4, 6}, {6, 1}}), "reaches past the end");
  CHECK_CONTAINS(view_error({"w", "0", 24, 0, {2}, {int64_t(1) << 62}}), "reaches past the end");
  CHECK(view_error({"w", "0", 24, 0, {3, 8}, {1, 3}}) == "(no error)");  // last index 2*1 + 7*3 = 23 fits
  CHECK_CONTAINS(view_error({"w", "0", 24, 1, {3, 8}, {1, 3}}), "reaches past the end");  // from offset 1: 24
  CHECK_CONTAINS(view_error({"w", "0", 25, 0, {25}, {1}}), "holds 96 bytes, too few for 25 F32 elements");
  CHECK_CONTAINS(view_error({"w", "7", 24, 0, {2}, {1}}), "storage '7' is missing");
  CHECK_CONTAINS(view_error({"w", "0", 24, -1, {2}, {1}}), "negative");
  CHECK_CONTAINS(view_error({"w", "0", 24, 0, {2}, {-1}}), "negative");
  CHECK_CONTAINS(view_error({"w", "0", 24, 0, {2, 2}, {1}}), "2 dimensions but the stride 1");
  CHECK_CONTAINS(view_error({"w", "0", 24, 0, {int64_t(1) << 40, int64_t(1) << 40}, {0, 0}}), "too large");
  // A huge broadcast view fits its storage but would need far too much memory.
  CHECK_CONTAINS(view_error({"w", "0", 24, 0, {int64_t(1) << 30, 64}, {0, 0}}), "limit");
}
