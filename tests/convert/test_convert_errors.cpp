// The converter and the CLI at their edges, through the real tools: every way
// a checkpoint folder can be wrong gives exit status 1, one line on stderr
// naming the problem, and no output (not even a temporary); misuse gives 2.
// Checkpoints are modified copies of testdata/hf/tiny-mlm whose
// model.safetensors is written here byte by byte (8-byte little-endian header
// length, JSON header, data). Also the dtypes and layouts that must convert:
// F16, BF16, a bare encoder without the "nystromformer." prefix, and the
// decoder tie stored or written out.
#include <dirent.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "convert/safetensors.h"
#include "format/half.h"
#include "format/model_file.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "support.h"

namespace {

// ---------------------------------------------------------------------------
// Writing checkpoint folders.

struct StTensor {
  std::string name, dtype;
  std::vector<uint64_t> shape;
  std::string data;  // little-endian bytes
};

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char(v >> (8 * i));
  return s;
}

// The header JSON for these tensors, laid out back to back as HF does.
std::string safetensors_header(const std::vector<StTensor>& tensors) {
  std::string h = R"({"__metadata__":{"format":"pt"})";
  uint64_t at = 0;
  for (const StTensor& t : tensors) {
    h += ",\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i) h += (i ? "," : "") + std::to_string(t.shape[i]);
    h += "],\"data_offsets\":[" + std::to_string(at) + "," + std::to_string(at + t.data.size()) + "]}";
    at += t.data.size();
  }
  h += "}";
  while (h.size() % 8) h += ' ';  // writers pad so the data starts 8-aligned
  return h;
}

std::string safetensors_bytes(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

std::string safetensors_bytes(const std::vector<StTensor>& tensors) {
  std::string data;
  for (const StTensor& t : tensors) data += t.data;
  return safetensors_bytes(safetensors_header(tensors), data);
}

using test::write_file;

const std::string& tiny_mlm_dir() {
  static const std::string dir = test::testdata_dir() + "/tiny-mlm";
  REQUIRE_MESSAGE(test::exists(dir + "/config.json"), "test data missing at " << dir);
  return dir;
}

std::string tiny_mlm_config() { return test::slurp(tiny_mlm_dir() + "/config.json"); }

// tiny-mlm's tensors, in file order, as plain values to edit.
std::vector<StTensor> tiny_mlm_tensors() {
  nystrom::SafetensorsFile st(tiny_mlm_dir() + "/model.safetensors");
  std::vector<StTensor> out;
  for (const nystrom::SafeTensor& t : st.tensors())
    out.push_back({t.name, t.dtype, t.shape, std::string(reinterpret_cast<const char*>(t.data), t.nbytes)});
  return out;
}

StTensor* find(std::vector<StTensor>& tensors, const std::string& name) {
  for (StTensor& t : tensors)
    if (t.name == name) return &t;
  FAIL("no tensor " << name);
  return nullptr;
}

void erase(std::vector<StTensor>& tensors, const std::string& name) {
  StTensor* t = find(tensors, name);
  tensors.erase(tensors.begin() + (t - tensors.data()));
}

// text with its first `from` replaced by `to`; `from` must occur.
std::string replaced(const std::string& text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "'" << from << "' not found");
  return text.substr(0, at) + to + text.substr(at + from.size());
}

// A checkpoint folder (inside a TempDir) holding this config and these bytes.
struct Checkpoint {
  test::TempDir dir;
  Checkpoint(const std::string& config, const std::string& safetensors) {
    if (!config.empty()) write_file(dir / "config.json", config);
    if (!safetensors.empty()) write_file(dir / "model.safetensors", safetensors);
  }
  Checkpoint(const std::string& config, const std::vector<StTensor>& tensors)
      : Checkpoint(config, safetensors_bytes(tensors)) {}
  const std::string& path() const { return dir.path; }
};

// ---------------------------------------------------------------------------
// Running the tools.

using test::convert;
using test::quote;

// Entries of a folder other than . and ..
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE_MESSAGE(d != nullptr, "cannot list " << dir);
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  return names;
}

// Exactly one line, ending in a newline.
bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

