#include "text/word_level.h"

#include "runtime/error.h"

namespace nystrom::text {

WordLevelModel::WordLevelModel(Vocabulary vocab, std::string unk_token)
    : vocab_(std::move(vocab)), unk_token_(std::move(unk_token)), unk_id_(vocab_.find(unk_token_)) {}

void WordLevelModel::encode(const std::string& piece, std::vector<int32_t>& out) const {
  if (auto id = vocab_.find(piece)) {
    out.push_back(*id);
    return;
  }
  // As Hugging Face: a missing unknown token is an error at encode time.
  if (!unk_id_) fail("WordLevel tokenizer: '", piece, "' is not in the vocabulary and the unknown token '",
                     unk_token_, "' is missing");
  out.push_back(*unk_id_);
}

Vocabulary vocabulary_from_json(const JsonValue& vocab, std::string_view what) {
  if (!vocab.is_object()) fail(what, " must be an object of token: id");
  Vocabulary v;
  for (const auto& [token, id] : vocab.object) v.add(token, id.as_int(std::string(what) + " id"), what);
  return v;
}

std::unique_ptr<Model> word_level_from_json(const JsonValue& model) {
  const JsonValue* vocab = model.find("vocab");
  if (!vocab) fail("tokenizer.json: WordLevel model without \"vocab\"");
  std::string unk = "<unk>";
  if (const JsonValue* u = model.find("unk_token"); u && !u->is_null()) unk = u->as_string("WordLevel unk_token");
  return std::make_unique<WordLevelModel>(vocabulary_from_json(*vocab, "tokenizer.json: model vocab"), unk);
}

}  // namespace nystrom::text
