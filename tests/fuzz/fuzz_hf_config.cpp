// libFuzzer target: parse_json, then parse_hf_config (config.json of a checkpoint).
// The body is fuzz::hf_config in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::hf_config(data, size);
  return 0;
}