// Converting ckpt fails with status 1, a one-line message holding every
// phrase, and nothing left in the output folder.
void check_conversion_fails(const std::string& ckpt, const std::vector<std::string>& phrases) {
  test::TempDir out;
  test::RunResult r = convert(ckpt, out / "model.nyf");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(one_line(r.err));
  for (const std::string& p : phrases) {
    CAPTURE(p);
    CHECK(r.err.find(p) != std::string::npos);
  }
  std::vector<std::string> left = listing(out.path);
  INFO("left in the output folder: " << (left.empty() ? std::string("nothing") : left[0]));
  CHECK(left.empty());
}

// tiny-mlm converted once by the tool, for the CLI tests and comparisons.
const std::string& tiny_mlm_nyf() {
  static test::TempDir dir;
  static std::string path;
  if (path.empty()) {
    test::RunResult r = convert(tiny_mlm_dir(), dir / "tiny-mlm.nyf");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    path = dir / "tiny-mlm.nyf";
  }
  return path;
}

nystrom::Output run_model(const std::string& nyf, const std::vector<int32_t>& ids) {
  nystrom::Session s(nystrom::Model::open(nyf));
  return s.run(ids);
}

using test::cosine;

// Half-precision decoding written from the IEEE 754 definition, to check the
// converter's own conversion independently.
double f16_value(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
  REQUIRE(exp != 31);  // the test data holds no inf / nan
  double v = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
  return sign ? -v : v;
}

uint16_t f32_to_bf16_nearest_even(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}

double bf16_value(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The same tensors with every F32 one re-encoded as 16-bit (F16 or BF16).
std::vector<StTensor> to_16bit(std::vector<StTensor> tensors, const std::string& dtype) {
  for (StTensor& t : tensors) {
    if (t.dtype != "F32") continue;
    std::string out(t.data.size() / 2, '\0');
    for (size_t i = 0; i < t.data.size() / 4; ++i) {
      float f;
      std::memcpy(&f, &t.data[4 * i], 4);
      uint16_t h = dtype == "F16" ? nystrom::float_to_f16(f) : f32_to_bf16_nearest_even(f);
      out[2 * i] = char(h & 0xff), out[2 * i + 1] = char(h >> 8);
    }
    t.dtype = dtype, t.data = out;
  }
  return tensors;
}

}  // namespace

// ---------------------------------------------------------------------------

