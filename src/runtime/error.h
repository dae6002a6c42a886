// Every failure in the library is a nystrom::Error carrying a one-line message
// that names the problem (and, where known, the file). fail() builds one.
#pragma once
#include <sstream>
#include <string>

#include "nystrom/nystrom.h"

namespace nystrom {

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream msg;
  (msg << ... << parts);
  throw Error(msg.str());
}

}  // namespace nystrom
