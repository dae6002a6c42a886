// nystrom: a dependency-free inference engine for Nystromformer encoders.
//
// Typical use:
//   auto model = nystrom::Model::open("model.nyf");        // maps the file read-only
//   nystrom::Session session(model);                        // owns its work buffers
//   nystrom::Output out = session.run(ids);                 // one sequence of token ids
//   out.last_hidden_state  -> n x hidden_size floats, row-major
//   out.logits             -> n x vocab (masked LM), num_labels (classifier), or empty
//   auto outs = session.run_batch({ids_a, ids_b});          // each at its own length
//   std::vector<float> e = nystrom::pool_embedding(outs[0], nystrom::Pooling::Mean);
//   if (const nystrom::Tokenizer* tok = model->tokenizer())  // files converted with one
//     ids = tok->encode("some text");                        // [CLS] some text [SEP] ids
// The C API for other languages is nystrom/nystrom_c.h; nystrom/convert.h
// makes .nyf files from Hugging Face checkpoints, nystrom/io.h reads and
// writes .npy arrays, nystrom/kernel_bench.h holds the benchmark's kernel
// workloads and nystrom/format.h specifies the file format.
//
// A Model is immutable once opened and may be shared by any number of threads;
// a Session is used by one thread at a time. Every failure throws nystrom::Error
// with a one-line message and a code; the library never aborts or exits.
//
// Threads: sessions asking for the same number of threads share one pool of
// that many threads per process (started with the first such session, ended
// with the last). Sessions that run at the same time on one pool take turns
// loop by loop, so together they run no more threads than each asked for;
// results are bit for bit the same whatever the thread count and whatever
// else runs. For throughput over many inputs, run one session per thread
// with threads = 1 (no pool at all).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "nystrom/export.h"

namespace nystrom {

// "X.Y.Z", the version of the library this program runs with.
NYSTROM_API const char* version();

// What went wrong; the values equal the C API's NYSTROM_ERROR_* codes.
enum class ErrorCode : int {
  InvalidArgument = 1,  // a bad option or argument, a moved-from session
  Io = 2,               // a file cannot be opened, read or written
  Format = 3,           // a file's contents are not valid (model, checkpoint, tokenizer)
  Input = 4,            // empty or over-long input, an id outside the vocabulary
  OutOfMemory = 5,
  Cancelled = 6,        // a progress callback returned false
  Internal = 7,         // anything else: a bug
};

class NYSTROM_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorCode code = ErrorCode::Internal);
  explicit Error(const char* message, ErrorCode code = ErrorCode::Internal);
  ~Error() override;
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

enum class Activation { GeluTanh, GeluErf, Relu };
enum class HeadType { None, MaskedLM, Classifier };

// What a classifier's logits mean, as Hugging Face's config.json says it
// (problem_type): SingleLabel, one class per input (softmax over the
// labels); MultiLabel, each label on its own (a sigmoid per label);
// Regression, the logits are the predicted values themselves. Without
// problem_type, Hugging Face (and the converter) infers Regression for
// num_labels == 1 and SingleLabel otherwise. Files written before the field
// existed read as SingleLabel; heads other than a classifier are SingleLabel.
enum class ProblemType { SingleLabel, MultiLabel, Regression };

// Which attention runs. Auto follows the checkpoint: exact when its
// num_landmarks equals segment_means_seq_len (as the published checkpoints
// say), Nystrom otherwise; any mode computes exactly when n <= landmarks.
enum class AttentionMode { Auto, Nystrom, Exact };

struct ModelConfig {
  uint32_t vocab_size = 0;
  uint32_t hidden_size = 0;
  uint32_t num_layers = 0;
  uint32_t num_heads = 0;
  uint32_t intermediate_size = 0;
  uint32_t max_positions = 0;     // longest input, in tokens
  uint32_t type_vocab_size = 0;
  uint32_t num_landmarks = 0;
  uint32_t segment_means_len = 0;
  uint32_t conv_kernel = 0;       // 0: no depthwise conv skip
  uint32_t position_offset = 2;   // row of the position table used by token 0
  Activation activation = Activation::GeluTanh;
  HeadType head = HeadType::None;
  float layer_norm_eps = 1e-5f;
  std::vector<std::string> labels;  // classifier label names, index = class id
  ProblemType problem_type = ProblemType::SingleLabel;  // classifier only
};

