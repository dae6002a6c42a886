// Every failure in the library is a nystrom::Error carrying a one-line message
// that names the problem (and, where known, the file) and a code. fail()
// builds one for data that is not valid (Format, by far the most common
// case); fail_as() for any other code.
#pragma once
#include <exception>
#include <new>
#include <sstream>
#include <string>
#include <string_view>

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

// Runs f at the public API's edge, so that every exception leaving it is an
// Error as documented: running out of memory says so, naming what was being
// done ("out of memory while running the model"), and any other exception
// of the standard library (a thread that cannot start) keeps its message.
// `what` is a view: a literal costs no allocation on the way in (a warm
// Session::run allocates nothing).
template <typename F>
auto guarded(std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Error("out of memory while " + std::string(what), ErrorCode::OutOfMemory);
  } catch (const std::exception& e) {
    throw Error(std::string(what) + ": " + e.what(), ErrorCode::Internal);
  }
}

}  // namespace nystrom
