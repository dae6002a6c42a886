#include "text/bpe.h"

#include <queue>

#include "runtime/error.h"
#include "text/json_fields.h"
#include "text/word_level.h"

namespace nystrom::text {

namespace {
uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }
}  // namespace

BpeModel::BpeModel(Vocabulary vocab, const MergeList& merges, BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  const std::string& prefix = options_.continuing_subword_prefix;
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto a_id = vocab_.find(a), b_id = vocab_.find(b);
    // The merged token drops the right side's subword prefix.
    const bool prefixed = !prefix.empty() && b.compare(0, prefix.size(), prefix) == 0;
    const std::string merged = a + (prefixed ? b.substr(prefix.size()) : b);
    const auto new_id = vocab_.find(merged);
    if (!a_id || !b_id || !new_id)
      fail("BPE merge ", rank + 1, " ('", a, "' '", b, "'): '", !a_id ? a : !b_id ? b : merged,
           "' is not in the vocabulary");
    // A pair listed twice keeps its later rank, as Hugging Face's map does.
    merges_[pair_key(*a_id, *b_id)] = {(uint32_t)rank, *new_id};
  }
}

const BpeModel::Merge* BpeModel::find_merge(int32_t a, int32_t b) const {
  auto it = merges_.find(pair_key(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

std::optional<int32_t> BpeModel::unk_id() const {
  if (!options_.unk_token) return std::nullopt;
  auto id = vocab_.find(*options_.unk_token);
  if (!id) fail("BPE tokenizer: the unknown token '", *options_.unk_token, "' is not in the vocabulary");
  return id;
}

void BpeModel::encode(const std::string& piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (options_.ignore_merges)
    if (auto id = vocab_.find(piece)) {
      out.push_back(*id);
      return;
    }

  // The initial symbols: one per character (or per byte with byte
  // fallback), runs of unknown characters fused when asked.
  std::vector<int32_t> symbols;
  std::optional<int32_t> pending_unk;
  std::string s;
  auto char_end = [&](size_t i) {
    ++i;
    while (i < piece.size() && ((unsigned char)piece[i] & 0xC0) == 0x80) ++i;
    return i;
  };
  for (size_t i = 0; i < piece.size();) {
    const size_t end = char_end(i);
    s.clear();
    if (i > 0) s += options_.continuing_subword_prefix;
    s.append(piece, i, end - i);
    if (end == piece.size()) s += options_.end_of_word_suffix;
    i = end;
    if (auto id = vocab_.find(s)) {
      if (pending_unk) symbols.push_back(*pending_unk), pending_unk.reset();
      symbols.push_back(*id);
      continue;
    }
    if (options_.byte_fallback) {
      std::vector<int32_t> bytes;
      static const char* hex = "0123456789ABCDEF";
      for (unsigned char b : s) {
        const char name[] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
        if (auto id = vocab_.find(name))
          bytes.push_back(*id);
        else
          break;
      }
      if (bytes.size() == s.size()) {
        symbols.insert(symbols.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (auto unk = unk_id()) {
      if (pending_unk && !options_.fuse_unk) symbols.push_back(*pending_unk);
      pending_unk = unk;  // without an unknown token the character is dropped
    }
  }
  if (pending_unk) symbols.push_back(*pending_unk);

  // Merge: a doubly linked list over the symbols and a queue of candidate
  // pairs by (rank, position); stale entries are skipped when popped.
  const int n = (int)symbols.size();
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int k = 0; k < n; ++k) prev[k] = k - 1, next[k] = k + 1 < n ? k + 1 : -1;
  struct Candidate {
    uint32_t rank;
    int pos;
    int32_t id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto push = [&](int pos) {
    if (pos < 0 || next[pos] < 0) return;
    if (const Merge* m = find_merge(symbols[pos], symbols[next[pos]])) queue.push({m->rank, pos, m->id});
  };
  for (int k = 0; k + 1 < n; ++k) push(k);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const int right = next[top.pos];
    const Merge* m = find_merge(symbols[top.pos], symbols[right]);
    if (!m || m->id != top.id) continue;
    symbols[top.pos] = top.id;
    alive[right] = false;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    push(prev[top.pos]);
    push(top.pos);
  }
  for (int k = 0; k < n; ++k)
    if (alive[k]) out.push_back(symbols[k]);
}

namespace {

constexpr const char* kWhat = "tokenizer.json: BPE model";

MergeList merges_from_json(const JsonValue& list) {
  if (!list.is_array()) fail(kWhat, " \"merges\" must be an array");
  MergeList merges;
  merges.reserve(list.array.size());
  for (const JsonValue& m : list.array) {
    if (m.is_string()) {
      // "a b": split at the first space, as the pair's tokens have none.
      const std::string& text = m.string;
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos)
        fail(kWhat, " merge '", text, "' must be two tokens separated by one space");
      merges.emplace_back(text.substr(0, space), text.substr(space + 1));
    } else if (m.is_array() && m.array.size() == 2) {
      merges.emplace_back(m.array[0].as_string("BPE merge"), m.array[1].as_string("BPE merge"));
    } else {
      fail(kWhat, " merges must be \"a b\" strings or [a, b] pairs");
    }
  }
  return merges;
}

}  // namespace

std::unique_ptr<Model> bpe_from_json(const JsonValue& model) {
  const JsonValue* vocab = model.find("vocab");
  const JsonValue* merges = model.find("merges");
  if (!vocab || !merges) fail(kWhat, " needs \"vocab\" and \"merges\"");
  BpeOptions options;
  if (const JsonValue* u = model.find("unk_token"); u && !u->is_null()) options.unk_token = u->as_string("BPE unk_token");
  options.continuing_subword_prefix = string_field(model, "continuing_subword_prefix", "", kWhat);
  options.end_of_word_suffix = string_field(model, "end_of_word_suffix", "", kWhat);
  options.fuse_unk = bool_field(model, "fuse_unk", false, kWhat);
  options.byte_fallback = bool_field(model, "byte_fallback", false, kWhat);
  options.ignore_merges = bool_field(model, "ignore_merges", false, kWhat);
  return std::make_unique<BpeModel>(vocabulary_from_json(*vocab, "tokenizer.json: model vocab"),
                                    merges_from_json(*merges), std::move(options));
}

MergeList merges_from_text(std::string_view text, std::string_view source) {
  MergeList merges;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.substr(0, 8) == "#version") continue;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
      fail(source, ": line ", line_no, " is not two tokens separated by one space");
    merges.emplace_back(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
  }
  return merges;
}

}  // namespace nystrom::text