// Instruction-set levels of the kernels. The best one the CPU supports runs
// by default; a cap (this call, or NYSTROM_ISA=scalar|avx2|avx512|neon|neon_dot
// in the environment) lowers it, so every path can be compared on one machine.
// NeonDot is Neon plus the Armv8.2 dot product in the 8-bit GEMM; a cap of
// Neon leaves the dot product out.
enum class InstructionSet { Scalar, Avx2, Avx512, Neon, NeonDot };
// Caps the level for sessions run afterwards (process-wide; call it before
// opening models: quantized weights are repacked, and f32 weight matrices
// packed into GEMM panels, for the level in use when a model is opened;
// quantized ones keep running on that level, f32 ones under another level
// are packed per call instead). Returns the level now in use.
NYSTROM_API InstructionSet set_instruction_set_cap(InstructionSet cap);
NYSTROM_API InstructionSet instruction_set();
// Whether this build has the level's kernels and this CPU runs them.
NYSTROM_API bool instruction_set_available(InstructionSet isa);
NYSTROM_API const char* instruction_set_name(InstructionSet isa);  // "scalar", "avx2", "avx512", "neon", "neon_dot"
// The level a name gives (any case), or nothing for an unknown name.
NYSTROM_API std::optional<InstructionSet> parse_instruction_set(std::string_view name);
// Why NYSTROM_ISA was ignored (it names no level), or null when it was not.
// The library never prints; a tool prints this.
NYSTROM_API const char* instruction_set_env_warning();

// Arithmetic of the Nystrom attention's own products (those with a side of
// length n): F32 (the default); Int8, both operands of Q K~^T, Q~ K^T and
// B V quantized to 8-bit blocks (slower than f32 on the CPUs measured, kept
// for comparison); BF16, both operands of all five rounded to bfloat16 and
// summed in f32, as the AVX-512 BF16 instruction vdpbf16ps does: where the
// CPU has it (Zen 4, Sapphire Rapids) the attention runs about 1.3x
// faster; elsewhere the same bits come slower than f32 (README). Cosine
// to f32 0.9997-0.99992 on random-weight base models.
// Exact attention and the pseudo-inverse are always f32.
enum class AttentionPrecision { F32, Int8, BF16 };

// The most landmarks a model or a run may use: the m x m work of the
// pseudo-inverse grows as m^2 per thread and m^3 in time.
constexpr uint32_t kMaxLandmarks = 4096;

// What a run computes besides the hidden state. The head's cost is saved,
// not only its output: a masked-LM head projects each row it computes onto
// the whole vocabulary (n x vocab floats).
struct OutputSelection {
  bool logits = true;  // false: the hidden state only; the head does not run
  // Masked LM: the logits of these positions only, in this order (e.g. the
  // masks); empty: every position. Each row is bit for bit the row the full
  // computation gives. A position past the input throws Error (Input).
  std::vector<size_t> positions;
};

struct RunOptions {
  AttentionMode attention = AttentionMode::Auto;
  uint32_t landmarks = 0;  // 0: the model's num_landmarks; at most kMaxLandmarks
  int threads = 0;         // 0: the CPUs this process may run on (affinity mask)
  AttentionPrecision attention_precision = AttentionPrecision::F32;
  OutputSelection outputs;  // the default for run(); an overload takes its own
  // Called on the running thread after each encoder layer (layer = 1 ..
  // layers); returning false stops the run with Error (Cancelled).
  std::function<bool(int layer, int layers)> progress;
};

// Seconds spent in each step of the encoder layers, summed over layers and
// runs (see Session::set_profiling): the Q, K, V and output projections,
// the attention itself, the feed-forward GEMMs and the LayerNorms.
// Embeddings and heads are left out (time them as the whole run minus these).
struct LayerProfile {
  double projections = 0, attention = 0, ffn = 0, norms = 0;
};

