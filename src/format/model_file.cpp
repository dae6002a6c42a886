#include "format/model_file.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "format/checksum.h"
#include "format/config_record.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"

namespace nystrom {

using format::DType;

bool tensor_bytes(DType t, const std::vector<uint64_t>& shape, uint64_t* bytes) {
  uint64_t count = 1;
  for (uint64_t d : shape) {
    if (d != 0 && count > UINT64_MAX / 8 / d) return false;
    count *= d;
  }
  switch (t) {
    case DType::F32: *bytes = count * 4; return true;
    case DType::F16: *bytes = count * 2; return true;
    case DType::Q8_0:
    case DType::Q4_0:
      if (shape.size() != 2 || shape[1] % 32 != 0) return false;
      *bytes = count / 32 * (t == DType::Q8_0 ? 34 : 18);
      return true;
    case DType::Q8_C:  // q then one f32 scale per row
      if (shape.size() != 2 || shape[1] % 32 != 0 || shape[1] > format::kQ8cMaxCols) return false;
      *bytes = count + 4 * shape[0];
      return true;
  }
  return false;
}

namespace format {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::Q8_0: return "q8_0";
    case DType::Q4_0: return "q4_0";
    case DType::Q8_C: return "q8_c";
  }
  return "unknown";
}

bool parse_dtype(const std::string& name, DType* out) {
  for (DType t : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q8_C})
    if (name == dtype_name(t)) return *out = t, true;
  return false;
}

}  // namespace format

void validate_config(const ModelConfig& c, const std::string& where) {
  auto need = [&](bool ok, const char* what) {
    if (!ok) fail(where, ": invalid configuration: ", what);
  };
  need(c.vocab_size > 0, "vocab_size must be positive");
  need(c.hidden_size > 0, "hidden_size must be positive");
  need(c.num_layers > 0, "num_hidden_layers must be positive");
  need(c.num_heads > 0 && c.hidden_size % c.num_heads == 0,
       "num_attention_heads must divide hidden_size");
  need(c.intermediate_size > 0, "intermediate_size must be positive");
  need(c.max_positions > 0, "max_position_embeddings must be positive");
  need(c.type_vocab_size > 0, "type_vocab_size must be positive");
  need(c.num_landmarks > 0, "num_landmarks must be positive");
  need(c.segment_means_len > 0, "segment_means_seq_len must be positive");
  need(c.conv_kernel == 0 || c.conv_kernel % 2 == 1, "conv_kernel_size must be odd");
  need(c.layer_norm_eps > 0 && c.layer_norm_eps < 1, "layer_norm_eps must be in (0, 1)");
  need(c.head != HeadType::Classifier || !c.labels.empty(), "a classifier needs at least one label");
  need(c.head == HeadType::Classifier || c.labels.empty(), "labels given without a classifier head");
  need(c.head == HeadType::Classifier || c.problem_type == ProblemType::SingleLabel,
       "a multi-label or regression problem type without a classifier head");
  need(c.problem_type != ProblemType::Regression || c.labels.size() >= 1, "regression needs at least one output");
  // Keeps every size product below 2^63 and every index inside int32 loops.
  need(c.hidden_size <= 65536 && c.intermediate_size <= 262144 && c.num_layers <= 1024 &&
           c.vocab_size <= (1u << 24) && c.max_positions <= (1u << 24) && c.num_landmarks <= kMaxLandmarks &&
           c.conv_kernel <= 4097 && c.type_vocab_size <= 65536 && c.labels.size() <= 65536,
       "a size is out of the supported range");
}

namespace {

uint64_t align_up(uint64_t x) { return (x + format::kAlignment - 1) / format::kAlignment * format::kAlignment; }

bool all_zero(const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i]) return false;
  return true;
}

bool known_tokenizer_file(const std::string& name) {
  for (const char* known : format::kTokenizerFileNames)
    if (name == known) return true;
  return false;
}

template <typename T>
void append_le(std::string& out, T value) {
  char b[sizeof(T)];
  std::memcpy(b, &value, sizeof b);  // the format is little-endian, as are all supported targets
  out.append(b, sizeof b);
}

