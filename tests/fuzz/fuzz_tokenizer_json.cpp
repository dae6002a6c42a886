// libFuzzer target: load_tokenizer on a tokenizer.json, then encode and decode fixed texts.
// The body is fuzz::tokenizer_json in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::tokenizer_json(data, size);
  return 0;
}
