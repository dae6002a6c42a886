#include "runtime/error.h"
#include "text/model.h"

namespace nystrom::text {

void Vocabulary::add(std::string token, int64_t id, std::string_view source, bool last_wins) {
  if (id < 0 || id >= kMaxTokenId) fail(source, ": token id ", id, " out of range");
  if ((size_t)id < present_.size() && present_[id]) fail(source, ": id ", id, " given twice");
  if (auto it = ids_.find(token); it != ids_.end()) {
    if (!last_wins) fail(source, ": token '", token, "' given twice");
    ids_.erase(it);
  }
  if ((size_t)id >= tokens_.size()) {
    tokens_.resize((size_t)id + 1);
    present_.resize((size_t)id + 1, false);
  }
  tokens_[id] = token;
  present_[id] = true;
  ids_.emplace(std::move(token), id);
}

std::optional<int32_t> Vocabulary::find(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

const std::string* Vocabulary::token(int32_t id) const {
  if (id < 0 || (size_t)id >= tokens_.size() || !present_[id]) return nullptr;
  return &tokens_[id];
}

}  // namespace nystrom::text
