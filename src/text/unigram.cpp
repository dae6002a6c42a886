#include "text/unigram.h"

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <unordered_map>

#include "runtime/error.h"

namespace nystrom::text {

// ---------------------------------------------------------------- PieceTrie

PieceTrie::PieceTrie(const std::vector<std::pair<std::string_view, int32_t>>& pieces) {
  // Sorted by bytes (stable, so the last of equal pieces comes last), the
  // pieces sharing a prefix are contiguous: each node's children can be
  // laid out together, in byte order, by one pass over ranges.
  std::vector<std::pair<std::string_view, int32_t>> sorted;
  sorted.reserve(pieces.size());
  for (const auto& p : pieces)
    if (!p.first.empty()) sorted.push_back(p);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  struct Range {
    int32_t node;
    size_t depth, lo, hi;  // sorted[lo, hi) all share the node's `depth` bytes
  };
  nodes_.emplace_back();
  std::vector<Range> todo = {{0, 0, 0, sorted.size()}};
  while (!todo.empty()) {
    Range r = todo.back();
    todo.pop_back();
    size_t i = r.lo;
    for (; i < r.hi && sorted[i].first.size() == r.depth; ++i) nodes_[r.node].value = sorted[i].second;
    nodes_[r.node].first = static_cast<uint32_t>(edges_.size());
    while (i < r.hi) {
      uint8_t byte = static_cast<uint8_t>(sorted[i].first[r.depth]);
      size_t j = i;
      while (j < r.hi && static_cast<uint8_t>(sorted[j].first[r.depth]) == byte) ++j;
      int32_t node = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      edges_.push_back({byte, node});
      todo.push_back({node, r.depth + 1, i, j});
      i = j;
    }
    nodes_[r.node].count = static_cast<uint32_t>(edges_.size()) - nodes_[r.node].first;
  }
}

int32_t PieceTrie::child(int32_t node, uint8_t byte) const {
  const Node& n = nodes_[node];
  const Edge* begin = edges_.data() + n.first;
  const Edge* end = begin + n.count;
  const Edge* it = std::lower_bound(begin, end, byte, [](const Edge& e, uint8_t b) { return e.byte < b; });
  return it != end && it->byte == byte ? it->node : -1;
}

size_t PieceTrie::longest_prefix(std::string_view text) const {
  size_t longest = 0;
  prefixes(text, [&](size_t length, int32_t) { longest = length; });
  return longest;
}

// ------------------------------------------------------------ UnigramModel

namespace {

// The byte length of the character starting with `lead`, as SentencePiece
// steps through text: by the lead byte alone, so a malformed sequence
// still advances (never by more than what is left).
size_t char_length(std::string_view text, size_t pos) {
  static const uint8_t kLength[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  size_t length = kLength[static_cast<uint8_t>(text[pos]) >> 4];
  return std::min(length, text.size() - pos);
}

std::string byte_piece(uint8_t byte) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", byte);
  return buf;
}

std::vector<UnigramModel::Piece> plain_pieces(std::vector<std::pair<std::string, double>> pieces) {
  std::vector<UnigramModel::Piece> out;
  out.reserve(pieces.size());
  for (auto& p : pieces) out.push_back({std::move(p.first), p.second, UnigramModel::Type::Normal});
  return out;
}

// The pieces Viterbi may match: in SentencePiece only these types.
bool matchable(UnigramModel::Type type, bool sentencepiece) {
  using Type = UnigramModel::Type;
  return !sentencepiece || type == Type::Normal || type == Type::UserDefined || type == Type::Unused;
}

std::vector<std::pair<std::string_view, int32_t>> trie_entries(const std::vector<UnigramModel::Piece>& pieces,
                                                               bool sentencepiece) {
  std::vector<std::pair<std::string_view, int32_t>> entries;
  entries.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i)
    if (matchable(pieces[i].type, sentencepiece)) entries.emplace_back(pieces[i].text, static_cast<int32_t>(i));
  return entries;
}

}  // namespace

UnigramModel::UnigramModel(std::vector<std::pair<std::string, double>> pieces, int unk_id, bool byte_fallback)
    : UnigramModel(plain_pieces(std::move(pieces)), unk_id, byte_fallback, Flavor::HuggingFace) {}

UnigramModel UnigramModel::sentencepiece(std::vector<Piece> pieces, int unk_id, bool byte_fallback) {
  return UnigramModel(std::move(pieces), unk_id, byte_fallback, Flavor::SentencePiece);
}

