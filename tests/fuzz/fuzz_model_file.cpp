// libFuzzer target: ModelFile without and with the checksum check, then Model::open.
// The body is fuzz::model_file in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::model_file(data, size);
  return 0;
}