// The tokenizer section's bytes (layout: format.h).
std::string tokenizer_section(const std::string& path, const std::vector<TokenizerFileView>& files) {
  if (files.size() > format::kMaxTokenizerFiles)
    fail(path, ": ", files.size(), " tokenizer files (at most ", format::kMaxTokenizerFiles, ")");
  std::string out;
  append_le<uint32_t>(out, static_cast<uint32_t>(files.size()));
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& name = files[i].name;
    if (!known_tokenizer_file(name)) fail(path, ": '", name, "' is not a known tokenizer file name");
    for (size_t j = 0; j < i; ++j)
      if (files[j].name == name) fail(path, ": tokenizer file ", name, " given twice");
    append_le<uint32_t>(out, static_cast<uint32_t>(name.size()));
    out += name;
    append_le<uint64_t>(out, files[i].bytes.size());
    out += files[i].bytes;
  }
  return out;
}

}  // namespace

uint64_t write_model_file(const std::string& path, const ModelConfig& config,
                          const std::vector<TensorData>& tensors,
                          const std::vector<TokenizerFileView>& tokenizer) {
  validate_config(config, path);
  format::FileHeader h{};
  std::memcpy(h.magic, format::kMagic, 8);
  h.version = 1;
  for (const TensorData& t : tensors)
    if (t.dtype != DType::F32) h.version = 2;
  bool q8c = false;
  for (const TensorData& t : tensors) q8c = q8c || t.dtype == DType::Q8_C;
  h.header_size = format::kHeaderSize;
  h.tensor_table_offset = format::kHeaderSize;
  h.tensor_count = static_cast<uint32_t>(tensors.size());
  h.tensor_entry_size = format::kTensorEntrySize;
  h.config = config_record(config);

  std::string labels;
  for (const auto& l : config.labels) {
    if (l.find('\0') != std::string::npos) fail(path, ": label names must not contain NUL");
    labels += l;
    labels.push_back('\0');
  }
  uint64_t pos = h.tensor_table_offset + uint64_t(tensors.size()) * format::kTensorEntrySize;
  h.labels_offset = labels.empty() ? 0 : pos;
  h.labels_size = labels.size();
  pos += labels.size();

  std::vector<format::TensorEntry> table(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorData& t = tensors[i];
    format::TensorEntry& e = table[i];
    if (t.name.empty() || t.name.size() > format::kMaxNameLength)
      fail(path, ": tensor name '", t.name, "' must have 1 to ", format::kMaxNameLength, " bytes");
    if (t.shape.empty() || t.shape.size() > 4) fail(path, ": tensor ", t.name, " must have 1 to 4 dims");
    std::memcpy(e.name, t.name.data(), t.name.size());
    e.dtype = static_cast<uint32_t>(t.dtype);
    e.ndim = static_cast<uint32_t>(t.shape.size());
    for (size_t d = 0; d < t.shape.size(); ++d) e.shape[d] = t.shape[d];
    uint64_t expect = 0;
    if (!tensor_bytes(t.dtype, t.shape, &expect))
      fail(path, ": tensor ", t.name, " cannot be stored as ", dtype_name(t.dtype), " with its shape");
    if (expect != t.bytes.size())
      fail(path, ": tensor ", t.name, " holds ", t.bytes.size(), " bytes, its shape needs ", expect);
    pos = align_up(pos);
    e.offset = pos;
    e.size = t.bytes.size();
    pos += e.size;
  }
  const std::string tok = tokenizer.empty() ? std::string() : tokenizer_section(path, tokenizer);
  if (!tok.empty()) {
    h.version = format::kTokenizerVersion;
    pos = align_up(pos);
    h.tokenizer_offset = pos;
    h.tokenizer_size = tok.size();
    pos += tok.size();
  }
  if (q8c) h.version = format::kQ8cVersion;
  h.file_size = pos;

  // The file is produced twice by the same routine: once into the checksum,
  // once onto disk, so the two can never disagree.
  auto emit = [&](const std::function<void(const void*, size_t)>& out) {
    static const uint8_t zeros[format::kAlignment] = {};
    uint64_t at = 0;
    auto put = [&](const void* p, size_t n) { out(p, n), at += n; };
    auto pad = [&](uint64_t to) { while (at < to) put(zeros, std::min<uint64_t>(to - at, sizeof zeros)); };
    put(&h, sizeof h);
    if (!table.empty()) put(table.data(), table.size() * sizeof(format::TensorEntry));
    put(labels.data(), labels.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      pad(table[i].offset);
      put(tensors[i].bytes.data(), tensors[i].bytes.size());
    }
    if (!tok.empty()) {
      pad(h.tokenizer_offset);
      put(tok.data(), tok.size());
    }
  };
  Nyh64 hash;
  bool skip_head = true;
  emit([&](const void* p, size_t n) {
    if (skip_head) {  // the header is the first piece: hash it from byte 16 on
      skip_head = false;
      hash.update(static_cast<const uint8_t*>(p) + 16, n - 16);
    } else {
      hash.update(p, n);
    }
  });
  h.checksum = hash.finish();

  AtomicFile file(path);
  emit([&](const void* p, size_t n) { file.write(p, n); });
  file.commit();
  return h.file_size;
}

