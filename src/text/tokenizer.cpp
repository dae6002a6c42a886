#include "text/tokenizer.h"

#include "runtime/error.h"
#include "text/tokenizer_config.h"
#include "text/tokenizer_json.h"

namespace nystrom::text {

const std::vector<std::string>& tokenizer_file_names() {
  static const std::vector<std::string> names = {"tokenizer.json", "spiece.model",          "vocab.txt",
                                                 "vocab.json",     "merges.txt",            "tokenizer_config.json",
                                                 "special_tokens_map.json"};
  return names;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::vector<TokenizerFile>& files) {
  auto find = [&](const char* name) -> const std::string* {
    for (const TokenizerFile& f : files)
      if (f.name == name) return &f.bytes;
    return nullptr;
  };
  const TokenizerConfig config = read_tokenizer_config(find("tokenizer_config.json"), find("special_tokens_map.json"));
  if (const std::string* json = find("tokenizer.json")) return tokenizer_from_json(*json, config);
  return nullptr;
}

}  // namespace nystrom::text
