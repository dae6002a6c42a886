#include "text/tokenizer.h"

#include "runtime/error.h"
#include "text/tokenizer_config.h"
#include "text/tokenizer_json.h"
#include "text/vocab_files.h"

namespace nystrom::text {

std::unique_ptr<Tokenizer> load_tokenizer(const std::vector<TokenizerFile>& files) {
  auto find = [&](const char* name) -> const std::string* {
    for (const TokenizerFile& f : files)
      if (f.name == name) return &f.bytes;
    return nullptr;
  };
  const TokenizerConfig config = read_tokenizer_config(find("tokenizer_config.json"), find("special_tokens_map.json"));
  if (const std::string* json = find("tokenizer.json")) return tokenizer_from_json(*json, config);
  if (const std::string* spiece = find("spiece.model")) return albert_tokenizer(*spiece, config);
  if (const std::string* vocab = find("vocab.txt")) return bert_tokenizer(*vocab, config);
  const std::string* vocab_json = find("vocab.json");
  const std::string* merges = find("merges.txt");
  if (vocab_json && merges) return roberta_tokenizer(*vocab_json, *merges, config);
  if (vocab_json || merges) fail("tokenizer: vocab.json and merges.txt come together; only ", vocab_json ? "vocab.json" : "merges.txt", " was given");
  return nullptr;
}

}  // namespace nystrom::text
