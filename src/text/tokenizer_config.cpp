#include "text/tokenizer_config.h"

#include "runtime/error.h"
#include "runtime/json.h"

namespace nystrom::text {

namespace {

// A special token is written as a string or as a serialized AddedToken
// object ({"content": "[MASK]", ...}).
std::optional<std::string> token_string(const JsonValue& root, const char* key, const char* source) {
  const JsonValue* v = root.find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_string()) return v->string;
  if (const JsonValue* content = v->find("content")) return content->as_string(std::string(source) + ": " + key);
  fail(source, ": ", key, " must be a string or an object with \"content\"");
}

void read_tokens(const JsonValue& root, const char* source, TokenizerConfig& config) {
  struct Field {
    const char* key;
    std::optional<std::string> TokenizerConfig::*member;
  };
  static const Field fields[] = {{"mask_token", &TokenizerConfig::mask_token}, {"cls_token", &TokenizerConfig::cls_token},
                                 {"sep_token", &TokenizerConfig::sep_token},   {"unk_token", &TokenizerConfig::unk_token},
                                 {"pad_token", &TokenizerConfig::pad_token},   {"bos_token", &TokenizerConfig::bos_token},
                                 {"eos_token", &TokenizerConfig::eos_token}};
  for (const Field& f : fields)
    if (auto s = token_string(root, f.key, source)) config.*f.member = *s;
}

std::optional<bool> flag(const JsonValue& root, const char* key) {
  const JsonValue* v = root.find(key);
  if (!v || v->is_null()) return std::nullopt;
  return v->as_bool(std::string("tokenizer_config.json: ") + key);
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::string* tokenizer_config_json,
                                      const std::string* special_tokens_map_json) {
  TokenizerConfig config;
  if (special_tokens_map_json) {
    const JsonValue root = parse_json(*special_tokens_map_json, "special_tokens_map.json");
    if (!root.is_object()) fail("special_tokens_map.json: must be a JSON object");
    read_tokens(root, "special_tokens_map.json", config);
  }
  if (tokenizer_config_json) {
    const JsonValue root = parse_json(*tokenizer_config_json, "tokenizer_config.json");
    if (!root.is_object()) fail("tokenizer_config.json: must be a JSON object");
    read_tokens(root, "tokenizer_config.json", config);
    config.do_lower_case = flag(root, "do_lower_case");
    config.strip_accents = flag(root, "strip_accents");
    config.keep_accents = flag(root, "keep_accents");
    config.add_prefix_space = flag(root, "add_prefix_space");
    config.tokenize_chinese_chars = flag(root, "tokenize_chinese_chars");
  }
  return config;
}

}  // namespace nystrom::text
