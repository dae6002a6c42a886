// libFuzzer target: a spiece.model through load_tokenizer and make_sentencepiece_tokenizer,
// then encode and decode fixed texts.
// The body is fuzz::spiece_model in tests/fuzz/targets.h; `make fuzz` builds and runs it.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::spiece_model(data, size);
  return 0;
}
