// The .nyf model file, byte by byte. All integers little-endian; floats are
// IEEE-754 binary32. A reader maps the file read-only and uses tensor data in
// place, so every tensor starts at a multiple of 64 bytes.
//
//   offset  size  field
//   0       8     magic "NYFMODEL"
//   8       8     checksum: NYH64 (below) of bytes [16, file_size)
//   16      4     version (1: f32 tensors only; 2: adds f16, q8_0, q4_0;
//                 3: adds the tokenizer section; 4: adds q8_c)
//   20      4     header_size = 256
//   24      8     file_size, in bytes
//   32      8     tensor_table_offset (multiple of 64)
//   40      4     tensor_count
//   44      4     tensor_entry_size = 128
//   48      8     labels_offset: num_labels UTF-8 strings, each NUL-terminated
//   56      8     labels_size (0 when there are no labels)
//   64      8     tokenizer_offset: the tokenizer section (version 3; else 0)
//   72      8     tokenizer_size    (0 when there is no tokenizer section)
//   80      64    ConfigRecord (below)
//   144     112   reserved, zero
//   256     ...   tensor table, then labels, then tensor data, then the
//                 tokenizer section (if any)
//
// Tensor table entry (128 bytes):
//   0   64  name, UTF-8, NUL-terminated and NUL-padded (at most 63 bytes),
//           Hugging Face name without the "nystromformer." prefix
//   64  4   dtype (DType)
//   68  4   ndim, 1..4
//   72  32  shape[4], u64, unused dims 0; shape[0] is the slowest-varying
//   104 8   data offset from the start of the file (multiple of 64)
//   112 8   data size in bytes (exactly what dtype and shape imply)
//   120 8   reserved, zero
//
// Tokenizer section (version 3): the tokenizer files of the checkpoint
// folder, copied verbatim, so that the engine builds the very tokenizer the
// converter checked. It comes last: it starts at a multiple of 64 after the
// end of everything else (a writer pads with zeros to the next one) and ends
// the file, so tokenizer_offset + tokenizer_size = file_size:
//   4   file_count, 1..16
//   then file_count records, back to back, no padding:
//     4   name_length, 1..64
//     n   name: one of kTokenizerFileNames (below: "tokenizer.json",
//         "spiece.model", "vocab.txt", "vocab.json", "merges.txt",
//         "tokenizer_config.json", "special_tokens_map.json"), each at
//         most once
//     8   data_size
//     d   data: the file's bytes, unchanged
// so tokenizer_size = 4 + sum over records of (12 + name_length + data_size).
// A reader refuses a section that is misaligned, does not end the file,
// overlaps the header, the table, the labels or any tensor, repeats or
// does not know a name, or whose records do not add up to tokenizer_size;
// what the files themselves hold is checked when the tokenizer is built from
// them. The checksum covers the section like every other byte.
//
// Version rules: a reader accepts files whose version is <= its own and
// refuses newer ones with a message naming both. Reserved fields and padding
// are zero and covered by the checksum, so later versions can give them a
// meaning without changing how older files read. A writer writes the lowest
// version that can express the file's contents: 4 when a tensor is q8_c,
// else 3 when it has a tokenizer, else 1 when every tensor is f32, else 2 (so
// a file without a tokenizer is byte for byte what a version 2 writer wrote).
// A version 1 file holding a dtype other than f32, a version 1 or 2 file
// whose tokenizer fields are not zero, and a file below version 4 holding a
// q8_c tensor are malformed.
//
// Which tensors may be stored in which dtype: the 2-D weight matrices of
// linear layers, the masked-LM decoder and the word and position embedding
// tables may use any dtype (quantized only when their column count is a
// multiple of 32, and q8_c only up to 65536 columns); every other tensor (LayerNorm, biases, conv, token-type
// embeddings) is f32.
//
// NYH64, the checksum: four 64-bit lanes, initialised to
//   v0 = P1 + P2, v1 = P2, v2 = 0, v3 = -P1  (mod 2^64)
// with P1 = 0x9E3779B185EBCA87, P2 = 0xC2B2AE3D27D4EB4F. The input is split
// into 32-byte stripes (the last one zero-padded); word i (0..3) of a stripe,
// read as a little-endian u64 w, updates lane i:  v = rotl(v + w * P2, 31) * P1.
// Then h = rotl(v0,1) + rotl(v1,7) + rotl(v2,12) + rotl(v3,18) + length, and
// finally h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P1; h ^= h >> 32.
#pragma once

#include <cstdint>
#include <string>

#include "nystrom/export.h"

