// nystrom::Error's members, here so that its vtable and type information
// live in the library: an Error thrown inside the shared library is caught
// by type in the program that loaded it.
#include "nystrom/nystrom.h"

namespace nystrom {

Error::Error(const std::string& message, ErrorCode code) : std::runtime_error(message), code_(code) {}
Error::Error(const char* message, ErrorCode code) : std::runtime_error(message), code_(code) {}
Error::~Error() = default;

}  // namespace nystrom
