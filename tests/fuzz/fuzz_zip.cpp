// libFuzzer target: ZipArchive over arbitrary bytes, reading every stored entry.
// The body is fuzz::zip in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::zip(data, size);
  return 0;
}
