#include "text/sentencepiece.h"

#include <unordered_map>
#include <utility>

#include "runtime/error.h"
#include "text/precompiled_normalizer.h"
#include "text/protobuf.h"
#include "text/unicode.h"
#include "text/unigram.h"
#include "text/utf8.h"

namespace nystrom::text {

namespace {

using Type = UnigramModel::Type;

constexpr const char* kSource = "spiece.model";

// ------------------------------------------------ ModelProto, the parts used

// TrainerSpec.ModelType
enum ModelType { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

struct ModelProto {
  std::vector<UnigramModel::Piece> pieces;
  // trainer_spec
  int32_t model_type = kUnigram;
  bool byte_fallback = false;
  // normalizer_spec
  std::string charsmap;
  SpmWhitespace whitespace;
};

UnigramModel::Piece parse_piece(std::string_view bytes, size_t index) {
  UnigramModel::Piece piece;
  ProtoReader r(bytes, std::string(kSource) + ": piece " + std::to_string(index));
  while (r.next()) {
    switch (r.field()) {
      case 1: piece.text = std::string(r.bytes()); break;
      case 2: piece.score = r.float32(); break;
      case 3: {
        // ModelProto.SentencePiece.Type: NORMAL=1 UNKNOWN=2 CONTROL=3
        // USER_DEFINED=4 UNUSED=5 BYTE=6.
        static const Type kTypes[] = {Type::Normal, Type::Unknown, Type::Control,
                                      Type::UserDefined, Type::Unused, Type::Byte};
        int32_t type = r.int32();
        if (type < 1 || type > 6) fail(r.source(), ": unknown piece type ", type);
        piece.type = kTypes[type - 1];
        break;
      }
      default: r.skip();
    }
  }
  if (piece.text.empty()) fail(kSource, ": piece ", index, " is empty");
  return piece;
}

// Fields of a sub-message merge into `proto` (protobuf merges repeated
// occurrences of a message field; the last scalar wins).
void parse_trainer_spec(std::string_view bytes, ModelProto& proto) {
  ProtoReader r(bytes, std::string(kSource) + ": trainer_spec");
  while (r.next()) {
    switch (r.field()) {
      case 3: proto.model_type = r.int32(); break;
      case 24: proto.whitespace.treat_whitespace_as_suffix = r.boolean(); break;
      case 35: proto.byte_fallback = r.boolean(); break;
      default: r.skip();
    }
  }
}

void parse_normalizer_spec(std::string_view bytes, ModelProto& proto) {
  ProtoReader r(bytes, std::string(kSource) + ": normalizer_spec");
  while (r.next()) {
    switch (r.field()) {
      case 2: proto.charsmap = std::string(r.bytes()); break;
      case 3: proto.whitespace.add_dummy_prefix = r.boolean(); break;
      case 4: proto.whitespace.remove_extra_whitespaces = r.boolean(); break;
      case 5: proto.whitespace.escape_whitespaces = r.boolean(); break;
      default: r.skip();
    }
  }
}

ModelProto parse_model_proto(std::string_view bytes) {
  if (bytes.empty()) fail(kSource, ": the file is empty");
  ModelProto proto;
  ProtoReader r(bytes, kSource);
  while (r.next()) {
    switch (r.field()) {
      case 1: proto.pieces.push_back(parse_piece(r.bytes(), proto.pieces.size())); break;
      case 2: parse_trainer_spec(r.bytes(), proto); break;
      case 3: parse_normalizer_spec(r.bytes(), proto); break;
      default: r.skip();  // self_test_data, denormalizer_spec
    }
  }
  if (proto.pieces.empty()) fail(kSource, ": the model has no pieces");
  switch (proto.model_type) {
    case kUnigram: break;
    case kBpe: fail(kSource, ": BPE SentencePiece models are not supported (only UNIGRAM)");
    case kWord: fail(kSource, ": WORD SentencePiece models are not supported (only UNIGRAM)");
    case kChar: fail(kSource, ": CHAR SentencePiece models are not supported (only UNIGRAM)");
    default: fail(kSource, ": unknown model type ", proto.model_type);
  }
  return proto;
}

// ---------------------------------------------------------------- Tokenizer

constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";  // U+2581

int find_unknown(const std::vector<UnigramModel::Piece>& pieces) {
  for (size_t i = 0; i < pieces.size(); ++i)
    if (pieces[i].type == Type::Unknown) return static_cast<int>(i);
  fail(kSource, ": the model has no unknown piece");
}

UnigramModel build_model(ModelProto& proto) {
  int unk_id = find_unknown(proto.pieces);
  return UnigramModel::sentencepiece(std::move(proto.pieces), unk_id, proto.byte_fallback);
}

// The longest user-defined piece at the start of a text: spm copies those
// verbatim, before and instead of the charsmap.
SpmNormalizer::ProtectedPrefix user_defined_matcher(const std::vector<UnigramModel::Piece>& pieces) {
  std::vector<std::pair<std::string_view, int32_t>> symbols;
  for (size_t i = 0; i < pieces.size(); ++i)
    if (pieces[i].type == Type::UserDefined) symbols.emplace_back(pieces[i].text, static_cast<int32_t>(i));
  if (symbols.empty()) return nullptr;
  auto trie = std::make_shared<const PieceTrie>(symbols);
  return [trie](std::string_view text) { return trie->longest_prefix(text); };
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(ModelProto proto, const SentencePieceOptions& options)
      : model_(build_model(proto)),
        normalizer_(proto.charsmap.empty() ? std::nullopt
                                           : std::optional<PrecompiledNormalizer>(std::move(proto.charsmap)),
                    proto.whitespace, user_defined_matcher(model_.pieces())),
        whitespace_(proto.whitespace),
        lower_case_(options.lower_case) {
    const auto& pieces = model_.pieces();
    // spm's PieceToId looks among reserved pieces first, then the others.
    for (int pass = 0; pass < 2; ++pass)
      for (size_t i = 0; i < pieces.size(); ++i) {
        Type t = pieces[i].type;
        bool reserved = t == Type::Unknown || t == Type::Control || t == Type::Byte;
        if (reserved == (pass == 0)) ids_.emplace(pieces[i].text, static_cast<int32_t>(i));
      }

    auto cls = token_to_id("[CLS]"), sep = token_to_id("[SEP]");
    prefix_ = options.prefix_ids ? *options.prefix_ids : (cls && sep ? std::vector<int32_t>{*cls} : std::vector<int32_t>{});
    suffix_ = options.suffix_ids ? *options.suffix_ids : (cls && sep ? std::vector<int32_t>{*sep} : std::vector<int32_t>{});
    for (const auto* ids : {&prefix_, &suffix_})
      for (int32_t id : *ids)
        if (id < 0 || id >= vocab_size()) fail(kSource, ": template id ", id, " is outside the vocabulary");
    if (options.mask_token) {
      mask_ = token_to_id(*options.mask_token);
      if (!mask_) fail(kSource, ": mask token '", *options.mask_token, "' is not in the vocabulary");
    } else {
      mask_ = token_to_id("[MASK]");
      if (!mask_) mask_ = token_to_id("<mask>");
    }
  }

  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;  // ids_ views into model_
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  // The Unigram lattice spans the whole text: max_text_ids cannot stop it
  // early (the CLI's line limit bounds the text instead; 1 MiB costs ~3 MB).
  std::vector<int32_t> encode(std::string_view text, bool add_special, size_t = SIZE_MAX) const override {
    std::string lowered;
    if (lower_case_) {
      lowered = utf8_encode(unicode::lower(utf8_decode(text)));
      text = lowered;
    }
    std::vector<int32_t> ids;
    if (add_special) ids = prefix_;
    model_.encode(normalizer_.normalize(text), ids);
    if (add_special) ids.insert(ids.end(), suffix_.begin(), suffix_.end());
    return ids;
  }

  std::string id_to_token(int32_t id) const override { return piece(id).text; }

  // SentencePiece's decoding of each run of ordinary pieces (U+2581 back to
  // spaces, the dummy prefix's space dropped, byte pieces joined into
  // UTF-8); special pieces (control, unknown, the template's and the mask)
  // are skipped or written as their text, set off by spaces.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
    std::string out, run;
    auto flush = [&] {
      std::string text = utf8_encode(utf8_decode(run));  // stray byte pieces -> U+FFFD
      std::string spaced;
      for (size_t i = 0; i < text.size();) {
        if (text.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
          spaced += ' ';
          i += kSpaceSymbol.size();
        } else {
          spaced += text[i++];
        }
      }
      if (whitespace_.add_dummy_prefix && !spaced.empty()) {
        if (!whitespace_.treat_whitespace_as_suffix && spaced.front() == ' ') spaced.erase(0, 1);
        if (whitespace_.treat_whitespace_as_suffix && spaced.back() == ' ') spaced.pop_back();
      }
      if (!spaced.empty() && !out.empty() && out.back() != ' ') out += ' ';
      out += spaced;
      run.clear();
    };
    for (int32_t id : ids) {
      const UnigramModel::Piece& p = piece(id);
      if (is_special(id)) {
        flush();
        if (skip_special) continue;
        if (!out.empty() && out.back() != ' ') out += ' ';
        out += p.text;
      } else if (p.type == Type::Byte) {
        run += static_cast<char>(std::stoi(p.text.substr(3, 2), nullptr, 16));
      } else {
        run += p.text;
      }
    }
    flush();
    return out;
  }

