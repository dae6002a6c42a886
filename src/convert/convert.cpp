// convert_checkpoint (include/nystrom/convert.h): the steps of nystrom-convert
// (read and check the checkpoint, build and check its tokenizer, store the
// weight matrices in the chosen type, write the file) with progress reports
// between them and a summary of what was written.
#include "nystrom/convert.h"

#include <map>

#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "runtime/error.h"

namespace nystrom {

namespace {

using Step = ConvertProgress::Step;

// The caller's callback, or nothing.
struct Reporter {
  const std::function<void(const ConvertProgress&)>& callback;
  void operator()(Step step, size_t done, size_t total) const {
    if (callback) callback(ConvertProgress{step, done, total});
  }
  // A step without units: 0 of 1 before it, 1 of 1 after.
  template <typename Fn>
  void step(Step step, Fn&& fn) const {
    (*this)(step, 0, 1);
    fn();
    (*this)(step, 1, 1);
  }
};

}  // namespace

ConvertResult convert_checkpoint(const std::string& folder, const std::string& out_path,
                                 const ConvertOptions& options) {
  const Reporter report{options.progress};
  ConvertResult result;
  Checkpoint ck;
  report.step(Step::ReadCheckpoint, [&] { ck = read_hf_checkpoint(folder); });
  CheckpointTokenizer tok;
  if (options.tokenizer) report.step(Step::ReadTokenizer, [&] { tok = read_hf_tokenizer(folder, ck.config); });
  set_weight_type(ck, options.weight_type, &result.kept_f32,
                  [&](size_t done, size_t total) { report(Step::StoreWeights, done, total); },
                  options.pure ? TypeRule::Pure : TypeRule::EmbeddingsAndHead);
  report.step(Step::WriteFile,
              [&] { result.file_bytes = write_model_file(out_path, ck.config, ck.tensors, tok.views()); });

  result.config = ck.config;
  result.tensor_count = ck.tensors.size();
  std::map<std::string, ConvertResult::TypeCount> by_type;
  for (const TensorData& t : ck.tensors) {
    ConvertResult::TypeCount& c = by_type[format::dtype_name(t.dtype)];
    c.type = format::dtype_name(t.dtype);
    c.tensors += 1;
    c.bytes += t.bytes.size();
  }
  for (const auto& entry : by_type) result.by_type.push_back(entry.second);
  result.ignored_tokenizer_files = tok.ignored;
  if (tok.tokenizer) {
    const text::Tokenizer& t = *tok.tokenizer;
    result.tokenizer_kind = t.kind();
    result.tokenizer_vocab_size = t.vocab_size();
    if (t.mask_id()) result.mask_token = t.id_to_token(*t.mask_id());
    for (const text::TokenizerFile& f : tok.files) {
      result.tokenizer_files.push_back(f.name);
      result.tokenizer_bytes += f.bytes.size();
    }
  }
  return result;
}

}  // namespace nystrom
