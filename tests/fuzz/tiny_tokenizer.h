// The tokenizer.json that make_seeds embeds in its version 3 model file seed
// (a WordLevel model over the 8 ids of its tiny models), shared with
// tests/fuzz/test_fuzz_regressions.cpp, which checks what that file's tokenizer
// makes of the model_file target's text.
#pragma once

namespace fuzz {

inline const char* const kTinyTokenizerJson = R"({
  "added_tokens": [{"id": 2, "content": "[CLS]", "special": true}, {"id": 3, "content": "[SEP]", "special": true},
                   {"id": 4, "content": "[MASK]", "special": true}],
  "normalizer": {"type": "Lowercase"},
  "pre_tokenizer": {"type": "Whitespace"},
  "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
  "decoder": {"type": "WordPiece", "prefix": "##"},
  "model": {"type": "WordLevel", "unk_token": "[UNK]",
            "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "hello": 5, "world": 6, ",": 7}}
})";

}  // namespace fuzz
