// Writes the binary seed inputs of the fuzz targets, so that none has to be
// committed and each follows the formats as the library writes them today:
//   make_seeds DIR [TOKENIZERS]  ->  DIR/<target>/* for model_file,
//                                    safetensors, npy, torch_bin, zip, pickle
// and, given the reference tokenizers' folder (tests/data/tokenizers), the
// tokenizer targets' seeds made from its files: every tokenizer.json,
// spiece.model and vocabulary file set (in fuzz_vocab_files' layout).
// The model files are tiny but complete (every tensor their configuration
// needs), so that mutations reach Model::open's weight binding; the
// committed seeds are under tests/fuzz/corpus/.
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "convert/zip.h"
#include "format/model_file.h"
#include "format/tensor_names.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "small_config.h"
#include "tiny_tokenizer.h"

namespace {

using nystrom::ModelConfig;

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw nystrom::Error("cannot create " + path);
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw nystrom::Error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
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

using test::small_config;

// Writes a model of this configuration with every weight matrix stored as
// `type` (where its shape allows), and these tokenizer files (version 3).
// Leaves out the optional tied decoder.
void write_model(const std::string& path, const ModelConfig& c, nystrom::format::DType type,
                 const std::vector<nystrom::TokenizerFileView>& tokenizer = {}) {
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
  nystrom::write_model_file(path, ck.config, ck.tensors, tokenizer);
}

// Sorted names of the entries of a folder.
std::vector<std::string> folder_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw nystrom::Error("cannot open " + dir);
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') out.push_back(e->d_name);
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// Seeds for the tokenizer targets from each reference case folder (each
// holds one of tokenizer.json, spiece.model, vocab.txt, vocab.json +
// merges.txt, maybe with tokenizer_config.json), named after the folder.
// Returns how many were written.
int tokenizer_seeds(const std::string& cases, const std::string& out) {
  int written = 0;
  for (const std::string& name : folder_entries(cases)) {
    const std::string dir = cases + "/" + name + "/";
    if (exists(dir + "tokenizer.json")) {
      write_bytes(out + "/tokenizer_json/" + name + ".json", read_bytes(dir + "tokenizer.json"));
      ++written;
    }
    if (exists(dir + "spiece.model")) {
      write_bytes(out + "/spiece_model/" + name + ".model", read_bytes(dir + "spiece.model"));
      ++written;
    }
    // fuzz_vocab_files' layout: a selector byte, then the files cut by NULs.
    const std::string config = exists(dir + "tokenizer_config.json") ? read_bytes(dir + "tokenizer_config.json") : "";
    const std::string config_part = config.empty() ? "" : std::string(1, '\0') + config;
    if (exists(dir + "vocab.txt")) {
      write_bytes(out + "/vocab_files/" + name + ".bin", std::string(1, '\0') + read_bytes(dir + "vocab.txt") + config_part);
      ++written;
    }
    if (exists(dir + "vocab.json") && exists(dir + "merges.txt")) {
      write_bytes(out + "/vocab_files/" + name + ".bin", std::string(1, '\1') + read_bytes(dir + "vocab.json") +
                                                           std::string(1, '\0') + read_bytes(dir + "merges.txt") +
                                                           config_part);
      ++written;
    }
  }
  return written;
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

// ---- pytorch_model.bin as torch.save writes it: a zip of stored entries.

std::string le16(uint64_t x) { return std::string{static_cast<char>(x), static_cast<char>(x >> 8)}; }
std::string le32(uint64_t x) { return le16(x) + le16(x >> 16); }

struct ZipFile {
  std::string name, data;
};

// A zip archive of stored entries, each local header padded (with an extra
// field, as PyTorch does) so that the data starts 64-byte aligned. With
// zip64, every central directory entry carries its sizes and offset in a
// ZIP64 extra field and the end record is found through the ZIP64 locator.
std::string zip_archive(const std::vector<ZipFile>& files, bool zip64) {
  std::string out, central;
  const uint64_t sat32 = 0xFFFFFFFFu;
  for (const ZipFile& f : files) {
    const uint64_t local = out.size();
    const uint32_t crc = nystrom::crc32_ieee(f.data.data(), f.data.size());
    std::string lh = le32(0x04034b50) + le16(zip64 ? 45 : 20) + le16(0) + le16(0) + le16(0) + le16(0x21) +
                     le32(crc) + le32(zip64 ? sat32 : f.data.size()) + le32(zip64 ? sat32 : f.data.size()) +
                     le16(f.name.size());
    std::string extra = zip64 ? le16(1) + le16(16) + le64(f.data.size()) + le64(f.data.size()) : "";
    const uint64_t unpadded = local + lh.size() + 2 + f.name.size() + extra.size() + 4;
    const uint64_t pad = (64 - unpadded % 64) % 64;
    extra += le16(0x4246) + le16(pad) + std::string(pad, 'Z');  // "FB" padding, as torch.save
    out += lh + le16(extra.size()) + f.name + extra + f.data;

    std::string cextra = zip64 ? le16(1) + le16(24) + le64(f.data.size()) + le64(f.data.size()) + le64(local) : "";
    central += le32(0x02014b50) + le16(zip64 ? 45 : 20) + le16(zip64 ? 45 : 20) + le16(0) + le16(0) + le16(0) +
               le16(0x21) + le32(crc) + le32(zip64 ? sat32 : f.data.size()) +
               le32(zip64 ? sat32 : f.data.size()) + le16(f.name.size()) + le16(cextra.size()) + le16(0) +
               le16(0) + le16(0) + le32(0) + le32(zip64 ? sat32 : local) + f.name + cextra;
  }
  const uint64_t cd_offset = out.size(), cd_size = central.size(), n = files.size();
  out += central;
  if (zip64) {
    const uint64_t z64 = out.size();
    out += le32(0x06064b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0) + le64(n) + le64(n) +
           le64(cd_size) + le64(cd_offset);
    out += le32(0x07064b50) + le32(0) + le64(z64) + le32(1);
    out += le32(0x06054b50) + le16(0) + le16(0) + le16(0xFFFF) + le16(0xFFFF) + le32(sat32) + le32(sat32) +
           le16(0);
  } else {
    out += le32(0x06054b50) + le16(0) + le16(0) + le16(n) + le16(n) + le32(cd_size) + le32(cd_offset) + le16(0);
  }
  return out;
}

// A pickle program, opcode by opcode (protocol 2, and 4 where asked).
struct PickleWriter {
  std::string p;
  bool v4 = false;
  uint32_t memo = 0;

  void op(uint8_t c) { p += static_cast<char>(c); }
  void proto() { op(0x80), op(v4 ? 4 : 2); }
  void mark() { op('('); }
  void str(const std::string& s) {
    if (v4 && s.size() < 256) {
      op(0x8c), op(static_cast<uint8_t>(s.size()));
    } else {
      op('X'), p += le32(s.size());
    }
    p += s;
  }
  void global(const std::string& module, const std::string& name) {
    if (v4) {
      str(module), str(name), op(0x93);
    } else {
      op('c'), p += module + "\n" + name + "\n";
    }
  }
  uint32_t put() {  // memoizes the top of the stack; returns its key
    if (v4) {
      op(0x94);
    } else {
      op('q'), op(static_cast<uint8_t>(memo));
    }
    return memo++;
  }
  void get(uint32_t key) { op('h'), op(static_cast<uint8_t>(key)); }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op('K'), op(static_cast<uint8_t>(v));
    } else if (v >= 0 && v < 65536) {
      op('M'), p += le16(v);
    } else {
      op(0x8a), op(8), p += le64(static_cast<uint64_t>(v));
    }
  }
  void dims(const std::vector<int64_t>& d) {
    if (d.size() == 2) {
      integer(d[0]), integer(d[1]), op(0x86);
      return;
    }
    mark();
    for (int64_t x : d) integer(x);
    op('t');
  }
  void empty_ordered_dict() { global("collections", "OrderedDict"), op(')'), op('R'); }

  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())
  uint32_t tensor(const std::string& storage, const std::string& key, int64_t numel, int64_t offset,
                  const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2");
    mark();
    mark(), str("storage"), global("torch", storage), str(key), str("cpu"), integer(numel), op('t');
    op('Q');  // BINPERSID
    integer(offset), dims(size), dims(stride), op(0x89);
    empty_ordered_dict();
    op('t'), op('R');
    return put();
  }
};

