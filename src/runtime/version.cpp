// The library's version: the Makefile's VERSION, passed to this file alone
// as a define, so the tools, nystrom.pc and this string never disagree.
#include "nystrom/nystrom.h"
#include "nystrom/nystrom_c.h"

#ifndef NYSTROM_VERSION
#error "NYSTROM_VERSION is set by the Makefile (VERSION)"
#endif

namespace nystrom {
const char* version() { return NYSTROM_VERSION; }
}  // namespace nystrom

extern "C" const char* nystrom_version(void) { return NYSTROM_VERSION; }
