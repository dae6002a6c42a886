// Helpers shared by the tokenizer tests (besides tests/support.h's): hashes
// of long results as the case files store them, ids as text for messages.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "nystrom/nystrom.h"
#include "support.h"
#include "text/tokenizer.h"

namespace toktest {

// FNV-1a 64 of bytes as 16 hex digits: how the case files store results
// too long to keep (tools/text/make_tokenizer_cases.mjs computes it alike).
inline std::string fnv1a(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char b : bytes) h = (h ^ b) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  return hex;
}

inline std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return "[" + s + "]";
}

// A tokenizer from one tokenizer.json text.
inline std::unique_ptr<nystrom::text::Tokenizer> from_json(const std::string& json) {
  return nystrom::text::load_tokenizer({{"tokenizer.json", json}});
}

}  // namespace toktest