// A small state dict over four storages: a contiguous tensor, the same
// tensor under a second name (a tied weight), a transposed view of its
// storage, a parameter, f16, bf16 scalar and int64 storages.
std::string state_dict_pickle(bool v4) {
  PickleWriter w;
  w.v4 = v4;
  w.proto();
  if (v4) w.op(0x95), w.p += le64(0);  // FRAME (its length is only checked)
  w.empty_ordered_dict();
  w.put();
  w.mark();
  w.str("embeddings.word_embeddings.weight");
  const uint32_t word = w.tensor("FloatStorage", "0", 6, 0, {2, 3}, {3, 1});
  w.str("cls.predictions.decoder.weight");
  w.get(word);
  w.str("transposed");
  w.tensor("FloatStorage", "0", 6, 0, {3, 2}, {1, 3});
  w.str("param");
  w.global("torch._utils", "_rebuild_parameter");
  w.mark();
  w.tensor("FloatStorage", "0", 6, 2, {4}, {1});
  w.op(0x88);  // requires_grad True
  w.empty_ordered_dict();
  w.op('t'), w.op('R'), w.put();
  w.str("half");
  w.tensor("HalfStorage", "1", 4, 0, {4}, {1});
  w.str("scalar");
  w.tensor("BFloat16Storage", "3", 1, 0, {}, {});
  w.str("position_ids");
  w.tensor("LongStorage", "2", 2, 0, {1, 2}, {2, 1});
  w.op('u');  // SETITEMS
  w.op('.');
  return w.p;
}

