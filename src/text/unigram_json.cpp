#include "text/unigram_json.h"

#include "runtime/error.h"
#include "text/json_fields.h"
#include "text/unigram.h"

namespace nystrom::text {

namespace {

constexpr const char* kWhat = "tokenizer.json: Unigram model";

class UnigramJsonModel : public Model {
 public:
  UnigramJsonModel(Vocabulary vocab, UnigramModel model) : vocab_(std::move(vocab)), model_(std::move(model)) {}
  void encode(const std::string& piece, std::vector<int32_t>& out) const override { model_.encode(piece, out); }
  const Vocabulary& vocabulary() const override { return vocab_; }
  const char* kind() const override { return "Unigram"; }
  std::optional<int32_t> unknown_id() const override {
    return model_.unk_id() >= 0 ? std::optional<int32_t>(model_.unk_id()) : std::nullopt;
  }

 private:
  Vocabulary vocab_;
  UnigramModel model_;
};

}  // namespace

std::unique_ptr<Model> unigram_from_json(const JsonValue& model) {
  const JsonValue* list = model.find("vocab");
  if (!list || !list->is_array()) fail(kWhat, " needs a \"vocab\" array of [piece, score]");
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(list->array.size());
  Vocabulary vocab;
  for (const JsonValue& entry : list->array) {
    if (!entry.is_array() || entry.array.size() != 2) fail(kWhat, " vocab entries must be [piece, score]");
    pieces.emplace_back(entry.array[0].as_string("Unigram piece"), entry.array[1].as_number("Unigram score"));
    vocab.add(pieces.back().first, (int64_t)pieces.size() - 1, kWhat, true);
  }
  int unk_id = -1;
  if (const JsonValue* u = model.find("unk_id"); u && !u->is_null()) {
    const int64_t id = u->as_int("tokenizer.json: Unigram unk_id");
    if (id < 0 || id >= (int64_t)pieces.size()) fail(kWhat, " unk_id ", id, " is outside the vocabulary");
    unk_id = (int)id;
  }
  const bool byte_fallback = bool_field(model, "byte_fallback", false, kWhat);
  UnigramModel unigram(std::move(pieces), unk_id, byte_fallback);
  return std::make_unique<UnigramJsonModel>(std::move(vocab), std::move(unigram));
}

}  // namespace nystrom::text
