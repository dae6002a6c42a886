// libFuzzer target: read_npy, read_npy_ids and read_npy_f32 on arbitrary bytes.
// The body is fuzz::npy in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::npy(data, size);
  return 0;
}
