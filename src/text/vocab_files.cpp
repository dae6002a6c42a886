#include "text/vocab_files.h"

#include "runtime/error.h"
#include "runtime/json.h"
#include "text/bpe.h"
#include "text/pipeline.h"
#include "text/sentencepiece.h"
#include "text/word_level.h"
#include "text/wordpiece.h"

namespace nystrom::text {

namespace {

// The special tokens (in this order) that the vocabulary holds become added
// tokens, matched in the raw text; `lstrip` names the one that also takes
// the space before it (RoBERTa's <mask>).
std::vector<AddedToken> special_tokens(const Vocabulary& vocab, const std::vector<std::string>& tokens,
                                       const std::string& lstrip = "") {
  std::vector<AddedToken> out;
  for (const std::string& t : tokens) {
    if (t.empty()) continue;
    auto id = vocab.find(t);
    if (!id) continue;
    bool seen = false;
    for (const AddedToken& a : out) seen = seen || a.content == t;
    if (seen) continue;
    AddedToken a;
    a.content = t;
    a.id = *id;
    a.special = true;
    a.lstrip = t == lstrip;
    out.push_back(a);
  }
  return out;
}

// The id of a template token, which must be in the vocabulary.
int32_t required_id(const Vocabulary& vocab, const std::string& token, const char* file) {
  auto id = vocab.find(token);
  if (!id) fail(file, ": the special token '", token, "' is not in the vocabulary");
  return *id;
}

}  // namespace

std::unique_ptr<Tokenizer> bert_tokenizer(std::string_view vocab_txt, const TokenizerConfig& config) {
  Vocabulary vocab = vocabulary_from_lines(vocab_txt, "vocab.txt");
  const std::string cls = config.cls_token.value_or("[CLS]"), sep = config.sep_token.value_or("[SEP]");
  const std::string unk = config.unk_token.value_or("[UNK]"), mask = config.mask_token.value_or("[MASK]");
  const bool lowercase = config.do_lower_case.value_or(true);

  PipelineParts parts;
  std::optional<bool> strip_accents = config.strip_accents;
  parts.normalizer = make_bert_normalizer(true, config.tokenize_chinese_chars.value_or(true), strip_accents, lowercase);
  parts.pre_tokenizer = make_bert_pre_tokenizer();
  parts.post_processor = Template::around({required_id(vocab, cls, "vocab.txt")}, {required_id(vocab, sep, "vocab.txt")});
  parts.decoder = make_wordpiece_decoder("##", true);
  parts.added_tokens = special_tokens(vocab, {config.pad_token.value_or("[PAD]"), unk, cls, sep, mask});
  parts.mask_id = vocab.find(mask);
  WordPieceOptions options;
  options.unk_token = unk;
  parts.model = std::make_unique<WordPieceModel>(std::move(vocab), options);
  return std::make_unique<PipelineTokenizer>(std::move(parts));
}

std::unique_ptr<Tokenizer> roberta_tokenizer(std::string_view vocab_json, std::string_view merges_txt,
                                             const TokenizerConfig& config) {
  Vocabulary vocab = vocabulary_from_json(parse_json(vocab_json, "vocab.json"), "vocab.json");
  const MergeList merges = merges_from_text(merges_txt, "merges.txt");
  const std::string cls = config.cls_token.value_or(config.bos_token.value_or("<s>"));
  const std::string sep = config.sep_token.value_or(config.eos_token.value_or("</s>"));
  const std::string mask = config.mask_token.value_or("<mask>");

  PipelineParts parts;
  parts.pre_tokenizer = make_byte_level_pre_tokenizer(config.add_prefix_space.value_or(false), true);
  parts.post_processor = Template::around({required_id(vocab, cls, "vocab.json")}, {required_id(vocab, sep, "vocab.json")});
  parts.decoder = make_byte_level_decoder();
  parts.added_tokens = special_tokens(vocab,
                                      {cls, config.pad_token.value_or("<pad>"), sep, config.unk_token.value_or("<unk>"),
                                       config.bos_token.value_or("<s>"), config.eos_token.value_or("</s>"), mask},
                                      mask);
  parts.mask_id = vocab.find(mask);
  // RoBERTa's BPE has no unknown token: every byte is in the alphabet.
  parts.model = std::make_unique<BpeModel>(std::move(vocab), merges, BpeOptions{});
  return std::make_unique<PipelineTokenizer>(std::move(parts));
}

namespace {

// Helper spm's SentencePiece tokenizer (its normalizer and Viterbi, as
// spm_encode) as the model stage of a pipeline, one text segment at a time.
class SentencePieceSegmentModel : public Model {
 public:
  explicit SentencePieceSegmentModel(std::unique_ptr<Tokenizer> spm) : spm_(std::move(spm)) {
    for (int32_t id = 0; id < spm_->vocab_size(); ++id) vocab_.add(spm_->id_to_token(id), id, "spiece.model", true);
  }
  void encode(const std::string& piece, std::vector<int32_t>& out) const override {
    const std::vector<int32_t> ids = spm_->encode(piece, false);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  const Vocabulary& vocabulary() const override { return vocab_; }
  const char* kind() const override { return "Unigram"; }
  std::optional<int32_t> unknown_id() const override { return spm_->unknown_id(); }

 private:
  std::unique_ptr<Tokenizer> spm_;
  Vocabulary vocab_;
};

}  // namespace

std::unique_ptr<Tokenizer> albert_tokenizer(std::string_view spiece_model, const TokenizerConfig& config) {
  SentencePieceOptions options;
  options.prefix_ids = std::vector<int32_t>{};  // the pipeline adds the template
  options.suffix_ids = std::vector<int32_t>{};
  auto model = std::make_unique<SentencePieceSegmentModel>(make_sentencepiece_tokenizer(spiece_model, options));
  const Vocabulary& vocab = model->vocabulary();
  const std::string cls = config.cls_token.value_or("[CLS]"), sep = config.sep_token.value_or("[SEP]");
  const std::string mask = config.mask_token.value_or("[MASK]");

  PipelineParts parts;
  // What transformers' ALBERT tokenizers do before SentencePiece: `` and ''
  // become ", accents go (NFKD, marks dropped) unless keep_accents, and the
  // text is lower-cased with do_lower_case.
  std::string steps = R"({"type": "Replace", "pattern": {"String": "``"}, "content": "\""},
                         {"type": "Replace", "pattern": {"String": "''"}, "content": "\""})";
  if (!config.keep_accents.value_or(false)) steps += R"(, {"type": "NFKD"}, {"type": "StripAccents"})";
  if (config.do_lower_case.value_or(true)) steps += R"(, {"type": "Lowercase"})";
  parts.normalizer =
      normalizer_from_json(parse_json(R"({"type": "Sequence", "normalizers": [)" + steps + "]}", "ALBERT normalizer"));
  auto cls_id = vocab.find(cls), sep_id = vocab.find(sep);
  if (cls_id && sep_id) parts.post_processor = Template::around({*cls_id}, {*sep_id});
  parts.decoder = make_metaspace_decoder(true);
  parts.added_tokens = special_tokens(
      vocab, {config.pad_token.value_or("<pad>"), config.unk_token.value_or("<unk>"), cls, sep, mask}, mask);
  parts.mask_id = vocab.find(mask);
  if (!parts.mask_id && !config.mask_token) parts.mask_id = vocab.find("<mask>");
  parts.model = std::move(model);
  return std::make_unique<PipelineTokenizer>(std::move(parts));
}

}  // namespace nystrom::text
