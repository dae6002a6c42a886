#include "text/tokenizer_json.h"

#include "runtime/error.h"
#include "runtime/json.h"
#include "text/bpe.h"
#include "text/pipeline.h"
#include "text/unigram_json.h"
#include "text/word_level.h"
#include "text/wordpiece.h"

namespace nystrom::text {

namespace {

// The model's type; files from before "type" was written are recognized by
// their fields.
std::string model_type(const JsonValue& model) {
  if (const JsonValue* t = model.find("type")) return t->as_string("tokenizer.json: model type");
  if (model.find("merges")) return "BPE";
  const JsonValue* vocab = model.find("vocab");
  if (vocab && vocab->is_array()) return "Unigram";
  if (model.find("continuing_subword_prefix")) return "WordPiece";
  return "WordLevel";
}

std::unique_ptr<Model> model_from_json(const JsonValue& model) {
  if (!model.is_object()) fail("tokenizer.json: \"model\" must be an object");
  const std::string type = model_type(model);
  if (type == "WordLevel") return word_level_from_json(model);
  if (type == "WordPiece") return wordpiece_from_json(model);
  if (type == "BPE") return bpe_from_json(model);
  if (type == "Unigram") return unigram_from_json(model);
  fail("tokenizer.json: model type '", type, "' is not supported");
}

const JsonValue& member(const JsonValue& root, const char* key) {
  static const JsonValue null_value;
  const JsonValue* v = root.find(key);
  return v ? *v : null_value;
}

}  // namespace

std::unique_ptr<Tokenizer> tokenizer_from_json(std::string_view json_text, const TokenizerConfig& config) {
  const JsonValue root = parse_json(json_text, "tokenizer.json");
  if (!root.is_object()) fail("tokenizer.json: must be a JSON object");
  const JsonValue* model = root.find("model");
  if (!model) fail("tokenizer.json: no \"model\"");
  PipelineParts parts;
  parts.model = model_from_json(*model);
  parts.normalizer = normalizer_from_json(member(root, "normalizer"));
  parts.pre_tokenizer = pre_tokenizer_from_json(member(root, "pre_tokenizer"));
  parts.post_processor = template_from_json(member(root, "post_processor"));
  parts.decoder = decoder_from_json(member(root, "decoder"));
  parts.added_tokens = added_tokens_from_json(member(root, "added_tokens"));

  // The mask token: as the config files name it, else the usual spellings.
  auto id_of = [&](const std::string& token) -> std::optional<int32_t> {
    for (const AddedToken& t : parts.added_tokens)
      if (t.content == token) return t.id;
    return parts.model->vocabulary().find(token);
  };
  if (config.mask_token) {
    parts.mask_id = id_of(*config.mask_token);
  } else {
    parts.mask_id = id_of("[MASK]");
    if (!parts.mask_id) parts.mask_id = id_of("<mask>");
  }
  return std::make_unique<PipelineTokenizer>(std::move(parts));
}

}  // namespace nystrom::text
