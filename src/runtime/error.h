// Every failure in the library is a nystrom::Error carrying a one-line message
// that names the problem (and, where known, the file) and a code. fail()
// builds one for data that is not valid (Format, by far the most common
// case); fail_as() for any other code.
#pragma once
#include <sstream>
#include <string>

#include "nystrom/nystrom.h"

namespace nystrom {

// Messages are one line whatever they quote (tensor names, JSON strings and
// zip entries come from outside): control characters become '?'.
template <typename... Parts>
[[noreturn]] void fail_as(ErrorCode code, const Parts&... parts) {
  std::ostringstream msg;
  (msg << ... << parts);
  std::string text = msg.str();
  for (char& ch : text)
    if ((unsigned char)ch < 0x20 || ch == 0x7f) ch = '?';
  throw Error(text, code);
}

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  fail_as(ErrorCode::Format, parts...);
}

}  // namespace nystrom
