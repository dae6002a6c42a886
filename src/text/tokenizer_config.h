// What tokenizer_config.json and special_tokens_map.json add to the model
// files: lower-casing flags and the special tokens' strings.
#pragma once
#include <optional>
#include <string>

namespace nystrom::text {

struct TokenizerConfig {
  std::optional<bool> do_lower_case;
  std::optional<bool> strip_accents;
  std::optional<bool> keep_accents;
  std::optional<bool> add_prefix_space;
  std::optional<bool> tokenize_chinese_chars;
  // Special token strings; unset when neither file names them.
  std::optional<std::string> mask_token, cls_token, sep_token, unk_token, pad_token, bos_token, eos_token;
};

// Either argument may be null (file absent). tokenizer_config.json wins over
// special_tokens_map.json where both name a token. Malformed JSON throws.
TokenizerConfig read_tokenizer_config(const std::string* tokenizer_config_json,
                                      const std::string* special_tokens_map_json);

}  // namespace nystrom::text
