// GPT-2's byte-level alphabet and split pattern, as Hugging Face's ByteLevel
// pre-tokenizer and decoder use them.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "text/pre_tokenizer.h"

namespace nystrom::text {

// The code point standing for a byte: printable Latin-1 bytes stand for
// themselves, the others for U+0100 onwards in byte order.
char32_t byte_to_char(unsigned char byte);
// The byte a code point stands for, or -1.
int char_to_byte(char32_t c);

// The UTF-8 bytes of `text`, each as its byte-level code point.
std::u32string to_byte_level(std::u32string_view text);

// The spans of GPT-2's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// over text, matched by hand: every code point lies in one match.
std::vector<Span> gpt2_spans(const std::u32string& text);

}  // namespace nystrom::text
