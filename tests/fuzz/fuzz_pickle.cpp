// libFuzzer target: the pickle interpreter on an arbitrary program (the state-dict globals allowed).
// The body is fuzz::pickle in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::pickle(data, size);
  return 0;
}
