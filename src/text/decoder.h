// The decoder stage: token strings back to readable text, as tokenizer.json's
// "decoder" says (WordPiece's "##" joins, byte-level bytes, Metaspace's "▁").
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "runtime/json.h"

namespace nystrom::text {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Hugging Face's decode_chain: each decoder maps the token list to a new
  // list; the text is their concatenation at the end.
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
};

// From tokenizer.json's "decoder"; nullptr for null (tokens are then joined
// with spaces).
std::unique_ptr<Decoder> decoder_from_json(const JsonValue& json);

std::unique_ptr<Decoder> make_wordpiece_decoder(std::string prefix, bool cleanup);
std::unique_ptr<Decoder> make_byte_level_decoder();
std::unique_ptr<Decoder> make_metaspace_decoder(bool strip_first_space);

}  // namespace nystrom::text
