#include "convert/hf_checkpoint.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "convert/safetensors.h"
#include "convert/torch_bin.h"
#include "format/half.h"
#include "format/tensor_names.h"
#include "kernels/quant.h"
#include "runtime/error.h"
#include "runtime/thread_pool.h"

namespace nystrom {
namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) fail(path, ": read error");
  return s.str();
}

uint32_t get_u32(const JsonValue& j, const char* key, uint32_t fallback, const std::string& src) {
  const JsonValue* v = j.find(key);
  if (!v) return fallback;
  int64_t x = v->as_int(src + ": " + key);
  if (x < 0 || x > INT32_MAX) fail(src, ": ", key, " = ", x, " is out of range");
  return (uint32_t)x;
}

// One tensor of the checkpoint converted to f32 little-endian bytes.
std::vector<uint8_t> to_f32(const SafeTensor& t, const std::string& src) {
  uint64_t count = t.nbytes / safetensors_dtype_size(t.dtype);
  std::vector<uint8_t> out(count * 4);
  float* dst = reinterpret_cast<float*>(out.data());
  if (t.dtype == "F32") {
    std::memcpy(out.data(), t.data, t.nbytes);
  } else if (t.dtype == "F16" || t.dtype == "BF16") {
    bool bf = t.dtype == "BF16";
    for (uint64_t i = 0; i < count; ++i) {
      uint16_t h = uint16_t(t.data[2 * i] | (t.data[2 * i + 1] << 8));
      dst[i] = bf ? bf16_to_float(h) : f16_to_float(h);
    }
  } else {
    fail(src, ": tensor ", t.name, " has dtype ", t.dtype, " (expected F32, F16 or BF16)");
  }
  return out;
}

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

}  // namespace

ModelConfig parse_hf_config(const JsonValue& j, const std::string& src) {
  if (!j.is_object()) fail(src, ": expected a JSON object");
  if (const JsonValue* mt = j.find("model_type"))
    if (mt->as_string(src + ": model_type") != "nystromformer")
      fail(src, ": model_type '", mt->string, "' is not nystromformer");

  ModelConfig c;
  std::string arch = "NystromformerModel";
  if (const JsonValue* a = j.find("architectures")) {
    if (!a->is_array() || a->array.size() != 1) fail(src, ": architectures must list one class");
    arch = a->array[0].as_string(src + ": architectures[0]");
  }
  if (arch == "NystromformerModel") c.head = HeadType::None;
  else if (arch == "NystromformerForMaskedLM") c.head = HeadType::MaskedLM;
  else if (arch == "NystromformerForSequenceClassification") c.head = HeadType::Classifier;
  else fail(src, ": unsupported architecture '", arch,
            "' (expected NystromformerModel, NystromformerForMaskedLM or NystromformerForSequenceClassification)");

  c.hidden_size = get_u32(j, "hidden_size", 768, src);
  c.num_layers = get_u32(j, "num_hidden_layers", 12, src);
  c.num_heads = get_u32(j, "num_attention_heads", 12, src);
  c.intermediate_size = get_u32(j, "intermediate_size", 3072, src);
  c.max_positions = get_u32(j, "max_position_embeddings", 510, src);
  c.type_vocab_size = get_u32(j, "type_vocab_size", 2, src);
  c.vocab_size = get_u32(j, "vocab_size", 30000, src);
  c.num_landmarks = get_u32(j, "num_landmarks", 64, src);
  c.segment_means_len = get_u32(j, "segment_means_seq_len", 64, src);
  c.conv_kernel = 65;
  if (const JsonValue* k = j.find("conv_kernel_size")) c.conv_kernel = k->is_null() ? 0 : get_u32(j, "conv_kernel_size", 0, src);
  c.position_offset = 2;
  if (const JsonValue* e = j.find("layer_norm_eps")) c.layer_norm_eps = (float)e->as_number(src + ": layer_norm_eps");

  std::string act = "gelu_new";
  if (const JsonValue* a = j.find("hidden_act")) act = a->as_string(src + ": hidden_act");
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") c.activation = Activation::GeluTanh;
  else if (act == "gelu") c.activation = Activation::GeluErf;
  else if (act == "relu") c.activation = Activation::Relu;
  else fail(src, ": unsupported hidden_act '", act, "' (expected gelu_new, gelu, gelu_pytorch_tanh or relu)");

  if (c.head == HeadType::Classifier) {
    // Labels in id order from id2label; without it, HF's default names.
    uint32_t count = get_u32(j, "num_labels", 0, src);
    const JsonValue* id2label = j.find("id2label");
    if (id2label) {
      if (!id2label->is_object()) fail(src, ": id2label must be an object");
      count = (uint32_t)id2label->object.size();
    }
    if (count == 0) count = 2;
    if (count > 65536) fail(src, ": too many labels");
    c.labels.resize(count);
    for (uint32_t i = 0; i < count; ++i) {
      const JsonValue* name = id2label ? id2label->find(std::to_string(i)) : nullptr;
      if (id2label && !name) fail(src, ": id2label has no entry \"", i, "\" (ids must be 0..", count - 1, ")");
      c.labels[i] = name ? name->as_string(src + ": id2label") : "LABEL_" + std::to_string(i);
    }
    // As transformers decides it: the config's problem_type, else
    // regression for one output and single-label for more.
    const JsonValue* problem = j.find("problem_type");
    const std::string kind = problem && !problem->is_null() ? problem->as_string(src + ": problem_type")
                             : count == 1                   ? "regression"
                                                            : "single_label_classification";
    if (kind == "single_label_classification") c.problem_type = ProblemType::SingleLabel;
    else if (kind == "multi_label_classification") c.problem_type = ProblemType::MultiLabel;
    else if (kind == "regression") c.problem_type = ProblemType::Regression;
    else
      fail(src, ": unsupported problem_type '", kind,
           "' (expected single_label_classification, multi_label_classification or regression)");
  }
  validate_config(c, src);
  return c;
}

