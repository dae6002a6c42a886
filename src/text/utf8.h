// UTF-8 <-> code points for the tokenizer. Decoding never fails: each byte
// that does not start a valid, shortest-form sequence of a scalar value
// becomes one U+FFFD (so a truncated sequence gives one per byte).
#pragma once
#include <string>
#include <string_view>

namespace nystrom::text {

std::u32string utf8_decode(std::string_view bytes);

// Bytes made valid as Rust's String::from_utf8_lossy does (what Hugging
// Face's byte-level decoder returns): each maximal invalid stretch -- a
// bad byte, or the valid start of a sequence cut short -- becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);

void utf8_append(char32_t cp, std::string& out);
std::string utf8_encode(std::u32string_view cps);

}  // namespace nystrom::text