TEST_CASE("convert: an unmodified hand-written copy of tiny-mlm converts to the same file as the original") {
  // Guards the tests below: they differ from this only in what they break.
  Checkpoint ck(tiny_mlm_config(), tiny_mlm_tensors());
  test::TempDir out;
  test::RunResult r = convert(ck.path(), out / "m.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(test::slurp(out / "m.nyf") == test::slurp(tiny_mlm_nyf()));
  CHECK(listing(out.path) == std::vector<std::string>{"m.nyf"});
}

TEST_CASE("convert: an unknown architecture is named") {
  Checkpoint ck(
      replaced(tiny_mlm_config(), "NystromformerForMaskedLM", "NystromformerForTokenClassification"),
      tiny_mlm_tensors());
  check_conversion_fails(ck.path(), {"config.json", "NystromformerForTokenClassification"});
}

TEST_CASE("convert: a model_type other than nystromformer is refused") {
  Checkpoint ck(replaced(tiny_mlm_config(), "\"model_type\": \"nystromformer\"", "\"model_type\": \"bert\""),
                tiny_mlm_tensors());
  check_conversion_fails(ck.path(), {"config.json", "model_type", "bert"});
}

TEST_CASE("convert: a key repeated in config.json takes its last value, as Hugging Face reads it") {
  // "hidden_act": "swish" first (unsupported, so taking it would fail), the
  // original gelu_new after it.
  Checkpoint ck(replaced(tiny_mlm_config(), "\"hidden_act\"", "\"hidden_act\": \"swish\", \"hidden_act\""),
                tiny_mlm_tensors());
  test::TempDir out;
  test::RunResult r = convert(ck.path(), out / "m.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(test::slurp(out / "m.nyf") == test::slurp(tiny_mlm_nyf()));
}

TEST_CASE("convert: an unsupported hidden_act is named") {
  Checkpoint ck(replaced(tiny_mlm_config(), "\"gelu_new\"", "\"swish\""), tiny_mlm_tensors());
  check_conversion_fails(ck.path(), {"hidden_act", "swish"});
}

TEST_CASE("convert: malformed JSON in config.json is reported with the file") {
  Checkpoint ck(replaced(tiny_mlm_config(), "\"vocab_size\": 512,", "\"vocab_size\": 512,,"),
                tiny_mlm_tensors());
  check_conversion_fails(ck.path(), {"config.json", "line"});
}

TEST_CASE("convert: a missing tensor is named") {
  std::vector<StTensor> t = tiny_mlm_tensors();
  erase(t, "nystromformer.encoder.layer.1.attention.self.conv.weight");
  Checkpoint ck(tiny_mlm_config(), t);
  check_conversion_fails(ck.path(), {"missing", "encoder.layer.1.attention.self.conv.weight"});
}

TEST_CASE("convert: a tensor the configuration has no place for is named") {
  std::vector<StTensor> t = tiny_mlm_tensors();
  t.push_back(
      {"nystromformer.encoder.layer.0.attention.self.extra.weight", "F32", {2}, std::string(8, '\0')});
  Checkpoint ck(tiny_mlm_config(), t);
  check_conversion_fails(ck.path(), {"encoder.layer.0.attention.self.extra.weight"});
}

TEST_CASE("convert: a tensor of the wrong shape is named with both shapes") {
  std::vector<StTensor> t = tiny_mlm_tensors();
  StTensor* bias = find(t, "cls.predictions.bias");
  bias->shape = {511};
  bias->data.resize(511 * 4);
  Checkpoint ck(tiny_mlm_config(), t);
  check_conversion_fails(ck.path(), {"cls.predictions.bias", "511", "512"});
}

TEST_CASE("convert: a tensor with an integer dtype (I32) is named with its dtype") {
  std::vector<StTensor> t = tiny_mlm_tensors();
  find(t, "nystromformer.embeddings.LayerNorm.bias")->dtype = "I32";  // same size as F32
  Checkpoint ck(tiny_mlm_config(), t);
  check_conversion_fails(ck.path(), {"embeddings.LayerNorm.bias", "I32"});
}

TEST_CASE("convert: a weight holding NaN or an infinity is refused, naming the tensor and the element") {
  const float bad[] = {std::nanf(""), INFINITY, -INFINITY};
  const char* what[] = {"NaN", "an infinity", "an infinity"};
  for (int i = 0; i < 3; ++i) {
    std::vector<StTensor> t = tiny_mlm_tensors();
    StTensor* w = find(t, "nystromformer.encoder.layer.1.intermediate.dense.weight");
    std::memcpy(&w->data[4 * 77], &bad[i], 4);
    Checkpoint ck(tiny_mlm_config(), t);
    check_conversion_fails(ck.path(), {"encoder.layer.1.intermediate.dense.weight", what[i], "element 77"});
  }
}

TEST_CASE("convert: a safetensors header that is not JSON is reported with the file") {
  Checkpoint ck(tiny_mlm_config(), safetensors_bytes("{not json at all}       ", std::string(64, '\0')));
  check_conversion_fails(ck.path(), {"model.safetensors"});
}

TEST_CASE("convert: a safetensors header length larger than the file is reported") {
  std::string bytes = safetensors_bytes(tiny_mlm_tensors());
  std::string len = u64_le(bytes.size() + 1000);
  bytes.replace(0, 8, len);
  Checkpoint ck(tiny_mlm_config(), bytes);
  check_conversion_fails(ck.path(), {"model.safetensors"});
}

TEST_CASE("convert: data_offsets beyond the data are reported with the tensor") {
  std::vector<StTensor> t = tiny_mlm_tensors();
  std::string header = safetensors_header(t);
  std::string data;
  for (const StTensor& x : t) data += x.data;
  // Cut the data short: the last tensor's range now runs past the end.
  const std::string& last = t.back().name;
  data.resize(data.size() - 4);
  Checkpoint ck(tiny_mlm_config(), safetensors_bytes(header, data));
  check_conversion_fails(ck.path(), {"model.safetensors", last});
}

TEST_CASE("convert: a folder without config.json is refused") {
  Checkpoint ck("", tiny_mlm_tensors());
  check_conversion_fails(ck.path(), {"config.json"});
}

TEST_CASE("convert: a folder without model.safetensors is refused") {
  Checkpoint ck(tiny_mlm_config(), std::string());
  check_conversion_fails(ck.path(), {"model.safetensors"});
}

TEST_CASE("convert: a broken pytorch_model.bin read in place of a missing safetensors file is named") {
  Checkpoint ck(tiny_mlm_config(), std::string());
  write_file(ck.dir / "pytorch_model.bin", "PK\x03\x04 not really a zip");
  check_conversion_fails(ck.path(), {"pytorch_model.bin", "model.safetensors"});
}

TEST_CASE("convert: a folder that does not exist is named") {
  test::TempDir base;
  check_conversion_fails(base / "no-such-checkpoint", {"no-such-checkpoint"});
}

TEST_CASE("convert: usage errors exit with status 2 and a one-line message") {
  const std::string tool = test::tool("nystrom-convert");
  test::TempDir out;
  SUBCASE("no arguments") {
    test::RunResult r = test::run(tool);
    CHECK(r.exit_code == 2);
    CHECK(one_line(r.err));
  }
  SUBCASE("an unknown flag") {
    test::RunResult r =
        test::run(tool + " " + quote(tiny_mlm_dir()) + " -o " + quote(out / "m.nyf") + " --frobnicate");
    CHECK(r.exit_code == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.find("--frobnicate") != std::string::npos);
  }
  SUBCASE("no -o") {
    test::RunResult r = test::run(tool + " " + quote(tiny_mlm_dir()));
    CHECK(r.exit_code == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.find("--output") != std::string::npos);
  }
  SUBCASE("-o without its value") {
    test::RunResult r = test::run(tool + " " + quote(tiny_mlm_dir()) + " -o");
    CHECK(r.exit_code == 2);
    CHECK(one_line(r.err));
  }
  CHECK(listing(out.path).empty());
}

TEST_CASE("convert: --help exits 0 and describes -o") {
  test::RunResult r = test::run(test::tool("nystrom-convert") + " --help");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--output") != std::string::npos);
}

TEST_CASE("convert: F16 weights convert exactly and run close to the F32 model") {
  Checkpoint ck(tiny_mlm_config(), to_16bit(tiny_mlm_tensors(), "F16"));
  test::TempDir out;
  test::RunResult r = convert(ck.path(), out / "f16.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);

  // Every weight is the f16 value widened, exactly.
  nystrom::SafetensorsFile st(ck.dir / "model.safetensors");
  nystrom::ModelFile nyf(out / "f16.nyf");
  const nystrom::SafeTensor* src = st.find("nystromformer.encoder.layer.0.attention.self.query.weight");
  const nystrom::TensorView* dst = nyf.find("encoder.layer.0.attention.self.query.weight");
  REQUIRE(src != nullptr);
  REQUIRE(dst != nullptr);
  REQUIRE(dst->size == src->nbytes * 2);
  int mismatches = 0;
  for (uint64_t i = 0; i < src->nbytes / 2; ++i) {
    uint16_t h = uint16_t(src->data[2 * i] | (src->data[2 * i + 1] << 8));
    mismatches += static_cast<const float*>(dst->data)[i] != (float)f16_value(h);
  }
  CHECK(mismatches == 0);

  const std::vector<int32_t> ids = test::reference_ids("tiny-mlm");
  nystrom::Output half = run_model(out / "f16.nyf", ids), full = run_model(tiny_mlm_nyf(), ids);
  CHECK(cosine(half.last_hidden_state, full.last_hidden_state) > 0.999);
  CHECK(cosine(half.logits, full.logits) > 0.999);
}

TEST_CASE("convert: BF16 weights convert exactly and run close to the F32 model") {
  Checkpoint ck(tiny_mlm_config(), to_16bit(tiny_mlm_tensors(), "BF16"));
  test::TempDir out;
  test::RunResult r = convert(ck.path(), out / "bf16.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);

  nystrom::SafetensorsFile st(ck.dir / "model.safetensors");
  nystrom::ModelFile nyf(out / "bf16.nyf");
  const nystrom::SafeTensor* src = st.find("nystromformer.embeddings.word_embeddings.weight");
  const nystrom::TensorView* dst = nyf.find("embeddings.word_embeddings.weight");
  REQUIRE(src != nullptr);
  REQUIRE(dst != nullptr);
  int mismatches = 0;
  for (uint64_t i = 0; i < src->nbytes / 2; ++i) {
    uint16_t h = uint16_t(src->data[2 * i] | (src->data[2 * i + 1] << 8));
    mismatches += static_cast<const float*>(dst->data)[i] != (float)bf16_value(h);
  }
  CHECK(mismatches == 0);

  const std::vector<int32_t> ids = test::reference_ids("tiny-mlm");
  nystrom::Output half = run_model(out / "bf16.nyf", ids), full = run_model(tiny_mlm_nyf(), ids);
  CHECK(cosine(half.last_hidden_state, full.last_hidden_state) > 0.99);  // 8-bit mantissa
  CHECK(cosine(half.logits, full.logits) > 0.99);
}

TEST_CASE("convert: a checkpoint mixing F32, F16 and BF16 tensors converts") {
  std::vector<StTensor> t = tiny_mlm_tensors(), f16 = to_16bit(t, "F16"), bf16 = to_16bit(t, "BF16");
  for (size_t i = 0; i < t.size(); ++i)
    if (i % 3 == 1)
      t[i] = f16[i];
    else if (i % 3 == 2)
      t[i] = bf16[i];
  Checkpoint ck(tiny_mlm_config(), t);
  test::TempDir out;
  test::RunResult r = convert(ck.path(), out / "mixed.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  nystrom::Output o = run_model(out / "mixed.nyf", test::reference_ids("tiny-mlm"));
  CHECK(cosine(o.last_hidden_state, run_model(tiny_mlm_nyf(), test::reference_ids("tiny-mlm")).last_hidden_state) > 0.99);
}

TEST_CASE("convert: a bare NystromformerModel without the nystromformer. prefix converts") {
  std::vector<StTensor> bare;
  for (StTensor t : tiny_mlm_tensors()) {
    if (t.name.rfind("cls.", 0) == 0) continue;  // no head
    REQUIRE(t.name.rfind("nystromformer.", 0) == 0);
    t.name = t.name.substr(std::strlen("nystromformer."));
    bare.push_back(t);
  }
  Checkpoint ck(replaced(tiny_mlm_config(), "NystromformerForMaskedLM", "NystromformerModel"), bare);
  test::TempDir out;
  test::RunResult r = convert(ck.path(), out / "bare.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  nystrom::ModelFile nyf(out / "bare.nyf");
  CHECK(nyf.config().head == nystrom::HeadType::None);
  CHECK(nyf.find("embeddings.word_embeddings.weight") != nullptr);

  // Same encoder weights as tiny-mlm: the very same hidden states, no logits.
  const std::vector<int32_t> ids = test::reference_ids("tiny-mlm");
  nystrom::Output o = run_model(out / "bare.nyf", ids);
  CHECK(o.last_hidden_state == run_model(tiny_mlm_nyf(), ids).last_hidden_state);
  CHECK(o.logits.empty());
  CHECK(o.logits_shape.empty());
}

TEST_CASE("convert: tiny-mlm's tied decoder (no decoder weight stored) uses the word embeddings") {
  nystrom::ModelFile nyf(tiny_mlm_nyf());
  CHECK(nyf.find("cls.predictions.decoder.weight") == nullptr);
  nystrom::Output o = run_model(tiny_mlm_nyf(), test::reference_ids("tiny-mlm"));
  std::vector<uint64_t> shape;
  std::vector<float> ref = nystrom::read_npy_f32(tiny_mlm_dir() + "/logits.npy", &shape);
  REQUIRE(shape.size() == 2);
  CHECK(o.logits_shape == std::vector<size_t>{shape[0], shape[1]});
  test::Diff d = test::diff(o.logits, ref);
  INFO("max |diff| " << d.max_abs << ", max |ref| " << d.max_ref);
  CHECK(test::within_spec(d));
}

TEST_CASE("convert: a decoder written out equal to the word embeddings gives a byte-identical file") {
  std::vector<StTensor> t = tiny_mlm_tensors();
  StTensor decoder = *find(t, "nystromformer.embeddings.word_embeddings.weight");
  decoder.name = "cls.predictions.decoder.weight";
  StTensor decoder_bias = *find(t, "cls.predictions.bias");  // torch.save writes this alias too
  decoder_bias.name = "cls.predictions.decoder.bias";
  t.push_back(decoder);
  t.push_back(decoder_bias);
  Checkpoint ck(tiny_mlm_config(), t);
  test::TempDir out;
  test::RunResult r = convert(ck.path(), out / "untied.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(test::slurp(out / "untied.nyf") == test::slurp(tiny_mlm_nyf()));
}

TEST_CASE("convert: a decoder that differs from the word embeddings is kept and used") {
  std::vector<StTensor> t = tiny_mlm_tensors();
  StTensor decoder = *find(t, "nystromformer.embeddings.word_embeddings.weight");
  decoder.name = "cls.predictions.decoder.weight";
  for (size_t i = 0; i < decoder.data.size() / 4; ++i) {
    float f;
    std::memcpy(&f, &decoder.data[4 * i], 4);
    f = -f;
    std::memcpy(&decoder.data[4 * i], &f, 4);
  }
  t.push_back(decoder);
  Checkpoint ck(tiny_mlm_config(), t);
  test::TempDir out;
  test::RunResult r = convert(ck.path(), out / "own.nyf");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(nystrom::ModelFile(out / "own.nyf").find("cls.predictions.decoder.weight") != nullptr);
  const std::vector<int32_t> ids = test::reference_ids("tiny-mlm");
  nystrom::Output own = run_model(out / "own.nyf", ids), tied = run_model(tiny_mlm_nyf(), ids);
  CHECK(own.last_hidden_state == tied.last_hidden_state);
  // logits = t E^T + bias: negating E negates the product; bias is unchanged.
  nystrom::SafetensorsFile st(tiny_mlm_dir() + "/model.safetensors");
  const nystrom::SafeTensor* bias = st.find("cls.predictions.bias");
  REQUIRE(bias != nullptr);
  std::vector<float> b(bias->nbytes / 4);
  std::memcpy(b.data(), bias->data, bias->nbytes);
  double worst = 0;
  for (size_t i = 0; i < own.logits.size(); ++i) {
    const double bv = b[i % b.size()];
    worst = std::max(worst, std::fabs((own.logits[i] - bv) + (tied.logits[i] - bv)));
  }
  CHECK(worst < 1e-4);
}

// ---------------------------------------------------------------------------
// The nystrom CLI.

namespace {

struct CliRun {
  test::TempDir dir;
  test::RunResult result;
  std::string out_dir() const { return dir / "out"; }
  bool wrote_outputs() const {
    return test::exists(out_dir() + "/last_hidden_state.npy") || test::exists(out_dir() + "/logits.npy");
  }
};

// Runs `nystrom run` on ids written as an .npy of the given dtype.
std::unique_ptr<CliRun> cli_run(const std::string& model, const std::string& dtype, const void* ids,
                                uint64_t n, const std::string& extra = "") {
  auto run = std::make_unique<CliRun>();
  const std::string ids_path = run->dir / "ids.npy";
  nystrom::write_npy(ids_path, dtype, {n}, ids);
  run->result = test::run(test::tool("nystrom") + " run -m " + quote(model) + " --ids-npy " +
                          quote(ids_path) + " --out-dir " + quote(run->out_dir()) + extra);
  return run;
}

void check_cli_runtime_error(const CliRun& run, const std::string& phrase) {
  INFO("stderr: " << run.result.err);
  CHECK(run.result.exit_code == 1);
  CHECK(one_line(run.result.err));
  CHECK(run.result.err.find(phrase) != std::string::npos);
  CHECK_FALSE(run.wrote_outputs());
}

}  // namespace

TEST_CASE("cli: run writes outputs for a valid input (the baseline of the error cases)") {
  std::vector<int64_t> ids = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  auto run = cli_run(tiny_mlm_nyf(), "<i8", ids.data(), ids.size());
  REQUIRE_MESSAGE(run->result.exit_code == 0, run->result.err);
  CHECK(run->wrote_outputs());
}

TEST_CASE("cli: run with a missing model file fails with status 1 and names it") {
  test::TempDir dir;
  std::vector<int64_t> ids = {1, 2, 3};
  auto run = cli_run(dir / "absent.nyf", "<i8", ids.data(), ids.size());
  check_cli_runtime_error(*run, "absent.nyf");
}

TEST_CASE("cli: run refuses float token ids") {
  std::vector<float> ids = {1.0f, 2.0f, 3.0f};
  auto run = cli_run(tiny_mlm_nyf(), "<f4", ids.data(), ids.size());
  check_cli_runtime_error(*run, "ids.npy");
}

TEST_CASE("cli: run refuses a token id outside the vocabulary") {
  std::vector<int64_t> ids = {1, 2, 512, 3};  // tiny-mlm has 512 ids: 0..511
  auto run = cli_run(tiny_mlm_nyf(), "<i8", ids.data(), ids.size());
  check_cli_runtime_error(*run, "512");
}

TEST_CASE("cli: run refuses a negative token id and one beyond int32") {
  std::vector<int64_t> ids = {1, -1, 3};
  check_cli_runtime_error(*cli_run(tiny_mlm_nyf(), "<i8", ids.data(), ids.size()), "-1");
  ids[1] = int64_t(1) << 33;
  check_cli_runtime_error(*cli_run(tiny_mlm_nyf(), "<i8", ids.data(), ids.size()), std::to_string(ids[1]));
}

TEST_CASE("cli: run refuses an input longer than max_position_embeddings") {
  std::vector<int32_t> ids(65, 7);  // tiny-mlm accepts at most 64
  auto run = cli_run(tiny_mlm_nyf(), "<i4", ids.data(), ids.size());
  check_cli_runtime_error(*run, "64");
}

TEST_CASE("cli: run with an unknown flag or a bad option value is a usage error (status 2)") {
  std::vector<int64_t> ids = {1, 2, 3};
  for (const std::string extra : {" --frobnicate", " --attention fast", " --landmarks 0", " --landmarks x"}) {
    CAPTURE(extra);
    auto run = cli_run(tiny_mlm_nyf(), "<i8", ids.data(), ids.size(), extra);
    CHECK(run->result.exit_code == 2);
    CHECK(one_line(run->result.err));
    CHECK_FALSE(run->wrote_outputs());
  }
}

TEST_CASE("cli: nystrom with no command or an unknown one is a usage error") {
  CHECK(test::run(test::tool("nystrom")).exit_code == 2);
  CHECK(test::run(test::tool("nystrom") + " frobnicate").exit_code == 2);
}

TEST_CASE("cli: nystrom run --help exits 0 and mentions every flag") {
  test::RunResult r = test::run(test::tool("nystrom") + " run --help");
  CHECK(r.exit_code == 0);
  for (const std::string flag : {"--model", "--ids-npy", "--ids", "--out-dir", "--json", "--landmarks", "--attention"}) {
    CAPTURE(flag);
    CHECK(r.out.find(flag) != std::string::npos);
  }
}

TEST_CASE("cli: nystrom --help exits 0 and mentions every flag of run") {
  test::RunResult r = test::run(test::tool("nystrom") + " --help");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("run") != std::string::npos);
  for (const std::string flag : {"--model", "--ids-npy", "--ids", "--out-dir", "--json", "--landmarks", "--attention"}) {
    CAPTURE(flag);
    CHECK(r.out.find(flag) != std::string::npos);
  }
}
