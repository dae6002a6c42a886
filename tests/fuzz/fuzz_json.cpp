// libFuzzer target: parse_json on arbitrary text.
// The body is fuzz::json in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::json(data, size);
  return 0;
}
