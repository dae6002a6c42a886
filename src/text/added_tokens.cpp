#include "text/added_tokens.h"

#include "runtime/error.h"
#include "text/model.h"
#include "text/normalizer.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace nystrom::text {

std::vector<AddedToken> added_tokens_from_json(const JsonValue& list) {
  std::vector<AddedToken> out;
  if (list.is_null()) return out;
  if (!list.is_array()) fail("tokenizer.json: \"added_tokens\" must be an array");
  for (const JsonValue& item : list.array) {
    const JsonValue* content = item.find("content");
    const JsonValue* id = item.find("id");
    if (!content || !id) fail("tokenizer.json: an added token needs \"id\" and \"content\"");
    AddedToken t;
    t.content = content->as_string("tokenizer.json: added token content");
    const int64_t id_value = id->as_int("tokenizer.json: added token id");
    if (id_value < 0 || id_value >= kMaxTokenId) fail("tokenizer.json: added token id ", id_value, " out of range");
    t.id = (int32_t)id_value;
    auto flag = [&](const char* key, bool fallback) {
      const JsonValue* v = item.find(key);
      return v && !v->is_null() ? v->as_bool(std::string("tokenizer.json: added token ") + key) : fallback;
    };
    t.single_word = flag("single_word", false);
    t.lstrip = flag("lstrip", false);
    t.rstrip = flag("rstrip", false);
    t.special = flag("special", false);
    t.normalized = flag("normalized", !t.special);
    out.push_back(std::move(t));
  }
  return out;
}

void AddedVocabulary::add(const AddedToken& token, const Normalizer* normalizer) {
  if (token.content.empty()) fail("added token ", token.id, " is empty");
  const int index = (int)tokens_.size();
  tokens_.push_back(token);
  by_id_.emplace(token.id, index);
  by_content_.emplace(token.content, index);
  std::u32string pattern = utf8_decode(token.content);
  if (token.normalized && normalizer) pattern = normalizer->normalize(std::move(pattern));
  if (pattern.empty()) return;  // normalized away: it can never match
  Trie& trie = token.normalized ? normalized_ : raw_;
  int node = 0;
  for (char32_t c : pattern) {
    auto it = trie.nodes[node].next.find(c);
    if (it == trie.nodes[node].next.end()) {
      trie.nodes.push_back({});
      it = trie.nodes[node].next.emplace(c, (int)trie.nodes.size() - 1).first;
    }
    node = it->second;
  }
  // The first token given keeps a pattern two tokens share.
  if (trie.nodes[node].token < 0) trie.nodes[node].token = index;
}

std::vector<AddedVocabulary::Segment> AddedVocabulary::split(const std::u32string& text, bool normalized) const {
  const Trie& trie = normalized ? normalized_ : raw_;
  std::vector<Segment> out;
  if (trie.nodes.size() == 1) {
    out.push_back({0, text.size(), -1});
    return out;
  }
  size_t done = 0;  // end of the last token emitted
  for (size_t pos = 0; pos < text.size();) {
    // The longest token starting here.
    int node = 0, found = -1;
    size_t found_end = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      auto it = trie.nodes[node].next.find(text[i]);
      if (it == trie.nodes[node].next.end()) break;
      node = it->second;
      if (trie.nodes[node].token >= 0) found = trie.nodes[node].token, found_end = i + 1;
    }
    if (found < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[found];
    size_t begin = pos, end = found_end;
    if (t.single_word) {
      const bool word_before = begin > 0 && unicode::is_word_char(text[begin - 1]);
      const bool word_after = end < text.size() && unicode::is_word_char(text[end]);
      if (word_before || word_after) {  // skipped whole, as Hugging Face's matcher does
        pos = found_end;
        continue;
      }
    }
    if (t.lstrip)
      while (begin > done && unicode::is_white_space(text[begin - 1])) --begin;
    if (t.rstrip)
      while (end < text.size() && unicode::is_white_space(text[end])) ++end;
    if (done < begin) out.push_back({done, begin, -1});
    out.push_back({begin, end, t.id});
    done = pos = end;
  }
  if (done < text.size()) out.push_back({done, text.size(), -1});
  return out;
}

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::by_content(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

}  // namespace nystrom::text
