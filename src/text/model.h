// The model stage of the pipeline: one pre-tokenized piece (UTF-8) in, its
// token ids out. Each model owns its vocabulary.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nystrom::text {

// Ids are below this bound (16 times the largest vocabularies in use), so
// that a corrupt file cannot make us allocate gigabytes.
constexpr int64_t kMaxTokenId = 1 << 22;

// Token strings and ids both ways. Ids need not be contiguous (a file may
// leave holes); a hole has an empty token string.
class Vocabulary {
 public:
  // Throws on a negative id, an id given twice, or a token given twice
  // unless last_wins (then the token's id is the later one; the earlier id
  // keeps its token string for id_to_token, as Hugging Face does).
  void add(std::string token, int64_t id, std::string_view source, bool last_wins = false);
  std::optional<int32_t> find(std::string_view token) const;
  const std::string* token(int32_t id) const;  // nullptr outside or for a hole
  int32_t id_bound() const { return (int32_t)tokens_.size(); }  // max id + 1
  size_t size() const { return ids_.size(); }

 private:
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<std::string> tokens_;
  std::vector<bool> present_;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one piece. Throws nystrom::Error when a piece cannot
  // be represented because the unknown token the model names is missing.
  virtual void encode(const std::string& piece, std::vector<int32_t>& out) const = 0;
  virtual const Vocabulary& vocabulary() const = 0;
  virtual const char* kind() const = 0;
  // The id a piece the vocabulary cannot spell becomes, if the model has one.
  virtual std::optional<int32_t> unknown_id() const = 0;
};

}  // namespace nystrom::text
