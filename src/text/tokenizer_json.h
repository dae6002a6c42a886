// Builds the tokenizer a Hugging Face tokenizer.json describes.
#pragma once
#include <memory>
#include <string_view>

#include "text/tokenizer.h"
#include "text/tokenizer_config.h"

namespace nystrom::text {

// `config` only supplies the mask token's name (tokenizer.json has none).
std::unique_ptr<Tokenizer> tokenizer_from_json(std::string_view json_text, const TokenizerConfig& config);

}  // namespace nystrom::text
