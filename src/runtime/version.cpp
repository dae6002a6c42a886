// The library's version: the Makefile's VERSION, through a header it
// generates ($(BUILD)/gen/nystrom_version.h), so the tools, nystrom.pc and
// this string never disagree.
#include "nystrom/nystrom.h"
#include "nystrom/nystrom_c.h"
#include "nystrom_version.h"

namespace nystrom {
const char* version() { return NYSTROM_VERSION; }
}  // namespace nystrom

extern "C" const char* nystrom_version(void) { return NYSTROM_VERSION; }
