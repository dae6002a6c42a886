// Tokenizing the text commands' inputs for a model: at most its positions,
// the special tokens counted, with the text's own tokens cut (--truncate) or
// an error naming the input when they do not fit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nystrom/nystrom.h"
#include "text_input.h"

namespace nystrom::cli {

class Encoder {
 public:
  Encoder(const Tokenizer& tok, size_t max_positions, bool truncate)
      : tok_(tok), max_(max_positions), truncate_(truncate) {}

  // At most max_positions ids with the special tokens counted, whether or
  // not they are returned (add_special).
  std::vector<int32_t> encode(const TextInput& in, bool add_special) const;

 private:
  [[noreturn]] void too_long(const TextInput& in) const;
  [[noreturn]] void cannot_truncate(const TextInput& in) const;
  [[noreturn]] void fail_room(const TextInput& in) const;
  const Tokenizer& tok_;
  size_t max_;
  bool truncate_;
};

}  // namespace nystrom::cli