std::vector<ZipFile> torch_files(const std::string& folder, const std::string& pickle) {
  std::string f32(24, '\0'), f16(8, '\0'), i64(16, '\0');
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<char>(i * 11 + 3);
  for (size_t i = 0; i < f16.size(); ++i) f16[i] = static_cast<char>(0x3c - (i % 2) * 0x3c);
  i64[0] = 7, i64[8] = 9;
  return {{folder + "/data.pkl", pickle},     {folder + "/byteorder", "little"},
          {folder + "/data/0", f32},          {folder + "/data/1", f16},
          {folder + "/data/2", i64},          {folder + "/data/3", std::string("\x80\x3f", 2)},
          {folder + "/version", "3\n"},      {folder + "/.data/serialization_id", "1234567890"}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR [TOKENIZER_CASES_DIR]\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  try {
    using nystrom::HeadType;
    using nystrom::format::DType;
    make_dir(out);
    for (const char* sub : {"model_file", "safetensors", "npy", "torch_bin", "zip", "pickle", "tokenizer_json",
                            "spiece_model", "vocab_files"})
      make_dir(out + "/" + sub);

    // Model files: f32 (version 1), f16, q8_0 and q4_0 (version 2), each head.
    write_model(out + "/model_file/none-f32.nyf", small_config(4, HeadType::None), DType::F32);
    write_model(out + "/model_file/cls-f16.nyf", small_config(4, HeadType::Classifier), DType::F16);
    write_model(out + "/model_file/mlm-q8_0.nyf", small_config(32, HeadType::MaskedLM), DType::Q8_0);
    ModelConfig q4 = small_config(32, HeadType::None);
    q4.conv_kernel = 0;
    write_model(out + "/model_file/none-q4_0.nyf", q4, DType::Q4_0);
    // Version 4: q8_c, one scale per row.
    write_model(out + "/model_file/cls-q8_c.nyf", small_config(32, HeadType::Classifier), DType::Q8_C);
    // Version 3: a tokenizer section holding a WordLevel tokenizer.json.
    write_model(out + "/model_file/cls-f32-tokenizer.nyf", small_config(4, HeadType::Classifier), DType::F32,
                {{"tokenizer.json", fuzz::kTinyTokenizerJson}});

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

    // pytorch_model.bin: protocol 2 in a plain zip, protocol 4 in a ZIP64
    // one; the same archives and pickles seed the zip and pickle targets.
    for (bool v4 : {false, true}) {
      const std::string pkl = state_dict_pickle(v4);
      const std::string bin = zip_archive(torch_files(v4 ? "tiny-mlm" : "archive", pkl), v4);
      const std::string tag = v4 ? "p4-zip64" : "p2";
      write_bytes(out + "/torch_bin/" + tag + ".bin", bin);
      write_bytes(out + "/zip/" + tag + ".zip", bin);
      write_bytes(out + "/pickle/" + tag + ".pkl", pkl);
    }
    write_bytes(out + "/zip/one-entry.zip", zip_archive({{"a.txt", "hello"}}, false));

    if (argc == 3 && tokenizer_seeds(argv[2], out) == 0)
      throw nystrom::Error(std::string("no tokenizer files in ") + argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
