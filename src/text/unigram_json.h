// tokenizer.json's "Unigram" model: SentencePiece-style pieces with scores,
// encoded by helper spm's UnigramModel (Viterbi, Hugging Face semantics).
#pragma once
#include <memory>

#include "runtime/json.h"
#include "text/model.h"

namespace nystrom::text {

std::unique_ptr<Model> unigram_from_json(const JsonValue& model);

}  // namespace nystrom::text