namespace {

// A NaN or an infinity in a weight makes every output NaN and has no 8- or
// 4-bit encoding: refuse the checkpoint, naming the first one.
void check_finite(const TensorData& t, const std::string& source) {
  const size_t n = t.bytes.size() / sizeof(float);
  for (size_t i = 0; i < n; ++i) {
    float v;
    std::memcpy(&v, t.bytes.data() + i * sizeof(float), sizeof v);
    if (!std::isfinite(v))
      fail(source, ": tensor ", t.name, " holds ", std::isnan(v) ? "NaN" : "an infinity", " at element ", i,
           " (a corrupt checkpoint?)");
  }
}

}  // namespace

Checkpoint read_hf_checkpoint(const std::string& dir) {
  const std::string config_path = dir + "/config.json";
  const std::string st_path = dir + "/model.safetensors";
  struct stat dir_stat;
  if (::stat(dir.c_str(), &dir_stat) != 0 || !S_ISDIR(dir_stat.st_mode)) fail(dir, ": no such folder");
  if (!file_exists(config_path)) fail(dir, ": no config.json (not a Hugging Face checkpoint folder)");
  Checkpoint ck;
  ck.config = parse_hf_config(parse_json(read_text(config_path), config_path), config_path);
  // model.safetensors if there is one, else pytorch_model.bin; both give
  // SafeTensor lists, checked and converted alike below.
  const std::string bin_path = dir + "/pytorch_model.bin";
  std::unique_ptr<SafetensorsFile> st;
  std::unique_ptr<TorchBinFile> bin;
  std::string src_path;
  const std::vector<SafeTensor>* source = nullptr;
  if (file_exists(st_path)) {
    st = std::make_unique<SafetensorsFile>(st_path);
    src_path = st_path;
    source = &st->tensors();
  } else if (file_exists(bin_path)) {
    try {
      bin = std::make_unique<TorchBinFile>(bin_path);
    } catch (const Error& e) {
      fail(e.what(), " (read because the folder has no model.safetensors)");
    }
    src_path = bin_path;
    source = &bin->tensors();
  } else {
    fail(dir, ": no model.safetensors (or pytorch_model.bin)");
  }
  auto has_source = [&](std::string_view name) { return st ? st->find(name) != nullptr : bin->find(name) != nullptr; };

  // Canonical name -> source tensor, with the head prefix removed.
  std::map<std::string, const SafeTensor*> by_name;
  const std::string prefix = "nystromformer.";
  for (const SafeTensor& t : *source) {
    std::string name = t.name.compare(0, prefix.size(), prefix) == 0 ? t.name.substr(prefix.size()) : t.name;
    if (name == "embeddings.position_ids") continue;  // a buffer, not a weight
    if (name == "cls.predictions.decoder.bias") {     // the same tensor as cls.predictions.bias
      if (has_source("cls.predictions.bias")) continue;
      name = "cls.predictions.bias";
    }
    if (!by_name.emplace(name, &t).second) fail(src_path, ": tensor ", name, " appears twice");
  }

  std::set<std::string> used;
  for (const ExpectedTensor& e : expected_tensors(ck.config)) {
    auto it = by_name.find(e.name);
    if (it == by_name.end()) {
      if (e.optional) continue;
      fail(src_path, ": missing tensor ", e.name);
    }
    const SafeTensor& t = *it->second;
    if (t.shape != e.shape)
      fail(src_path, ": tensor ", t.name, " has shape ", shape_str(t.shape), ", the config needs ", shape_str(e.shape));
    used.insert(e.name);
    ck.tensors.push_back({e.name, format::DType::F32, e.shape, to_f32(t, src_path)});
    check_finite(ck.tensors.back(), src_path);
  }
  for (const auto& [name, t] : by_name)
    if (!used.count(name)) fail(src_path, ": unexpected tensor ", t->name);

  // A decoder equal to the word embeddings is the tie written out: leave it
  // out, as the safetensors of a tied model does.
  auto find = [&](const std::string& name) -> TensorData* {
    for (TensorData& t : ck.tensors)
      if (t.name == name) return &t;
    return nullptr;
  };
  TensorData* dec = find("cls.predictions.decoder.weight");
  if (dec && dec->bytes == find("embeddings.word_embeddings.weight")->bytes)
    ck.tensors.erase(ck.tensors.begin() + (dec - ck.tensors.data()));
  return ck;
}