  std::optional<int32_t> token_to_id(std::string_view token) const override {
    auto it = ids_.find(token);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }

  int32_t vocab_size() const override { return static_cast<int32_t>(model_.pieces().size()); }
  std::optional<int32_t> mask_id() const override { return mask_; }
  const char* kind() const override { return "Unigram"; }
  std::optional<int32_t> unknown_id() const override {
    return model_.unk_id() >= 0 ? std::optional<int32_t>(model_.unk_id()) : std::nullopt;
  }
  int num_special_tokens() const override { return static_cast<int>(prefix_.size() + suffix_.size()); }

 private:
  const UnigramModel::Piece& piece(int32_t id) const {
    if (id < 0 || id >= vocab_size()) fail("token id ", id, " is outside the vocabulary of ", vocab_size());
    return model_.pieces()[id];
  }

  bool is_special(int32_t id) const {
    Type t = model_.pieces()[id].type;
    if (t == Type::Control || t == Type::Unknown || id == mask_) return true;
    for (const auto* ids : {&prefix_, &suffix_})
      for (int32_t s : *ids)
        if (s == id) return true;
    return false;
  }

  UnigramModel model_;
  SpmNormalizer normalizer_;
  SpmWhitespace whitespace_;
  bool lower_case_;
  std::unordered_map<std::string_view, int32_t> ids_;  // views into model_'s pieces
  std::vector<int32_t> prefix_, suffix_;
  std::optional<int32_t> mask_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(std::string_view spiece_model_bytes,
                                                        const SentencePieceOptions& options) {
  return std::make_unique<SentencePieceTokenizer>(parse_model_proto(spiece_model_bytes), options);
}

}  // namespace nystrom::text
