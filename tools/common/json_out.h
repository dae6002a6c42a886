// Writing JSON output (--json): strings quoted per RFC 8259, numbers with
// enough digits to read back the same float.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace nystrom::tools {

// s as a JSON string literal. Bytes >= 0x80 pass through: the strings
// written (labels, vocabulary entries) are UTF-8 already.
inline std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = (unsigned char)c;
    if (c == '"' || c == '\\') {
      out += '\\', out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", u);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A float that reads back to the same value (9 significant digits).
inline std::string json_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace nystrom::tools