namespace nystrom::format {

constexpr char kMagic[8] = {'N', 'Y', 'F', 'M', 'O', 'D', 'E', 'L'};
constexpr uint32_t kFormatVersion = 4;
constexpr uint32_t kQ8cVersion = 4;            // first version with q8_c
constexpr uint64_t kQ8cMaxCols = 65536;
constexpr uint32_t kTokenizerVersion = 3;       // first version with a tokenizer section
constexpr uint32_t kMaxTokenizerFiles = 16;
constexpr uint32_t kMaxTokenizerNameLength = 64;
constexpr uint32_t kHeaderSize = 256;
constexpr uint32_t kTensorEntrySize = 128;
constexpr uint32_t kAlignment = 64;
constexpr uint32_t kMaxNameLength = 63;

// The tokenizer files a checkpoint folder may hold (and so the names a
// tokenizer section may use), in the order the converter looks for them.
constexpr const char* kTokenizerFileNames[] = {"tokenizer.json", "spiece.model",          "vocab.txt",
                                               "vocab.json",     "merges.txt",            "tokenizer_config.json",
                                               "special_tokens_map.json"};

// Element types. Quantized types (version 2) apply to 2-D tensors [rows x
// cols] with cols a multiple of 32: each row is cols/32 blocks of 32 values.
//   Q8_0 block, 34 bytes: f16 d, then int8 q[32];  x[i] ~ d * q[i].
//     Rule: a = max |x[i]|, d = a / 127, q[i] = round-half-away(x[i] / d)
//     (0 when d == 0), computed with d in float; d is then stored rounded
//     to f16 (nearest, ties to even).
//   Q4_0 block, 18 bytes: f16 d, then 16 bytes; byte j holds element j in
//     its low nibble and element j + 16 in its high nibble, as q in 0..15,
//     x ~ d * (q - 8).
//     Readers need only the layout; the converter chooses d and q per block:
//     v = the x[i] of largest magnitude (the first on ties). The classic
//     rule d = v / -8, q[i] = min(15, trunc(x[i] / d + 8.5)) (8 when d == 0,
//     d in float, stored rounded to f16) is kept for zero and non-finite
//     blocks; for others, each d = v / t, t in -8, -7.75, .. -6.5 and 6.5,
//     6.75, .. 7.5, gives codes q - 8 = clamp(round-half-up(x / d), -8, 7)
//     and then the least-squares d for them with weights (x / v)^2, rounded
//     to f16; the first candidate whose error sum (x / v)^2 (x - d (q - 8))^2,
//     with the f16 d, is below the classic rule's and every earlier one's
//     replaces it (src/kernels/quant.cpp).
//   Q8_C (version 4), per output channel: a 2-D tensor [rows x cols], cols
//     a multiple of 32 and at most 65536 (so integer dot products over a
//     whole row fit in int32), is rows * cols int8 q, row-major, then rows
//     f32 scales s (so data size = rows * (cols + 4), and the scales start
//     32-byte aligned); x[r][i] ~ s[r] * q[r][i].
//     Rule, per row: a = max |x[i]| over the row, s = a / 127 in float,
//     q[i] = round-half-away(x[i] / s) (0 when s == 0). The scale stays f32:
//     it costs 4 bytes a row, and a row's absmax can lie outside f16's range.
//     A row holding an infinity or NaN gets s = NaN and q = 0 (its outputs
//     are NaN, as q8_0's would be).
enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,   // IEEE binary16 (version 2)
  Q8_0 = 2,  // version 2
  Q4_0 = 3,  // version 2
  Q8_C = 4,  // version 4
};

// "f32", "f16", "q8_0", "q4_0", "q8_c"; parse_dtype gives false for other names.
NYSTROM_API const char* dtype_name(DType t);
NYSTROM_API bool parse_dtype(const std::string& name, DType* out);

enum class ActivationCode : uint32_t { GeluTanh = 0, GeluErf = 1, Relu = 2 };
enum class HeadCode : uint32_t { None = 0, MaskedLM = 1, Classifier = 2 };
// What a classifier's logits mean (ModelConfig::problem_type). The field was
// reserved (zero) before, so every earlier file reads as single-label, and a
// file that is not multi-label or regression is byte for byte what an
// earlier writer wrote. A reader refuses an unknown code, and a nonzero one
// without a classifier head.
enum class ProblemTypeCode : uint32_t { SingleLabel = 0, MultiLabel = 1, Regression = 2 };

struct ConfigRecord {            // 64 bytes
  uint32_t vocab_size;
  uint32_t hidden_size;
  uint32_t num_layers;
  uint32_t num_heads;
  uint32_t intermediate_size;
  uint32_t max_positions;        // longest input in tokens (HF max_position_embeddings)
  uint32_t type_vocab_size;
  uint32_t num_landmarks;
  uint32_t segment_means_len;    // exact attention when equal to num_landmarks
  uint32_t conv_kernel;          // 0: no depthwise conv skip; else odd
  uint32_t activation;           // ActivationCode
  uint32_t head;                 // HeadCode
  uint32_t num_labels;           // classifier outputs (0 without a classifier)
  uint32_t position_offset;      // position row of token 0 (2 in HF checkpoints)
  float layer_norm_eps;
  uint32_t problem_type;         // ProblemTypeCode; 0 without a classifier head
};

struct FileHeader {              // 256 bytes
  char magic[8];
  uint64_t checksum;
  uint32_t version;
  uint32_t header_size;
  uint64_t file_size;
  uint64_t tensor_table_offset;
  uint32_t tensor_count;
  uint32_t tensor_entry_size;
  uint64_t labels_offset;
  uint64_t labels_size;
  uint64_t tokenizer_offset;
  uint64_t tokenizer_size;
  ConfigRecord config;
  uint8_t reserved[112];
};

struct TensorEntry {             // 128 bytes
  char name[64];
  uint32_t dtype;
  uint32_t ndim;
  uint64_t shape[4];
  uint64_t offset;
  uint64_t size;
  uint64_t reserved;
};

static_assert(sizeof(ConfigRecord) == 64, "ConfigRecord layout");
static_assert(sizeof(FileHeader) == kHeaderSize, "FileHeader layout");
static_assert(sizeof(TensorEntry) == kTensorEntrySize, "TensorEntry layout");

}  // namespace nystrom::format
