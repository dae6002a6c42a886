#include "text/utf8.h"

namespace nystrom::text {

namespace {

// The code point of the sequence at bytes[i] and its length; on an invalid
// sequence the length is the number of bytes that were a valid start
// (0 when bytes[i] itself cannot start one) and the code point is U+FFFD.
struct Decoded {
  char32_t cp;
  size_t length;
  bool ok;
};

Decoded decode_at(std::string_view bytes, size_t i) {
  const unsigned char b0 = (unsigned char)bytes[i];
  if (b0 < 0x80) return {b0, 1, true};
  // Lead byte: length and the range the second byte must fall in, so that
  // overlong forms, surrogates and values above U+10FFFF are rejected.
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {0xFFFD, 0, false};
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= bytes.size()) return {0xFFFD, k, false};
    const unsigned char b = (unsigned char)bytes[i + k];
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return {0xFFFD, k, false};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, len, true};
}

}  // namespace

std::u32string utf8_decode(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const Decoded d = decode_at(bytes, i);
    out.push_back(d.cp);
    i += d.ok ? d.length : 1;
  }
  return out;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const Decoded d = decode_at(bytes, i);
    if (d.ok)
      out.append(bytes.substr(i, d.length));
    else
      out += "\xEF\xBF\xBD";
    i += d.length ? d.length : 1;
  }
  return out;
}

void utf8_append(char32_t cp, std::string& out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back((char)cp);
  } else if (cp < 0x800) {
    out.push_back((char)(0xC0 | (cp >> 6)));
    out.push_back((char)(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back((char)(0xE0 | (cp >> 12)));
    out.push_back((char)(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back((char)(0x80 | (cp & 0x3F)));
  } else {
    out.push_back((char)(0xF0 | (cp >> 18)));
    out.push_back((char)(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back((char)(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back((char)(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_encode(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) utf8_append(cp, out);
  return out;
}

}  // namespace nystrom::text
