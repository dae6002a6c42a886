// The tokenizer every text command uses: UTF-8 text in, token ids out.
//
// A tokenizer is built from the files found in a Hugging Face checkpoint
// folder. The converter copies those files, byte for byte, into the model
// file's tokenizer section (format version 3), and the loader builds the same
// Tokenizer from them, so the converter and the engine share one code path.
//
// The pipeline is the one Hugging Face `tokenizers` and SentencePiece use:
// normalize -> pre-tokenize -> model (WordLevel, WordPiece, BPE, Unigram) ->
// template (special tokens such as `[CLS] text [SEP]`).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nystrom::text {

// One tokenizer source file: its base name in the checkpoint folder (one of
// format::kTokenizerFileNames in nystrom/format.h: "tokenizer.json",
// "spiece.model", "vocab.txt", ...) and its bytes.
struct TokenizerFile {
  std::string name;
  std::string bytes;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Ids of `text` (UTF-8). With add_special, the template's special tokens
  // are added (e.g. [CLS] ... [SEP]); without, only the text's own tokens.
  // Invalid UTF-8 never throws: each bad byte is read as U+FFFD. Tokenizing
  // may stop once the text's own ids number more than max_text_ids (the
  // result then holds more than max_text_ids of them, not necessarily all).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special,
                                      size_t max_text_ids = SIZE_MAX) const = 0;

  // The token string of an id as stored in the vocabulary ("##ing", "▁the",
  // "Ġthe"); throws nystrom::Error for an id outside [0, vocab_size()).
  virtual std::string id_to_token(int32_t id) const = 0;

  // Readable text for a sequence of ids (subword markers removed, bytes of
  // byte-level BPE joined back into UTF-8); special tokens are skipped when
  // skip_special.
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special) const = 0;

  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual int32_t vocab_size() const = 0;

  // The mask token's id ([MASK], <mask>), if the tokenizer has one.
  virtual std::optional<int32_t> mask_id() const = 0;

  // Which model: "WordLevel", "WordPiece", "BPE", "Unigram".
  virtual const char* kind() const = 0;

  // The id text the vocabulary cannot spell becomes ([UNK], <unk>), if any.
  virtual std::optional<int32_t> unknown_id() const = 0;

  // How many special tokens encode(text, true) adds around the text (2 for
  // [CLS] text [SEP]); used to check and truncate against the positions.
  virtual int num_special_tokens() const = 0;
};

// Builds the tokenizer described by the given files (any subset of
// format::kTokenizerFileNames). Precedence: tokenizer.json, then spiece.model,
// then vocab.txt (WordPiece), then vocab.json + merges.txt (byte-level BPE);
// tokenizer_config.json and special_tokens_map.json refine the others
// (lower-casing, special tokens). Returns nullptr when none of the model files
// is present; throws nystrom::Error with a one-line message for malformed or
// unsupported ones.
std::unique_ptr<Tokenizer> load_tokenizer(const std::vector<TokenizerFile>& files);

}  // namespace nystrom::text
