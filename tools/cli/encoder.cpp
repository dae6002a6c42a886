#include "encoder.h"

#include <algorithm>
#include <string>

namespace nystrom::cli {

std::vector<int32_t> Encoder::encode(const TextInput& in, bool add_special) const {
  const size_t specials = (size_t)tok_.num_special_tokens();
  if (specials >= max_) fail_room(in);
  // Tokenizing stops just past what fits: a long line costs no more than a
  // line of the model's length, with or without --truncate.
  const size_t room = max_ - specials;
  if (!add_special) {
    std::vector<int32_t> ids = tok_.encode(in.text, false, room);
    if (ids.size() > room) {
      if (!truncate_) too_long(in);
      ids.resize(room);
    }
    return ids;
  }
  std::vector<int32_t> full = tok_.encode(in.text, true, room);
  if (full.size() <= max_) return full;
  if (!truncate_) too_long(in);
  // Cut the text's own tokens, keep the template's around them: find where
  // the plain encoding sits inside the full one.
  const std::vector<int32_t> plain = tok_.encode(in.text, false, room);
  if (plain.size() > full.size()) cannot_truncate(in);
  const size_t added = full.size() - plain.size();
  if (added >= max_) fail_room(in);
  for (size_t p = 0; p <= added; ++p) {
    if (!std::equal(plain.begin(), plain.end(), full.begin() + p)) continue;
    std::vector<int32_t> out(full.begin(), full.begin() + p);
    out.insert(out.end(), plain.begin(), plain.begin() + (max_ - added));
    out.insert(out.end(), full.begin() + p + plain.size(), full.end());
    return out;
  }
  cannot_truncate(in);
}

void Encoder::too_long(const TextInput& in) const {
  throw Error(in.where + ": more tokens than the model's " + std::to_string(max_) +
              " positions (special tokens included; --truncate cuts the text to fit)");
}

void Encoder::cannot_truncate(const TextInput& in) const {
  throw Error(in.where + ": cannot truncate: the tokenizer's template does not keep the text's tokens together");
}

void Encoder::fail_room(const TextInput& in) const {
  throw Error(in.where + ": the model's " + std::to_string(max_) + " positions leave no room for text");
}

}  // namespace nystrom::cli
