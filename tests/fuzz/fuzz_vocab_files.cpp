// libFuzzer target: vocab.txt or vocab.json + merges.txt (and the config files), split
// from the input by its first byte and NULs, through load_tokenizer; then encode and decode.
// The body is fuzz::vocab_files in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::vocab_files(data, size);
  return 0;
}
