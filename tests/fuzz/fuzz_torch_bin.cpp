// libFuzzer target: TorchBinFile (pytorch_model.bin) on arbitrary bytes.
// The body is fuzz::torch_bin in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::torch_bin(data, size);
  return 0;
}