ModelFile::ModelFile(const std::string& path, bool verify_checksum) : path_(path) {
  map_ = std::make_unique<MappedFile>(path);
  const uint8_t* base = map_->data();
  const uint64_t size = map_->size();
  auto bad = [&](const auto&... parts) { fail(path, ": ", parts...); };

  if (size < 8 || std::memcmp(base, format::kMagic, 8) != 0) bad("not a .nyf model file (bad magic)");
  if (size < format::kHeaderSize) bad("truncated header (", size, " bytes)");
  format::FileHeader h;
  std::memcpy(&h, base, sizeof h);
  if (h.file_size != size)
    bad("file is ", size, " bytes but its header says ", h.file_size, " (truncated or appended to)");
  // The checksum comes first: a damaged version field must not send the user
  // off to upgrade the engine.
  if (verify_checksum && nyh64(base + 16, size - 16) != h.checksum)
    bad("checksum mismatch: the file is corrupted");
  if (h.version > format::kFormatVersion)
    bad("format version ", h.version, " is newer than this engine supports (", format::kFormatVersion,
        "); upgrade the engine");
  if (h.version == 0) bad("invalid format version 0");
  version_ = h.version;
  if (h.header_size != format::kHeaderSize || h.tensor_entry_size != format::kTensorEntrySize)
    bad("unexpected header or table entry size");
  if (!all_zero(h.reserved, sizeof h.reserved) || 
      (h.version < format::kTokenizerVersion && (h.tokenizer_offset != 0 || h.tokenizer_size != 0)))
    bad("reserved header fields are not zero");

  const format::ConfigRecord& r = h.config;
  if (r.activation > 2) bad("unknown activation code ", r.activation);
  if (r.head > 2) bad("unknown head code ", r.head);
  if (r.problem_type > 2) bad("unknown problem type code ", r.problem_type);
  config_ = config_from_record(r);

  // Labels: exactly num_labels NUL-terminated strings.
  if (r.num_labels > 65536) bad("too many labels (", r.num_labels, ")");
  if (h.labels_size > 0) {
    if (h.labels_offset < format::kHeaderSize || h.labels_offset > size || h.labels_size > size - h.labels_offset)
      bad("label section lies outside the file");
    const char* p = reinterpret_cast<const char*>(base + h.labels_offset);
    const char* end = p + h.labels_size;
    if (end[-1] != '\0') bad("label section is not NUL-terminated");
    while (p < end) {
      size_t len = std::strlen(p);
      config_.labels.emplace_back(p, len);
      p += len + 1;
    }
  }
  if (config_.labels.size() != r.num_labels)
    bad("label section holds ", config_.labels.size(), " names, the header says ", r.num_labels);
  validate_config(config_, path);

  // Tensor table. others_end: where the last part before a tokenizer
  // section ends.
  uint64_t table_end = 0;
  if (h.tensor_table_offset < format::kHeaderSize || h.tensor_table_offset > size ||
      h.tensor_count > (size - h.tensor_table_offset) / format::kTensorEntrySize)
    bad("tensor table lies outside the file");
  table_end = h.tensor_table_offset + uint64_t(h.tensor_count) * format::kTensorEntrySize;
  uint64_t others_end = std::max(table_end, h.labels_size ? h.labels_offset + h.labels_size : 0);
  tensors_.reserve(h.tensor_count);
  for (uint32_t i = 0; i < h.tensor_count; ++i) {
    format::TensorEntry e;
    std::memcpy(&e, base + h.tensor_table_offset + uint64_t(i) * format::kTensorEntrySize, sizeof e);
    if (std::memchr(e.name, '\0', sizeof e.name) == nullptr || e.name[0] == '\0')
      bad("tensor ", i, " has an invalid name");
    std::string name(e.name);
    if (!all_zero(e.name + name.size(), sizeof e.name - name.size()) || e.reserved != 0)
      bad("tensor ", name, ": reserved bytes are not zero");
    if (e.dtype > uint32_t(DType::Q8_C)) bad("tensor ", name, ": unknown dtype code ", e.dtype);
    if (e.dtype != uint32_t(DType::F32) && h.version < 2)
      bad("tensor ", name, ": dtype ", dtype_name(DType(e.dtype)), " needs format version 2, the file says ", h.version);
    if (e.dtype == uint32_t(DType::Q8_C) && h.version < format::kQ8cVersion)
      bad("tensor ", name, ": dtype q8_c needs format version ", format::kQ8cVersion, ", the file says ", h.version);
    if (e.ndim < 1 || e.ndim > 4) bad("tensor ", name, ": ndim ", e.ndim, " is not 1..4");
    TensorView v{name, static_cast<DType>(e.dtype), {}, nullptr, e.size};
    for (uint32_t d = 0; d < 4; ++d) {
      if (d < e.ndim && e.shape[d] == 0) bad("tensor ", name, ": zero-sized dim");
      if (d >= e.ndim && e.shape[d] != 0) bad("tensor ", name, ": unused dims are not zero");
      if (d < e.ndim) v.shape.push_back(e.shape[d]);
    }
    uint64_t expect = 0;
    if (!tensor_bytes(v.dtype, v.shape, &expect) || expect != e.size)
      bad("tensor ", name, ": size ", e.size, " does not match its shape and dtype");
    if (e.offset % format::kAlignment != 0) bad("tensor ", name, ": data is not 64-byte aligned");
    if (e.offset < table_end || e.offset > size || e.size > size - e.offset)
      bad("tensor ", name, ": data lies outside the file");
    for (const TensorView& other : tensors_)
      if (other.name == name) bad("tensor ", name, " appears twice");
    v.data = base + e.offset;
    tensors_.push_back(std::move(v));
    others_end = std::max(others_end, e.offset + e.size);
  }
  read_tokenizer_section(h, others_end);
}

