#include "text/pipeline.h"

#include <algorithm>

#include "runtime/error.h"
#include "text/utf8.h"

namespace nystrom::text {

PipelineTokenizer::PipelineTokenizer(PipelineParts parts) : parts_(std::move(parts)) {
  if (!parts_.model) fail("tokenizer: no model");
  vocab_size_ = parts_.model->vocabulary().id_bound();
  for (const AddedToken& t : parts_.added_tokens) {
    added_.add(t, parts_.normalizer.get());
    vocab_size_ = std::max(vocab_size_, t.id + 1);
  }
  for (int32_t id : parts_.post_processor.special_ids())
    if (id >= vocab_size_) fail("tokenizer: template special token id ", id, " is outside the vocabulary");
  if (parts_.mask_id && *parts_.mask_id >= vocab_size_) fail("tokenizer: mask id outside the vocabulary");
}

// Normalized text between raw added tokens: its own added tokens, then the
// pieces of the pre-tokenizer through the model. When only the first
// max_ids matter and the pre-tokenizer allows it, a long stretch is
// pre-tokenized a part at a time, so that a huge line costs little more
// than one that fits (normalizing still reads it all).
void PipelineTokenizer::encode_text(const std::u32string& raw, bool at_start, size_t max_ids,
                                    std::vector<int32_t>& out) const {
  constexpr size_t kPart = 4096;  // code points: each part's pieces are small
  const std::u32string text = parts_.normalizer ? parts_.normalizer->normalize(raw) : raw;
  const bool in_parts = max_ids != SIZE_MAX && parts_.pre_tokenizer && parts_.pre_tokenizer->cuts_at_spaces();
  std::vector<Piece> pieces;
  for (const auto& seg : added_.split(text, true)) {
    if (out.size() > max_ids) return;
    if (seg.id >= 0) {
      out.push_back(seg.id);
      continue;
    }
    for (size_t begin = seg.begin; begin < seg.end;) {
      const size_t end =
          in_parts && seg.end - begin > 2 * kPart ? next_space_cut(text, begin + kPart, seg.end) : seg.end;
      pieces.clear();
      pieces.push_back({text.substr(begin, end - begin), at_start && begin == 0});
      if (parts_.pre_tokenizer) parts_.pre_tokenizer->split(pieces);
      for (const Piece& p : pieces) {
        if (out.size() > max_ids) return;  // the rest cannot fit anyway
        if (!p.text.empty()) parts_.model->encode(utf8_encode(p.text), out);
      }
      begin = end;
    }
  }
}

std::vector<int32_t> PipelineTokenizer::encode(std::string_view text, bool add_special, size_t max_text_ids) const {
  const std::u32string cps = utf8_decode(text);
  std::vector<int32_t> ids;
  for (const auto& seg : added_.split(cps, false)) {
    if (ids.size() > max_text_ids) break;
    if (seg.id >= 0)
      ids.push_back(seg.id);
    else
      encode_text(cps.substr(seg.begin, seg.end - seg.begin), seg.begin == 0, max_text_ids, ids);
  }
  return add_special ? parts_.post_processor.apply(ids) : ids;
}

std::string PipelineTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size_) fail("token id ", id, " is outside the vocabulary [0, ", vocab_size_, ")");
  if (const AddedToken* t = added_.by_id(id)) return t->content;
  const std::string* token = parts_.model->vocabulary().token(id);
  return token ? *token : std::string();
}

std::optional<int32_t> PipelineTokenizer::token_to_id(std::string_view token) const {
  if (const AddedToken* t = added_.by_content(token)) return t->id;
  return parts_.model->vocabulary().find(token);
}

std::string PipelineTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (skip_special)
      if (const AddedToken* t = added_.by_id(id); t && t->special) continue;
    tokens.push_back(id_to_token(id));
  }
  if (parts_.decoder) tokens = parts_.decoder->decode_chain(std::move(tokens));
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0 && !parts_.decoder) text += ' ';
    text += tokens[i];
  }
  return text;
}

}  // namespace nystrom::text
