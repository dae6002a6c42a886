// Helpers shared by the tokenizer tests: errors as text, files of
// tests/tokenizers/, ids as text for messages.
#pragma once
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nystrom/nystrom.h"
#include "text/tokenizer.h"

namespace toktest {

// The message of the nystrom::Error that f throws, or "(no error)".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const nystrom::Error& e) {
    return e.what();
  }
  return "(no error)";
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Lines split at '\n' only (the corpus holds other line separators).
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

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
