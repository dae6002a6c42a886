// Writes the binary seed inputs of the fuzz targets, so that none has to be
// committed and each follows the formats as the library writes them today:
//   make_seeds DIR   ->  DIR/model_file/*.nyf, DIR/safetensors/*, DIR/npy/*
// The model files are tiny but complete (every tensor their configuration
// needs), so that mutations reach Model::open's weight binding; the
// committed seeds are under tests/fuzz/corpus/.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "format/npy.h"
#include "format/tensor_names.h"
#include "nystrom/nystrom.h"

namespace {

using nystrom::ModelConfig;

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw nystrom::Error("cannot create " + path);
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw nystrom::Error("cannot write " + path);
}

// Small deterministic values in [-1, 1).
float value(uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
}

ModelConfig tiny_config(uint32_t hidden, nystrom::HeadType head) {
  ModelConfig c;
  c.vocab_size = 8;
  c.hidden_size = hidden;
  c.num_layers = 1;
  c.num_heads = 2;
  c.intermediate_size = hidden;
  c.max_positions = 4;
  c.type_vocab_size = 1;
  c.num_landmarks = 2;
  c.segment_means_len = 2;
  c.conv_kernel = 3;
  c.position_offset = 2;
  c.head = head;
  if (head == nystrom::HeadType::Classifier) c.labels = {"negative", "neutral", "positive"};
  return c;
}

// Writes a model of this configuration with every weight matrix stored as
// `type` (where its shape allows). Leaves out the optional tied decoder.
void write_model(const std::string& path, const ModelConfig& c, nystrom::format::DType type) {
  nystrom::Checkpoint ck;
  ck.config = c;
  uint32_t state = 12345;
  for (const nystrom::ExpectedTensor& e : nystrom::expected_tensors(c)) {
    if (e.optional) continue;
    uint64_t count = 1;
    for (uint64_t d : e.shape) count *= d;
    std::vector<float> v(count);
    for (float& x : v) x = value(state);
    if (e.name.find("LayerNorm.weight") != std::string::npos)
      for (float& x : v) x = 1.0f + 0.1f * x;
    nystrom::TensorData t{e.name, nystrom::format::DType::F32, e.shape, {}};
    t.bytes.resize(count * sizeof(float));
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    ck.tensors.push_back(std::move(t));
  }
  nystrom::set_weight_type(ck, type, nullptr);
  nystrom::write_model_file(path, ck.config, ck.tensors);
}

std::string le64(uint64_t x) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(x >> (8 * i));
  return s;
}

// A safetensors file: the 8-byte header length, the header, the data.
std::string safetensors(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

// An .npy file with a hand-made header (version 2.0 or 3.0: u32 length).
std::string npy_v2(int major, const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((12 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string s = "\x93NUMPY";
  s += static_cast<char>(major);
  s += '\0';
  for (int i = 0; i < 4; ++i) s += static_cast<char>(header.size() >> (8 * i));
  return s + header + data;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  try {
    using nystrom::HeadType;
    using nystrom::format::DType;
    make_dir(out);
    for (const char* sub : {"model_file", "safetensors", "npy"}) make_dir(out + "/" + sub);

    // Model files: f32 (version 1), f16, q8_0 and q4_0 (version 2), each head.
    write_model(out + "/model_file/none-f32.nyf", tiny_config(4, HeadType::None), DType::F32);
    write_model(out + "/model_file/cls-f16.nyf", tiny_config(4, HeadType::Classifier), DType::F16);
    write_model(out + "/model_file/mlm-q8_0.nyf", tiny_config(32, HeadType::MaskedLM), DType::Q8_0);
    ModelConfig q4 = tiny_config(32, HeadType::None);
    q4.conv_kernel = 0;
    write_model(out + "/model_file/none-q4_0.nyf", q4, DType::Q4_0);

    // Safetensors: every dtype family, a scalar, an empty tensor, metadata,
    // the header padded with spaces as Hugging Face pads it.
    std::string data(38, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 37 + 1);
    write_bytes(out + "/safetensors/mixed.safetensors",
                safetensors("{\"__metadata__\":{\"format\":\"pt\"},"
                            "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                            "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[24,30]},"
                            "\"c\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[30,38]},"
                            "\"d\":{\"dtype\":\"BF16\",\"shape\":[0,5],\"data_offsets\":[38,38]}}   ",
                            data));
    write_bytes(out + "/safetensors/names.safetensors",
                safetensors("{\"nystromformer.embeddings.LayerNorm.weight\":"
                            "{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                            "\"nystromformer.embeddings.position_ids\":"
                            "{\"dtype\":\"I64\",\"shape\":[1,2],\"data_offsets\":[16,32]}}",
                            std::string(32, '\x01')));
    write_bytes(out + "/safetensors/empty.safetensors", safetensors("{}", ""));

    // npy: what write_npy produces, then versions 2.0 and 3.0 by hand.
    const int64_t ids[5] = {0, 7, 299, 1, 2};
    const int32_t ids32[3] = {5, 6, 7};
    const float f[6] = {0.5f, -1.0f, 2.25f, 0.0f, 1e-3f, -7.0f};
    nystrom::write_npy(out + "/npy/ids-i8.npy", "<i8", {5}, ids);
    nystrom::write_npy(out + "/npy/ids-i4-row.npy", "<i4", {1, 3}, ids32);
    nystrom::write_npy(out + "/npy/f4-2x3.npy", "<f4", {2, 3}, f);
    nystrom::write_npy(out + "/npy/f4-scalar.npy", "<f4", {}, f);
    nystrom::write_npy(out + "/npy/i8-empty.npy", "<i8", {0, 4}, ids);
    write_bytes(out + "/npy/v2-f4.npy",
                npy_v2(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                       std::string(reinterpret_cast<const char*>(f), 8)));
    write_bytes(out + "/npy/v3-i4.npy",
                npy_v2(3, "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (3L,)}",
                       std::string(reinterpret_cast<const char*>(ids32), 12)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