CheckpointTokenizer read_hf_tokenizer(const std::string& dir, const ModelConfig& config) {
  CheckpointTokenizer result;
  std::vector<text::TokenizerFile> files;
  for (const std::string name : format::kTokenizerFileNames)
    if (file_exists(dir + "/" + name)) files.push_back({name, read_text(dir + "/" + name)});
  if (files.empty()) return result;
  std::string names;
  for (const text::TokenizerFile& f : files) names += (names.empty() ? "" : ", ") + f.name;
  try {
    result.tokenizer = text::load_tokenizer(files);
  } catch (const Error& e) {
    fail(dir, ": tokenizer (", names, "): ", e.what());
  }
  if (!result.tokenizer) {
    for (const text::TokenizerFile& f : files) result.ignored.push_back(f.name);
    return result;
  }
  const int32_t ids = result.tokenizer->vocab_size();
  if (ids <= 0 || (uint32_t)ids > config.vocab_size)
    fail(dir, ": the tokenizer (", names, ") has ", ids, " ids but config.json's vocab_size is ", config.vocab_size);
  result.files = std::move(files);
  return result;
}

std::vector<TokenizerFileView> CheckpointTokenizer::views() const {
  std::vector<TokenizerFileView> out;
  for (const text::TokenizerFile& f : files) out.push_back({f.name, f.bytes});
  return out;
}

