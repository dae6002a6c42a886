// Every failure in the library is a nystrom::Error carrying a one-line message
// that names the problem (and, where known, the file). fail() builds one.
#pragma once
#include <sstream>
#include <string>

#include "nystrom/nystrom.h"

namespace nystrom {

// Messages are one line whatever they quote (tensor names, JSON strings and
// zip entries come from outside): control characters become '?'.
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream msg;
  (msg << ... << parts);
  std::string text = msg.str();
  for (char& ch : text)
    if ((unsigned char)ch < 0x20 || ch == 0x7f) ch = '?';
  throw Error(text);
}

}  // namespace nystrom