void ModelFile::read_tokenizer_section(const format::FileHeader& h, uint64_t others_end) {
  auto bad = [&](const auto&... parts) { fail(path_, ": tokenizer section ", parts...); };
  if (h.tokenizer_size == 0) {
    if (h.tokenizer_offset != 0) bad("has size 0 but offset ", h.tokenizer_offset);
    return;
  }
  const uint64_t size = map_->size();
  if (h.tokenizer_offset % format::kAlignment != 0) bad("is not 64-byte aligned");
  if (h.tokenizer_offset > size || h.tokenizer_size > size - h.tokenizer_offset) bad("lies outside the file");
  if (h.tokenizer_offset + h.tokenizer_size != size) bad("does not end the file");
  if (h.tokenizer_offset < others_end) bad("overlaps the tensor table, labels or tensor data");

  const char* p = reinterpret_cast<const char*>(map_->data() + h.tokenizer_offset);
  uint64_t left = h.tokenizer_size;
  // Reads n bytes of the section into out (or skips them when out is null).
  auto take = [&](void* out, uint64_t n, const char* what, size_t file) {
    if (n > left) bad("is truncated in ", what, " of file ", file);
    if (out) std::memcpy(out, p, n);
    p += n, left -= n;
  };
  uint32_t count = 0;
  take(&count, 4, "the file count", 0);
  if (count == 0 || count > format::kMaxTokenizerFiles)
    bad("holds ", count, " files (1 to ", format::kMaxTokenizerFiles, " allowed)");
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t name_length = 0;
    take(&name_length, 4, "the name length", i);
    if (name_length == 0 || name_length > format::kMaxTokenizerNameLength)
      bad("file ", i, ": name length ", name_length, " is not 1..", format::kMaxTokenizerNameLength);
    std::string name(name_length, '\0');
    take(&name[0], name_length, "the name", i);
    if (!known_tokenizer_file(name)) bad("file ", i, ": '", name, "' is not a known tokenizer file name");
    for (const TokenizerFileView& f : tokenizer_files_)
      if (f.name == name) bad("holds ", name, " twice");
    uint64_t data_size = 0;
    take(&data_size, 8, "the data size", i);
    const char* data = p;
    take(nullptr, data_size, "the data", i);
    tokenizer_files_.push_back({std::move(name), std::string_view(data, data_size)});
  }
  if (left != 0) bad("has ", left, " bytes after its last file");
}

const TensorView* ModelFile::find(const std::string& name) const {
  for (const TensorView& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace nystrom