struct Output {
  size_t n = 0, hidden = 0;
  bool exact_attention = true;  // how this input was attended (see AttentionMode)
  uint32_t landmarks = 0;       // landmarks used when it was Nystrom
  std::vector<float> last_hidden_state;  // n x hidden
  // {n, vocab} ({positions, vocab} when chosen), {num_labels}, or {} when
  // the model has no head or the logits were not asked for.
  std::vector<size_t> logits_shape;
  std::vector<float> logits;
  std::vector<size_t> logit_positions;  // masked LM: the input position of each logits row
};

// One vector per sequence from last_hidden_state: row 0 (the first token,
// <s>/[CLS]) or the mean of all n rows (summed in row order in double, so
// the result does not depend on the thread count). Throws Error for an
// Output that holds no rows.
enum class Pooling { First, Mean };
NYSTROM_API std::vector<float> pool_embedding(const Output& out, Pooling how);

// What a forward pass of n tokens takes under these options, planned as
// Session::run plans it (the same code decides): which attention runs and
// why, its arithmetic and the session's activation memory, so that options
// can be compared before anything runs (`nystrom info` prints it). Throws
// Error: Input for n = 0 or n > max_positions, InvalidArgument for options
// a Session refuses.
struct ForwardCost {
  bool exact_attention = true;
  uint32_t landmarks = 0;  // when Nystrom
  // Why, in one line: "exact: auto follows the checkpoint, whose
  // num_landmarks (64) equals segment_means_seq_len (64)", ...
  std::string reason;
  // Floating-point operations (2 per multiply-add) of the matrix products:
  // projections, feed-forward, attention (the pseudo-inverse's iterations
  // included) and the head as options.outputs asks; softmax, LayerNorm,
  // the conv skip and embeddings are left out (a few percent at most).
  double flops = 0;
  // The session's work buffers for this length at options.threads (0: the
  // CPUs this process may use; the per-thread attention scratch grows with
  // it), and the Output's hidden state and logits. The weights are mapped
  // from the file and not counted.
  uint64_t work_bytes = 0;
  uint64_t output_bytes = 0;
};
NYSTROM_API ForwardCost forward_cost(const ModelConfig& config, size_t n, const RunOptions& options = {});

struct OpenOptions {
  // Verify the whole-file checksum at load (reads every byte once; see
  // nystrom-bench for the cost). Skipping it still checks the header, the
  // tensor table and every size against the file.
  bool verify_checksum = true;
  // Threads that repack the weight matrices at load into the layout the
  // kernels read (0: the CPUs this process may run on, as RunOptions).
  int threads = 0;
};