namespace {

bool is_head(const std::string& name) { return name.rfind("classifier.", 0) == 0 || name.rfind("cls.", 0) == 0; }

// The type of one matrix of a conversion to `to`. Embedding rows feed every
// layer unprojected: 4-bit noise there costs more accuracy than it saves
// space. The head's matrices turn the last hidden state into the answer,
// where rounding noise tips near ties, and are a small part of any model:
// they are kept one step up (llama.cpp's q4_0 files keep their output matrix
// at higher precision too). models/README.md measures both.
format::DType type_of(const std::string& name, format::DType to, TypeRule rule) {
  using format::DType;
  if (rule == TypeRule::Pure) return to;
  if (to == DType::Q4_0 && name.rfind("embeddings.", 0) == 0) return DType::Q8_0;
  if (rule == TypeRule::EmbeddingsAndHead && is_head(name)) {
    if (to == DType::Q4_0) return DType::Q8_0;
    if (to == DType::Q8_0 || to == DType::Q8_C) return DType::F16;
  }
  return to;
}

}  // namespace

void set_weight_type(Checkpoint& ck, format::DType to, std::vector<std::string>* kept_f32,
                     const std::function<void(size_t done, size_t total)>& progress, TypeRule rule) {
  if (to != format::DType::F32 && to != format::DType::F16 && to != format::DType::Q8_0 && to != format::DType::Q4_0 &&
      to != format::DType::Q8_C)
    fail("unknown weight type code ", static_cast<uint32_t>(to));
  const size_t total = ck.tensors.size();
  std::shared_ptr<ThreadPool> pool;  // made at the first quantized matrix
  for (size_t i = 0; i < total; ++i) {
    if (progress) progress(i, total);
    TensorData& t = ck.tensors[i];
    if (to == format::DType::F32) continue;
    if (!is_weight_matrix(t.name) || t.dtype != format::DType::F32 || t.shape.size() != 2) continue;
    const uint64_t rows = t.shape[0], cols = t.shape[1];
    const format::DType type = type_of(t.name, to, rule);
    const float* src = reinterpret_cast<const float*>(t.bytes.data());
    std::vector<uint8_t> out;
    if (type == format::DType::F16) {
      out.resize(rows * cols * 2);
      uint16_t* dst = reinterpret_cast<uint16_t*>(out.data());
      for (uint64_t i = 0; i < rows * cols; ++i) dst[i] = float_to_f16(src[i]);
    } else {
      if (cols % kQuantBlock != 0 || (type == format::DType::Q8_C && cols > format::kQ8cMaxCols)) {
        if (kept_f32) kept_f32->push_back(t.name);
        continue;
      }
      const uint64_t blocks = cols / kQuantBlock;
      const size_t block_bytes = type == format::DType::Q8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
      // q8_c: rows * cols codes, then one f32 scale per row (format.h).
      out.resize(type == format::DType::Q8_C ? rows * (cols + sizeof(float)) : rows * blocks * block_bytes);
      // Rows are independent, so the bytes do not depend on the thread
      // count; q4_0's scale search makes the threads worth having.
      if (!pool) pool = shared_thread_pool(resolve_thread_count(0, "set_weight_type"));
      pool->parallel_for(
          rows,
          [&](size_t begin, size_t end, int) {
            for (size_t r = begin; r < end; ++r) {
              if (type == format::DType::Q8_C) {
                quantize_matrix_row_q8_c(src + r * cols, rows, cols, r, out.data());
                continue;
              }
              uint8_t* dst = out.data() + r * blocks * block_bytes;
              if (type == format::DType::Q8_0)
                quantize_row_q8_0(src + r * cols, reinterpret_cast<BlockQ8_0*>(dst), (int)cols);
              else
                quantize_row_q4_0(src + r * cols, reinterpret_cast<BlockQ4_0*>(dst), (int)cols);
            }
          },
          16);
    }
    t.bytes = std::move(out);
    t.dtype = type;
  }
  if (progress) progress(total, total);
}

}  // namespace nystrom
