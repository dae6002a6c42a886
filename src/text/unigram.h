// The unigram language model of SentencePiece and of Hugging Face
// `tokenizers`: the segmentation of a normalized text into vocabulary pieces
// whose summed scores (log probabilities) are highest, found by Viterbi.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nystrom::text {

// A byte trie over the pieces of a vocabulary: node 0 is the root, each
// node's children are sorted by byte. Walking it from one start position
// visits every piece that starts there, in O(longest piece) steps.
class PieceTrie {
 public:
  // Each (bytes, value) is stored; when two pieces have the same bytes, the
  // later one's value wins. Empty pieces are ignored.
  explicit PieceTrie(const std::vector<std::pair<std::string_view, int32_t>>& pieces);

  // Calls visit(length, value) for every piece that is a prefix of `text`,
  // shortest first.
  template <typename Visit>
  void prefixes(std::string_view text, Visit&& visit) const {
    int32_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      node = child(node, static_cast<uint8_t>(text[i]));
      if (node < 0) return;
      if (nodes_[node].value >= 0) visit(i + 1, nodes_[node].value);
    }
  }

  // The length of the longest piece that is a prefix of `text`; 0 if none.
  size_t longest_prefix(std::string_view text) const;

 private:
  struct Node {
    int32_t value = -1;      // the piece ending here, or -1
    uint32_t first = 0;      // its children: edges_[first, first + count)
    uint32_t count = 0;
  };
  struct Edge {
    uint8_t byte;
    int32_t node;
  };
  int32_t child(int32_t node, uint8_t byte) const;

  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
};

class UnigramModel {
 public:
  // SentencePiece's piece types (ModelProto.SentencePiece.Type).
  enum class Type { Normal, Unknown, Control, UserDefined, Unused, Byte };

  struct Piece {
    std::string text;
    double score = 0;
    Type type = Type::Normal;
  };

  // Hugging Face `tokenizers` semantics (a tokenizer.json "Unigram" model):
  //  - every piece can be matched in the text, whatever it is;
  //  - scores are doubles, summed in double;
  //  - a character no piece covers gets unk_id with score min(all scores) - 10;
  //  - a run of such characters becomes one unknown token (fuse_unk); with
  //    byte_fallback it is written instead as its UTF-8 bytes' "<0xNN>"
  //    pieces, if all of them exist, else as unk_id;
  //  - a piece's id is that of the last piece with the same text.
  // unk_id is -1 for none; a text needing it then throws nystrom::Error.
  UnigramModel(std::vector<std::pair<std::string, double>> pieces, int unk_id, bool byte_fallback);

  // SentencePiece semantics (spm_encode on a UNIGRAM spiece.model), which
  // differ from the above in that:
  //  - only Normal, UserDefined and Unused pieces are matched; Unused ones
  //    are then skipped;
  //  - scores are floats, summed in float, as spm does;
  //  - the unknown score is min(Normal scores) - 10; a UserDefined piece of
  //    n bytes scores n * max(Normal scores, FLT_MIN) - 0.1, so it always
  //    wins;
  //  - with byte_fallback every unknown character becomes its bytes' Byte
  //    pieces (all 256 must exist) and runs are not merged.
  // Throws nystrom::Error for a vocabulary spm would refuse (unk_id not an
  // Unknown piece, missing byte pieces, duplicate pieces).
  static UnigramModel sentencepiece(std::vector<Piece> pieces, int unk_id, bool byte_fallback);

  // Appends the ids of `normalized` (already normalized text: "▁Hello▁world")
  // to `out`. Time is linear in its length times the longest piece; bytes
  // of malformed UTF-8 are taken one at a time. Empty text adds nothing.
  void encode(std::string_view normalized, std::vector<int32_t>& out) const;

  const std::vector<Piece>& pieces() const { return pieces_; }
  int unk_id() const { return unk_id_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  enum class Flavor { HuggingFace, SentencePiece };
  UnigramModel(std::vector<Piece> pieces, int unk_id, bool byte_fallback, Flavor flavor);
  template <typename Score>
  void viterbi(std::string_view text, std::vector<int32_t>& out) const;
  void emit_unknown(std::string_view chars, std::vector<int32_t>& out) const;

  std::vector<Piece> pieces_;
  int unk_id_;
  bool byte_fallback_;
  Flavor flavor_;
  PieceTrie trie_;
  std::vector<int32_t> byte_ids_;  // id of "<0xNN>" per byte, -1 if absent (empty without byte_fallback)
  double min_score_ = 0;
  double max_score_ = 0;
};

}  // namespace nystrom::text
