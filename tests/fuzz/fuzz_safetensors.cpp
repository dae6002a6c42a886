// libFuzzer target: SafetensorsFile on arbitrary bytes (model.safetensors).
// The body is fuzz::safetensors in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::safetensors(data, size);
  return 0;
}
