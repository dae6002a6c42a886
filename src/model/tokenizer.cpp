// nystrom::Tokenizer, the public face of the text::Tokenizer built from a
// model file's tokenizer section, and Model::tokenizer(), which builds it.
#include <mutex>

#include "model/model_impl.h"
#include "runtime/error.h"
#include "text/tokenizer.h"

namespace nystrom {

struct Tokenizer::Impl {
  std::unique_ptr<text::Tokenizer> tok;
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

// The calls that allocate are guarded: an exception leaving them is an Error.
std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special) const {
  return guarded("tokenizing", [&] { return impl_->tok->encode(text, add_special); });
}
std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, size_t max_text_ids) const {
  return guarded("tokenizing", [&] { return impl_->tok->encode(text, add_special, max_text_ids); });
}
// An id the vocabulary lacks is the caller's input (Input), not a bad file.
static bool in_vocabulary(const text::Tokenizer& tok, int32_t id) { return id >= 0 && id < tok.vocab_size(); }

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  return guarded("decoding", [&] {
    for (size_t i = 0; i < ids.size(); ++i)
      if (!in_vocabulary(*impl_->tok, ids[i]))
        fail_as(ErrorCode::Input, "token id ", ids[i], " at position ", i,
                " is outside the tokenizer's vocabulary (0..", impl_->tok->vocab_size() - 1, ")");
    return impl_->tok->decode(ids, skip_special);
  });
}
std::string Tokenizer::id_to_token(int32_t id) const {
  return guarded("looking up a token", [&] {
    if (!in_vocabulary(*impl_->tok, id))
      fail_as(ErrorCode::Input, "token id ", id, " is outside the tokenizer's vocabulary (0..",
              impl_->tok->vocab_size() - 1, ")");
    return impl_->tok->id_to_token(id);
  });
}
std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  return guarded("looking up a token", [&] { return impl_->tok->token_to_id(token); });
}
std::optional<int32_t> Tokenizer::mask_id() const { return impl_->tok->mask_id(); }
std::optional<int32_t> Tokenizer::unk_id() const { return impl_->tok->unknown_id(); }
int32_t Tokenizer::vocab_size() const { return impl_->tok->vocab_size(); }
int Tokenizer::num_special_tokens() const { return impl_->tok->num_special_tokens(); }
const char* Tokenizer::kind() const { return impl_->tok->kind(); }

bool Model::has_tokenizer() const { return !impl_->file.tokenizer_files().empty(); }

const Tokenizer* Model::tokenizer() const {
  const ModelFile& file = impl_->file;
  if (file.tokenizer_files().empty()) return nullptr;
  // A mutex, not std::call_once: a build that throws must leave nothing
  // behind so every call reports the same error, and call_once over a
  // throwing function hangs the next caller with some pthread_once
  // implementations (ThreadSanitizer's among them; GCC bug 66146).
  std::lock_guard<std::mutex> lock(impl_->tokenizer_mutex);
  if (!impl_->tokenizer) guarded("building the tokenizer of " + file.path(), [&] {
    std::vector<text::TokenizerFile> files;
    for (const TokenizerFileView& f : file.tokenizer_files()) files.push_back({f.name, std::string(f.bytes)});
    std::unique_ptr<text::Tokenizer> tok;
    try {
      tok = text::load_tokenizer(files);
    } catch (const Error& e) {
      fail(file.path(), ": tokenizer section: ", e.what());
    }
    if (!tok) fail(file.path(), ": tokenizer section holds no tokenizer model file");
    if (tok->vocab_size() <= 0 || (uint32_t)tok->vocab_size() > config().vocab_size)
      fail(file.path(), ": the tokenizer has ", tok->vocab_size(), " ids but the model's vocabulary only ",
           config().vocab_size);
    auto impl = std::make_unique<Tokenizer::Impl>();
    impl->tok = std::move(tok);
    impl_->tokenizer.reset(new Tokenizer(std::move(impl)));
  });
  return impl_->tokenizer.get();
}

}  // namespace nystrom
