// The Tokenizer every loader builds: added tokens, then normalizer ->
// pre-tokenizer -> model -> template, and a decoder for the way back.
#pragma once
#include <memory>
#include <optional>

#include "text/added_tokens.h"
#include "text/decoder.h"
#include "text/model.h"
#include "text/normalizer.h"
#include "text/post_processor.h"
#include "text/pre_tokenizer.h"
#include "text/tokenizer.h"

namespace nystrom::text {

struct PipelineParts {
  std::unique_ptr<Normalizer> normalizer;      // may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer; // may be null: the text is one piece
  std::unique_ptr<Model> model;                // required
  Template post_processor;
  std::unique_ptr<Decoder> decoder;            // may be null: tokens joined by spaces
  std::vector<AddedToken> added_tokens;
  std::optional<int32_t> mask_id;
};

class PipelineTokenizer : public Tokenizer {
 public:
  explicit PipelineTokenizer(PipelineParts parts);

  std::vector<int32_t> encode(std::string_view text, bool add_special, size_t max_text_ids = SIZE_MAX) const override;
  std::string id_to_token(int32_t id) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  int32_t vocab_size() const override { return vocab_size_; }
  std::optional<int32_t> mask_id() const override { return parts_.mask_id; }
  const char* kind() const override { return parts_.model->kind(); }
  std::optional<int32_t> unknown_id() const override { return parts_.model->unknown_id(); }
  int num_special_tokens() const override { return parts_.post_processor.num_special_tokens(); }

 private:
  void encode_text(const std::u32string& text, bool at_start, size_t max_ids, std::vector<int32_t>& out) const;

  PipelineParts parts_;
  AddedVocabulary added_;
  int32_t vocab_size_ = 0;
};

}  // namespace nystrom::text