UnigramModel::UnigramModel(std::vector<Piece> pieces, int unk_id, bool byte_fallback, Flavor flavor)
    : pieces_(std::move(pieces)),
      unk_id_(unk_id),
      byte_fallback_(byte_fallback),
      flavor_(flavor),
      trie_(trie_entries(pieces_, flavor == Flavor::SentencePiece)) {
  const bool spm = flavor == Flavor::SentencePiece;
  const int n = static_cast<int>(pieces_.size());
  if (unk_id < -1 || unk_id >= n) fail("unigram model: unk id ", unk_id, " is outside the vocabulary of ", n);
  if (spm && (unk_id < 0 || pieces_[unk_id].type != Type::Unknown))
    fail("unigram model: unk id ", unk_id, " is not the unknown piece");

  // spm: min and max over Normal pieces, max starting at FLT_MIN as spm's
  // does; Hugging Face: min over all pieces.
  if (spm) {
    float lo = FLT_MAX, hi = FLT_MIN;
    for (const Piece& p : pieces_)
      if (p.type == Type::Normal) {
        lo = std::min(lo, static_cast<float>(p.score));
        hi = std::max(hi, static_cast<float>(p.score));
      }
    min_score_ = lo;
    max_score_ = hi;
  } else {
    min_score_ = n > 0 ? pieces_[0].score : 0;
    for (const Piece& p : pieces_) min_score_ = std::min(min_score_, p.score);
  }

  if (spm) {
    // As spm: matchable and reserved pieces are two maps, each unique.
    std::unordered_map<std::string_view, int> seen[2];
    for (int i = 0; i < n; ++i) {
      const Piece& p = pieces_[i];
      if (p.text.empty()) fail("unigram model: piece ", i, " is empty");
      if (!seen[matchable(p.type, true)].emplace(p.text, i).second)
        fail("unigram model: piece '", p.text, "' is defined twice");
      if (p.type == Type::Unknown && i != unk_id) fail("unigram model: more than one unknown piece");
    }
  }

  if (byte_fallback_) {
    byte_ids_.assign(256, -1);
    std::unordered_map<std::string_view, int> index;
    for (int i = 0; i < n; ++i)
      if (!spm || pieces_[i].type == Type::Byte) index[pieces_[i].text] = i;  // later wins, as HF
    for (int b = 0; b < 256; ++b) {
      auto it = index.find(byte_piece(static_cast<uint8_t>(b)));
      if (it != index.end()) byte_ids_[b] = it->second;
      else if (spm) fail("unigram model: byte_fallback is set but piece ", byte_piece(static_cast<uint8_t>(b)), " is missing");
    }
    if (spm && index.size() != 256) fail("unigram model: a byte piece is not of the form <0xNN>");
  }
  if (spm && !byte_fallback_)
    for (const Piece& p : pieces_)
      if (p.type == Type::Byte) fail("unigram model: byte piece ", p.text, " without byte_fallback");
}

void UnigramModel::emit_unknown(std::string_view chars, std::vector<int32_t>& out) const {
  if (byte_fallback_) {
    bool all = std::all_of(chars.begin(), chars.end(), [&](char c) { return byte_ids_[static_cast<uint8_t>(c)] >= 0; });
    if (all) {
      for (char c : chars) out.push_back(byte_ids_[static_cast<uint8_t>(c)]);
      return;
    }
  }
  out.push_back(unk_id_);
}

template <typename Score>
void UnigramModel::viterbi(std::string_view text, std::vector<int32_t>& out) const {
  // best[e]: the best segmentation of text[0, e) ends with the piece `id`
  // over text[start, e) and scores `score`; start -1 until some path ends
  // at e. Ids of unknown characters are kUnknown until emitted.
  constexpr int32_t kUnknown = -2;
  struct Best {
    Score score = 0;
    int32_t start = -1;
    int32_t id = -1;
  };
  const bool spm = flavor_ == Flavor::SentencePiece;
  const Score unk_score = static_cast<Score>(min_score_) - static_cast<Score>(10);
  const float max_score = static_cast<float>(max_score_);
  std::vector<Best> best(text.size() + 1);

  for (size_t start = 0; start < text.size();) {
    const Score here = best[start].score;
    const size_t mblen = char_length(text, start);
    bool single = false;
    trie_.prefixes(text.substr(start), [&](size_t length, int32_t id) {
      const Piece& piece = pieces_[id];
      if (spm && piece.type == Type::Unused) return;
      // spm's score is a double (a conditional expression mixing float and
      // double), so the candidate is summed and compared in double, then
      // stored as Score; keep exactly that arithmetic.
      double score = spm ? static_cast<float>(piece.score) : piece.score;
      if (spm && piece.type == Type::UserDefined)
        score = static_cast<double>(static_cast<float>(length) * max_score) - 0.1;
      double candidate = score + static_cast<double>(here);
      Best& target = best[start + length];
      if (target.start < 0 || candidate > static_cast<double>(target.score))
        target = {static_cast<Score>(candidate), static_cast<int32_t>(start), id};
      if (length == mblen) single = true;
    });
    if (!single) {
      Best& target = best[start + mblen];
      Score candidate = unk_score + here;
      if (target.start < 0 || candidate > target.score) {
        if (unk_id_ < 0) fail("unigram model: the text has a character outside the vocabulary and there is no unk id");
        target = {candidate, static_cast<int32_t>(start), kUnknown};
      }
    }
    start += mblen;
  }

  // Walk back from the end, then emit in order, a run of unknown
  // characters as one.
  std::vector<int32_t> ends;
  for (size_t end = text.size(); end > 0; end = static_cast<size_t>(best[end].start)) ends.push_back(static_cast<int32_t>(end));
  size_t unknown_from = 0;
  bool in_unknown = false;
  for (auto it = ends.rbegin(); it != ends.rend(); ++it) {
    const Best& node = best[*it];
    if (node.id == kUnknown) {
      if (!in_unknown) unknown_from = static_cast<size_t>(node.start);
      in_unknown = true;
      continue;
    }
    if (in_unknown) emit_unknown(text.substr(unknown_from, static_cast<size_t>(node.start) - unknown_from), out);
    in_unknown = false;
    out.push_back(node.id);
  }
  if (in_unknown) emit_unknown(text.substr(unknown_from), out);
}

void UnigramModel::encode(std::string_view normalized, std::vector<int32_t>& out) const {
  if (normalized.empty()) return;
  if (flavor_ == Flavor::SentencePiece)
    viterbi<float>(normalized, out);
  else
    viterbi<double>(normalized, out);
}

}  // namespace nystrom::text