// The tokenizer a model file holds (format version 3: the converter embeds
// the checkpoint's tokenizer files): UTF-8 text to this model's token ids and
// back. Obtained from Model::tokenizer(); immutable, usable from any number
// of threads, alive as long as its Model.
class NYSTROM_API Tokenizer {
 public:
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // The ids of text. With add_special, the checkpoint's template adds its
  // special tokens ([CLS] text [SEP], <s> text </s>); without, only the
  // text's own. Invalid UTF-8 does not throw: each bad byte reads as U+FFFD.
  // The result may be longer than the model accepts (config().max_positions).
  std::vector<int32_t> encode(std::string_view text, bool add_special = true) const;
  // The same, but tokenizing may stop once the text's own ids number more
  // than max_text_ids: enough to tell whether a text fits a model (and to
  // truncate it) without tokenizing all of a long one. The result holds
  // every id when they are at most max_text_ids, else the first ones (more
  // than max_text_ids of them) and the template's.
  std::vector<int32_t> encode(std::string_view text, bool add_special, size_t max_text_ids) const;
  // Readable text for ids (subword markers removed); special tokens are left
  // out when skip_special. Throws Error (Input) for an id outside
  // [0, vocab_size()).
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = true) const;
  // The vocabulary's string for an id ("##ing", "▁the", "Ġthe"); throws Error
  // (Input) for an id outside [0, vocab_size()).
  std::string id_to_token(int32_t id) const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::optional<int32_t> mask_id() const;  // [MASK] / <mask>, if the vocabulary has one
  // The id of text the vocabulary cannot spell ([UNK], <unk>), if the model
  // has one (a byte-fallback vocabulary spells everything).
  std::optional<int32_t> unk_id() const;
  int32_t vocab_size() const;              // at most the model's vocab_size
  int num_special_tokens() const;          // how many encode(text, true) adds
  const char* kind() const;                // "WordLevel", "WordPiece", "BPE" or "Unigram"

  struct Impl;

 private:
  friend class Model;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class NYSTROM_API Model {
 public:
  // Maps and validates a .nyf file (magic, version, checksum, tensor table).
  // Throws Error: Io when the file cannot be read, Format when it is not valid.
  static std::shared_ptr<const Model> open(const std::string& path, const OpenOptions& options = {});
  ~Model();
  const ModelConfig& config() const;
  // The file's tokenizer, or nullptr when the file has none. It is built
  // from the file's tokenizer section on the first call (thread-safe; later
  // calls return the same object); throws Error if those files do not make a
  // valid tokenizer for this model (then every call throws again).
  const Tokenizer* tokenizer() const;
  // Whether the file has a tokenizer section; does not build the tokenizer.
  bool has_tokenizer() const;

  // The file's tensors in file order: Hugging Face name (without the
  // "nystromformer." prefix), stored type ("f32", "f16", "q8_0", "q4_0"),
  // shape and bytes in the file.
  struct TensorInfo {
    std::string name;
    std::string type;
    std::vector<uint64_t> shape;
    uint64_t bytes = 0;
  };
  std::vector<TensorInfo> tensors() const;
  uint32_t file_version() const;  // the .nyf format version (nystrom/format.h)

  struct Impl;

 private:
  friend class Session;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class NYSTROM_API Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, RunOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // A moved-from session holds no model: its runs throw Error
  // (InvalidArgument) until another session is assigned to it.
  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;

  // Runs one sequence. Throws Error for an empty or over-long input or an id
  // outside the vocabulary (Input). Work buffers are planned once per input
  // length. The outputs are options().outputs, or those given. The forms
  // that fill a caller's Output allocate nothing once the session has run
  // this length twice into that same Output (the first run plans the
  // buffers, the second sizes the one the first handed over), but for the
  // kernels' per-thread packing buffers, each of which grows to the largest
  // product its thread has packed and then stays: a steady loop over inputs
  // of one length does not call the allocator.
  Output run(const std::vector<int32_t>& ids);
  Output run(const std::vector<int32_t>& ids, const OutputSelection& outputs);
  void run(const int32_t* ids, size_t n, Output& out);
  void run(const int32_t* ids, size_t n, const OutputSelection& outputs, Output& out);

  // Runs each sequence at its own length, no padding: result i is bit for
  // bit what run(batch[i]) gives (SPEC "Batches"), with options().outputs.
  // Consecutive short sequences share one pass (up to 1024 tokens in all):
  // their rows go through the position-wise steps (embeddings, projections,
  // feed-forward, LayerNorms, heads) together, which runs many short inputs
  // nearly as fast per token as one long one; attention stays per sequence.
  // An empty batch, or an invalid sequence (the message names its index),
  // throws Error, and nothing is returned.
  std::vector<Output> run_batch(const std::vector<std::vector<int32_t>>& batch);

  const RunOptions& options() const { return options_; }

  // Per-step timings, for benchmarks: while profiling is on, every run adds
  // the time each step of its encoder layers took to profile(). Turning it
  // on starts from zero; turning it off keeps the figures. Off (the default)
  // costs nothing, on a clock read per step; the outputs are the same.
  void set_profiling(bool on);
  const LayerProfile& profile() const;

  struct State;

 private:
  std::shared_ptr<const Model> model_;
  RunOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace nystrom
