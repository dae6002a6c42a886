#include "text/wordpiece.h"

#include "runtime/error.h"
#include "text/json_fields.h"
#include "text/word_level.h"

namespace nystrom::text {

namespace {

// Each token under its bytes after `prefix` (all tokens with an empty one),
// with the id the vocabulary gives those bytes (a token given twice has its
// later id).
PieceTrie token_trie(const Vocabulary& vocab, const std::string& prefix) {
  std::vector<std::pair<std::string_view, int32_t>> tokens;
  for (int32_t id = 0; id < vocab.id_bound(); ++id) {
    const std::string* t = vocab.token(id);
    if (t && t->compare(0, prefix.size(), prefix) == 0)
      tokens.emplace_back(std::string_view(*t).substr(prefix.size()), *vocab.find(*t));
  }
  return PieceTrie(tokens);
}

}  // namespace

WordPieceModel::WordPieceModel(Vocabulary vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)),
      options_(std::move(options)),
      words_(token_trie(vocab_, "")),
      subwords_(token_trie(vocab_, options_.continuing_subword_prefix)) {}

int32_t WordPieceModel::unk_id(const std::string& piece) const {
  auto id = vocab_.find(options_.unk_token);
  if (!id) fail("WordPiece tokenizer: '", piece, "' needs the unknown token '", options_.unk_token,
                "', which is not in the vocabulary");
  return *id;
}

// UTF-8 continuation bytes are 10xxxxxx.
static bool is_char_start(const std::string& s, size_t i) { return i >= s.size() || ((unsigned char)s[i] & 0xC0) != 0x80; }

void WordPieceModel::encode(const std::string& piece, std::vector<int32_t>& out) const {
  size_t chars = 0;
  for (size_t i = 0; i < piece.size(); ++i) chars += is_char_start(piece, i);
  if (chars > options_.max_input_chars_per_word) {
    out.push_back(unk_id(piece));
    return;
  }
  const size_t mark = out.size();
  for (size_t start = 0; start < piece.size();) {
    // The longest token (after the first, prefixed) that the rest starts
    // with, ending on a character boundary.
    const PieceTrie& trie = start > 0 ? subwords_ : words_;
    size_t length = 0;
    int32_t found = -1;
    trie.prefixes(std::string_view(piece).substr(start), [&](size_t n, int32_t id) {
      if (is_char_start(piece, start + n)) length = n, found = id;
    });
    if (found < 0) {
      out.resize(mark);
      out.push_back(unk_id(piece));
      return;
    }
    out.push_back(found);
    start += length;
  }
}

std::unique_ptr<Model> wordpiece_from_json(const JsonValue& model) {
  const JsonValue* vocab = model.find("vocab");
  if (!vocab) fail("tokenizer.json: WordPiece model without \"vocab\"");
  WordPieceOptions options;
  options.unk_token = string_field(model, "unk_token", options.unk_token, "tokenizer.json: WordPiece");
  options.continuing_subword_prefix =
      string_field(model, "continuing_subword_prefix", options.continuing_subword_prefix, "tokenizer.json: WordPiece");
  if (const JsonValue* m = model.find("max_input_chars_per_word"); m && !m->is_null()) {
    const int64_t n = m->as_int("tokenizer.json: WordPiece max_input_chars_per_word");
    if (n < 0) fail("tokenizer.json: WordPiece max_input_chars_per_word must not be negative");
    options.max_input_chars_per_word = (size_t)n;
  }
  return std::make_unique<WordPieceModel>(vocabulary_from_json(*vocab, "tokenizer.json: model vocab"),
                                          std::move(options));
}

Vocabulary vocabulary_from_lines(std::string_view text, std::string_view source) {
  Vocabulary v;
  int64_t id = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A token written twice has its later id, as in transformers' dict.
    v.add(std::string(line), id, source, true);
    ++id;
    pos = end + 1;
  }
  return v;
}

}  // namespace nystrom::text
