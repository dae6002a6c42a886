// The pre-tokenizer stage: splits normalized text into the pieces the model
// sees one at a time (words, punctuation, byte-level chunks), as the
// pre_tokenizer of Hugging Face's tokenizer.json describes.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/json.h"

namespace nystrom::text {

struct Piece {
  std::u32string text;
  // Starts at the very beginning of the input text (Metaspace's
  // prepend_scheme "first" only prepends there).
  bool at_start = false;
};

// What becomes of the delimiters a split finds (Hugging Face's
// SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// A stretch [begin, end) of a piece and whether the pattern matched it.
struct Span {
  size_t begin, end;
  bool match;
};

// Splits `piece` into the spans, which cover it in order, applying the
// behavior; empty results are dropped.
void split_piece(const Piece& piece, const std::vector<Span>& spans, SplitBehavior behavior,
                 std::vector<Piece>& out);

// Spans where each code point passing `is_delimiter` is a match of its own.
std::vector<Span> char_spans(const std::u32string& text, const std::function<bool(char32_t)>& is_delimiter);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces the pieces by their finer split.
  virtual void split(std::vector<Piece>& pieces) const = 0;

  // Whether cutting a text just before a space (U+0020) that follows a code
  // point other than white space changes no piece: the pieces of the parts,
  // in order, are the pieces of the whole (the later parts not at_start).
  // Lets the pipeline pre-tokenize a long text part by part and stop once
  // the model has made enough ids. False unless shown for the kind.
  virtual bool cuts_at_spaces() const { return false; }
};

// Where a text may be cut for a pre-tokenizer whose cuts_at_spaces() holds:
// the first i in [from, to) with text[i] a space and text[i - 1] not white
// space; `to` when there is none.
size_t next_space_cut(const std::u32string& text, size_t from, size_t to);

// From tokenizer.json's "pre_tokenizer" object; nullptr for JSON null.
std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const JsonValue& json);

// The pieces Hugging Face's pre-tokenizers make, for building pipelines
// without tokenizer.json.
std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer();
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);

}  // namespace nystrom::text
