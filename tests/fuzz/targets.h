// The body of every fuzz target, one function per reader of outside data.
// Each takes arbitrary bytes and must return normally: a reader may refuse
// the input only by throwing nystrom::Error. Anything else (a sanitizer
// report, another exception, a broken invariant) is a finding.
//
// The libFuzzer entry points (tests/fuzz/fuzz_<name>.cpp) call these, and so
// does tests/fuzz/test_fuzz_regressions.cpp, which replays the seed corpora and
// the saved reproducers (tests/fuzz/regressions/<name>/) in the normal suite.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "convert/pickle.h"
#include "convert/safetensors.h"
#include "convert/torch_bin.h"
#include "convert/zip.h"
#include "format/checksum.h"
#include "format/model_file.h"
#include "fuzz_support.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "runtime/json.h"
#include "text/sentencepiece.h"
#include "text/tokenizer.h"

namespace fuzz {

// Every error message is one line (the library's contract; the tools print
// it as it is), whatever names from the file it quotes.
inline void one_line(const nystrom::Error& e) {
  std::string_view m = e.what();
  if (m.find('\n') != std::string_view::npos || m.find('\r') != std::string_view::npos) {
    std::fprintf(stderr, "message: %s\n", e.what());
    violated("an error message spans several lines");
  }
}

// ---------------------------------------------------------------- json

inline void walk_json(const nystrom::JsonValue& v) {
  using T = nystrom::JsonValue::Type;
  switch (v.type) {
    case T::Number:
      try {
        int64_t x = v.as_int("value");
        if (v.is_integer) check(x == v.integer, "as_int of an integer literal returns it");
      } catch (const nystrom::Error&) {
        check(!v.is_integer, "as_int refused an integer literal");
      }
      break;
    case T::String: touch(v.string.data(), v.string.size()); break;
    case T::Array:
      for (const auto& e : v.array) walk_json(e);
      break;
    case T::Object:
      for (const auto& m : v.object) {
        check(v.find(m.first) != nullptr, "find misses a key the object holds");
        walk_json(m.second);
      }
      break;
    default: break;
  }
}

inline void json(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    nystrom::JsonValue v = nystrom::parse_json(text, "fuzz.json");
    walk_json(v);
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
}

// ----------------------------------------------------------- hf config

inline void hf_config(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nystrom::JsonValue v;
  try {
    v = nystrom::parse_json(text, "config.json");
  } catch (const nystrom::Error& e) {
    one_line(e);
    return;
  }
  try {
    nystrom::ModelConfig c = nystrom::parse_hf_config(v, "config.json");
    // What the parser accepts must be what the writer and loader accept.
    nystrom::validate_config(c, "config.json");
    check(c.head != nystrom::HeadType::Classifier || !c.labels.empty(), "hf_config: classifier without labels");
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
}

// --------------------------------------------------------- safetensors

inline void safetensors(const uint8_t* data, size_t size) {
  const std::string& path = memory_file(data, size);
  try {
    nystrom::SafetensorsFile f(path);
    for (const nystrom::SafeTensor& t : f.tensors()) {
      uint64_t elem = nystrom::safetensors_dtype_size(t.dtype);
      check(elem != 0, "safetensors: tensor with an unknown dtype accepted");
      uint64_t count = 1;
      bool zero = false;
      for (uint64_t d : t.shape) zero = zero || d == 0;
      for (uint64_t d : t.shape) count = zero ? 0 : count * d;
      check(t.nbytes == count * elem, "safetensors: nbytes differs from dtype size * shape");
      check(t.nbytes <= size, "safetensors: tensor larger than the file");
      touch(t.data, t.nbytes);
      check(f.find(t.name) != nullptr, "safetensors: find misses a listed tensor");
    }
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
}

// ----------------------------------------------------------------- npy

inline void npy(const uint8_t* data, size_t size) {
  const std::string& path = memory_file(data, size);
  try {
    nystrom::NpyArray a = nystrom::read_npy(path);
    uint64_t item = a.dtype == "<i8" ? 8 : 4;
    check(a.dtype == "<i8" || a.dtype == "<i4" || a.dtype == "<f4", "npy: unsupported dtype accepted");
    check(a.data.size() == a.count() * item, "npy: data size differs from shape * item size");
    touch(a.data.data(), a.data.size());
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
  // The typed readers the CLI and the tests use on the same bytes.
  try {
    std::vector<int64_t> ids = nystrom::read_npy_ids(path);
    touch(ids.data(), ids.size() * sizeof(int64_t));
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
  try {
    std::vector<uint64_t> shape;
    std::vector<float> v = nystrom::read_npy_f32(path, &shape);
    touch(v.data(), v.size() * sizeof(float));
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
}

// ---------------------------------------------------------- tokenizers

// What every tokenizer target encodes, with and without the template:
// plain text, special tokens spelled in it, accents, CJK, emoji, tabs and
// line breaks, nothing, only spaces, invalid UTF-8 (stray, truncated,
// overlong, surrogate, above U+10FFFF) and one long word, long enough that
// work quadratic in a word's length takes seconds.
inline const std::vector<std::string>& tokenizer_texts() {
  static const std::vector<std::string> texts = {
      "Hello, world! It's a test: [CLS] [MASK] <mask> <s> </s> <unk> [UNK] 123 4.5% ``quoted''",
      "  \xC3\x9Cn\xC3\xAF""c\xC3\xB6""d\xC3\xA9 a\xCC\x80""ccents, \xC3\x87""A VA?\tTabs\r\nlines \xE2\x96\x81 "
      "\xE4\xB8\xAD\xE6\x96\x87 \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD "
      "\xEF\xBC\xA1\xE3\x80\x80x",
      "",
      "   \t\n  ",
      "a\xFF\xC3(b\xED\xA0\x80\xF4\x90\x80\x80 \xC0\xAF end\xE2\x82",
      std::string(6000, 'a') + "bc" + std::string(2000, '!'),
  };
  return texts;
}

// Encodes each text with and without the template, checks the ids (each
// has a token string), and decodes them both ways. Works on text::Tokenizer and on the public
// nystrom::Tokenizer of a model file alike.
template <typename Tok>
void exercise_tokenizer(const Tok& tok, const std::vector<std::string>& texts) {
  const int32_t n = tok.vocab_size();
  check(n >= 0, "tokenizer: negative vocab_size");
  check(tok.num_special_tokens() >= 0, "tokenizer: negative num_special_tokens");
  if (auto mask = tok.mask_id()) check(*mask >= 0 && *mask < n, "tokenizer: mask id outside the vocabulary");
  (void)tok.kind();
  for (const std::string& text : texts) {
    std::vector<int32_t> plain, full;
    try {
      plain = tok.encode(text, false);
      full = tok.encode(text, true);
    } catch (const nystrom::Error& e) {
      one_line(e);  // e.g. a WordLevel model without its unknown token
      continue;
    }
    check(full.size() == plain.size() + static_cast<size_t>(tok.num_special_tokens()),
          "tokenizer: the template adds other than num_special_tokens ids");
    for (int32_t id : full) check(id >= 0 && id < n, "tokenizer: encode returned an id outside the vocabulary");
    try {
      for (int32_t id : full) (void)tok.id_to_token(id);
    } catch (const nystrom::Error& e) {
      std::fprintf(stderr, "message: %s\n", e.what());
      violated("tokenizer: id_to_token refused an id that encode returned");
    }
    // Decoding may refuse only with an Error (a decoder chain that makes
    // the text too long).
    for (bool skip : {true, false}) {
      try {
        const std::string back = tok.decode(full, skip);
        touch(back.data(), back.size());
      } catch (const nystrom::Error& e) {
        one_line(e);
      }
    }
  }
  // Ids outside the vocabulary are refused with an Error, not read.
  for (int32_t id : {-1, n}) {
    try {
      (void)tok.id_to_token(id);
      violated("tokenizer: id_to_token accepted an id outside the vocabulary");
    } catch (const nystrom::Error& e) {
      one_line(e);
    }
  }
}

// Builds a tokenizer from these files and exercises it; a refusal must be
// an Error.
inline void load_and_exercise(const std::vector<nystrom::text::TokenizerFile>& files) {
  std::unique_ptr<nystrom::text::Tokenizer> tok;
  try {
    tok = nystrom::text::load_tokenizer(files);
  } catch (const nystrom::Error& e) {
    one_line(e);
    return;
  }
  if (tok) exercise_tokenizer(*tok, tokenizer_texts());
}

inline void tokenizer_json(const uint8_t* data, size_t size) {
  load_and_exercise({{"tokenizer.json", std::string(reinterpret_cast<const char*>(data), size)}});
}

// spiece.model through load_tokenizer (ALBERT's preparation around spm's
// tokenizer) and directly (spm's own template and lower-casing).
inline void spiece_model(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  load_and_exercise({{"spiece.model", bytes}});
  nystrom::text::SentencePieceOptions options;
  options.lower_case = true;
  std::unique_ptr<nystrom::text::Tokenizer> tok;
  try {
    tok = nystrom::text::make_sentencepiece_tokenizer(bytes, options);
  } catch (const nystrom::Error& e) {
    one_line(e);
    return;
  }
  check(tok != nullptr, "spiece.model: no tokenizer and no error");
  exercise_tokenizer(*tok, tokenizer_texts());
}

// The input as vocabulary files: the first byte's low bit picks vocab.txt
// (0) or vocab.json + merges.txt (1); the rest is cut at NUL bytes into
// those files, then tokenizer_config.json and special_tokens_map.json,
// each present only if its part is (the last part keeps any further NULs).
inline std::vector<nystrom::text::TokenizerFile> vocab_file_parts(const uint8_t* data, size_t size) {
  std::vector<nystrom::text::TokenizerFile> files;
  if (size == 0) return files;
  std::vector<std::string> names;
  if (data[0] & 1)
    names = {"vocab.json", "merges.txt"};
  else
    names = {"vocab.txt"};
  names.push_back("tokenizer_config.json");
  names.push_back("special_tokens_map.json");
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (size_t k = 0; k < names.size(); ++k) {
    const size_t cut = k + 1 < names.size() ? rest.find('\0') : std::string_view::npos;
    files.push_back({names[k], std::string(rest.substr(0, cut))});
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  return files;
}

inline void vocab_files(const uint8_t* data, size_t size) { load_and_exercise(vocab_file_parts(data, size)); }

// ---------------------------------------------------------- model file

inline void check_model_file(const nystrom::ModelFile& f) {
  try {
    nystrom::validate_config(f.config(), "fuzz.nyf");
  } catch (const nystrom::Error&) {
    violated("model file: ModelFile accepted a configuration validate_config refuses");
  }
  for (const nystrom::TensorView& t : f.tensors()) {
    uint64_t bytes = 0;
    check(nystrom::tensor_bytes(t.dtype, t.shape, &bytes) && bytes == t.size,
          "model file: tensor size differs from dtype and shape");
    check(f.find(t.name) == &t, "model file: find does not return the first tensor of a name");
    touch(t.data, t.size);
  }
}

// The bytes as they are, without the checksum check (so that the fuzzer gets
// past it); then the same bytes with the right checksum through
// Model::open, which also binds every weight (and repacks quantized ones).
inline void model_file(const uint8_t* data, size_t size) {
  bool raw_ok = false;
  try {
    nystrom::ModelFile f(memory_file(data, size), /*verify_checksum=*/false);
    check_model_file(f);
    raw_ok = true;
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
  if (size < 16) return;
  std::vector<uint8_t> fixed(data, data + size);
  uint64_t sum = nystrom::nyh64(fixed.data() + 16, fixed.size() - 16);
  for (int i = 0; i < 8; ++i) fixed[8 + i] = static_cast<uint8_t>(sum >> (8 * i));
  const std::string& path = memory_file(fixed.data(), fixed.size(), 1);
  size_t tokenizer_files = 0;
  try {
    nystrom::ModelFile f(path);
    check(raw_ok, "model file: accepted with the checksum, refused without it");
    check_model_file(f);
    tokenizer_files = f.tokenizer_files().size();
  } catch (const nystrom::Error&) {
    check(!raw_ok, "model file: accepted without the checksum check, refused with a right checksum");
    return;
  }
  std::shared_ptr<const nystrom::Model> model;
  try {
    model = nystrom::Model::open(path);
    check(model->config().hidden_size > 0, "model: opened with hidden_size 0");
  } catch (const nystrom::Error& e) {
    one_line(e);
    return;
  }
  // The tokenizer section (version 3), built on first use.
  check(model->has_tokenizer() == (tokenizer_files > 0), "model: has_tokenizer differs from the file");
  try {
    if (const nystrom::Tokenizer* tok = model->tokenizer()) {
      check(tok->vocab_size() > 0 && static_cast<uint32_t>(tok->vocab_size()) <= model->config().vocab_size,
            "model: tokenizer ids beyond the model's vocabulary");
      exercise_tokenizer(*tok, {"Hello, world! [MASK] <mask> hello", "a\xFF\xC3(b"});
    } else {
      check(tokenizer_files == 0, "model: a tokenizer section but no tokenizer");
    }
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
}

// ----------------------------------------------------------------- zip

// Every entry's data, twice (the second read skips the CRC it checked).
inline void zip(const uint8_t* data, size_t size) {
  try {
    nystrom::ZipArchive z(std::vector<uint8_t>(data, data + size), "fuzz.zip");
    for (const nystrom::ZipEntry& e : z.entries()) {
      check(z.find(e.name) != nullptr, "zip: find misses a listed entry");
      check(e.data_offset <= size && e.compressed_size <= size - e.data_offset, "zip: entry data outside the file");
      for (int pass = 0; pass < 2; ++pass) {
        try {
          std::string_view bytes = z.data(e);
          check(e.method == 0, "zip: data() returned a compressed entry");
          check(bytes.size() == e.size, "zip: data() size differs from the entry's");
          touch(bytes.data(), bytes.size());
        } catch (const nystrom::Error& e) {
          one_line(e);
        }
      }
    }
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
}

// -------------------------------------------------------------- pickle

// The globals a state dict needs (as convert/torch_bin.cpp allows them).
inline const std::vector<std::string>& pickle_globals() {
  static const std::vector<std::string> names = {
      "collections OrderedDict", "torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_parameter",
      "torch FloatStorage",      "torch HalfStorage",               "torch BFloat16Storage",
      "torch LongStorage"};
  return names;
}

// Visits every value once (a list may hold itself, memo entries are shared).
inline void walk_pickle(const nystrom::pickle::Value& v, std::set<const nystrom::pickle::Value*>& seen) {
  if (!seen.insert(&v).second) return;
  using nystrom::pickle::Kind;
  touch(v.text.data(), v.text.size());
  if (v.is(Kind::Call)) check(v.items.size() >= 2 && v.items[0]->is(Kind::Global), "pickle: malformed Call");
  if (v.is(Kind::PersistentId)) check(v.items.size() == 1, "pickle: malformed PersistentId");
  (void)nystrom::pickle::kind_name(v.kind);
  (void)v.call_name();
  for (const nystrom::pickle::Value* item : v.items) {
    check(item != nullptr, "pickle: null item");
    walk_pickle(*item, seen);
  }
  for (const auto& kv : v.entries) {
    check(kv.first != nullptr && kv.second != nullptr, "pickle: null dict entry");
    walk_pickle(*kv.first, seen);
    walk_pickle(*kv.second, seen);
  }
}

// Small limits, so that inputs of a few KB reach the limit checks too.
inline void pickle(const uint8_t* data, size_t size) {
  std::string_view program(reinterpret_cast<const char*>(data), size);
  nystrom::pickle::Limits limits;
  limits.max_stack = 512;
  limits.max_memo = 256;
  try {
    nystrom::pickle::Pickle p(program, pickle_globals(), "fuzz.pkl", limits);
    std::set<const nystrom::pickle::Value*> seen;
    walk_pickle(p.root(), seen);
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
}

// ----------------------------------------------------------- torch .bin

inline void torch_bin(const uint8_t* data, size_t size) {
  const std::string& path = memory_file(data, size);
  try {
    nystrom::TorchBinFile f(path);
    for (const nystrom::SafeTensor& t : f.tensors()) {
      uint64_t elem = nystrom::safetensors_dtype_size(t.dtype);
      check(t.dtype == "F32" || t.dtype == "F16" || t.dtype == "BF16" || t.dtype == "I64",
            "torch_bin: unexpected dtype");
      uint64_t count = 1;
      bool zero = false;
      for (uint64_t d : t.shape) zero = zero || d == 0;
      for (uint64_t d : t.shape) count = zero ? 0 : count * d;
      check(t.nbytes == count * elem, "torch_bin: nbytes differs from dtype size * shape");
      touch(t.data, t.nbytes);
      check(f.find(t.name) != nullptr, "torch_bin: find misses a listed tensor");
    }
  } catch (const nystrom::Error& e) {
    one_line(e);
  }
}

}  // namespace fuzz
