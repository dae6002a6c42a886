// Tokenizers from the files checkpoints ship without a tokenizer.json, built
// as transformers' fast tokenizers build them:
//   vocab.txt               BERT WordPiece (BertTokenizerFast)
//   vocab.json + merges.txt RoBERTa byte-level BPE (RobertaTokenizerFast)
//   spiece.model            ALBERT-style SentencePiece (helper spm's tokenizer
//                           for each text segment, around it the special
//                           tokens and text preparation of AlbertTokenizer)
// tokenizer_config.json and special_tokens_map.json supply lower-casing and
// the special tokens' strings.
#pragma once
#include <memory>
#include <string_view>

#include "text/tokenizer.h"
#include "text/tokenizer_config.h"

namespace nystrom::text {

std::unique_ptr<Tokenizer> bert_tokenizer(std::string_view vocab_txt, const TokenizerConfig& config);
std::unique_ptr<Tokenizer> roberta_tokenizer(std::string_view vocab_json, std::string_view merges_txt,
                                             const TokenizerConfig& config);
std::unique_ptr<Tokenizer> albert_tokenizer(std::string_view spiece_model, const TokenizerConfig& config);

}  // namespace nystrom::text
