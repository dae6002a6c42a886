// The C API (include/nystrom/nystrom_c.h): a thin layer over the public C++
// API that turns every exception into a status and a thread-local message.
// Nothing may escape: each entry point runs its body inside guarded().
#include "nystrom/nystrom_c.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "format/config_record.h"
#include "nystrom/nystrom.h"

struct nystrom_model {
  std::shared_ptr<const nystrom::Model> model;
};

struct nystrom_session {
  nystrom_session(std::shared_ptr<const nystrom::Model> m, nystrom::RunOptions o)
      : session(std::move(m), with_progress(std::move(o))) {}
  nystrom::Session session;
  nystrom::Output out;      // the last result
  bool has_result = false;  // false before the first run and after a failed one
  nystrom_progress_fn progress = nullptr;  // nystrom_session_set_progress
  void* progress_user = nullptr;

 private:
  // The session calls back through this object, so the callback can be set
  // and changed after the session is made.
  nystrom::RunOptions with_progress(nystrom::RunOptions o) {
    o.progress = [this](int layer, int layers) { return !progress || progress(progress_user, layer, layers) == 0; };
    return o;
  }
};

namespace {

using nystrom::format::ActivationCode;
using nystrom::format::HeadCode;
static_assert(NYSTROM_ACTIVATION_GELU_TANH == (int)ActivationCode::GeluTanh &&
                  NYSTROM_ACTIVATION_GELU_ERF == (int)ActivationCode::GeluErf &&
                  NYSTROM_ACTIVATION_RELU == (int)ActivationCode::Relu,
              "nystrom_activation mirrors the file's activation codes");
static_assert(NYSTROM_HEAD_NONE == (int)HeadCode::None && NYSTROM_HEAD_MASKED_LM == (int)HeadCode::MaskedLM &&
                  NYSTROM_HEAD_CLASSIFIER == (int)HeadCode::Classifier,
              "nystrom_head_type mirrors the file's head codes");
static_assert(NYSTROM_PROBLEM_SINGLE_LABEL == (int)nystrom::format::ProblemTypeCode::SingleLabel &&
                  NYSTROM_PROBLEM_MULTI_LABEL == (int)nystrom::format::ProblemTypeCode::MultiLabel &&
                  NYSTROM_PROBLEM_REGRESSION == (int)nystrom::format::ProblemTypeCode::Regression,
              "nystrom_problem_type mirrors the file's problem type codes");

// ------------------------------------------------------------- last error

// A fixed buffer, so that recording an error never allocates (and so never
// fails, even when the error is running out of memory).
thread_local char g_error[1024];

nystrom_status set_error(nystrom_status status, const char* message) {
  std::snprintf(g_error, sizeof g_error, "%s", message);
  return status;
}

__attribute__((format(printf, 2, 3))) nystrom_status set_errorf(nystrom_status status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(g_error, sizeof g_error, format, args);
  va_end(args);
  return status;
}

nystrom_status invalid(const char* message) { return set_error(NYSTROM_ERROR_INVALID_ARGUMENT, message); }

// nystrom::Error's codes are the C statuses.
static_assert((int)nystrom::ErrorCode::InvalidArgument == NYSTROM_ERROR_INVALID_ARGUMENT);
static_assert((int)nystrom::ErrorCode::Io == NYSTROM_ERROR_IO);
static_assert((int)nystrom::ErrorCode::Format == NYSTROM_ERROR_FORMAT);
static_assert((int)nystrom::ErrorCode::Input == NYSTROM_ERROR_INPUT);
static_assert((int)nystrom::ErrorCode::OutOfMemory == NYSTROM_ERROR_OUT_OF_MEMORY);
static_assert((int)nystrom::ErrorCode::Cancelled == NYSTROM_ERROR_CANCELLED);
static_assert((int)nystrom::ErrorCode::Internal == NYSTROM_ERROR_INTERNAL);

// Runs body (which returns a status) with the last error cleared; a
// nystrom::Error becomes the status its code names, running out of memory
// OUT_OF_MEMORY and anything else INTERNAL. The message is "" again after a
// success, whatever callbacks in between did to it.
template <typename Body>
nystrom_status guarded(Body&& body) {
  g_error[0] = '\0';
  try {
    nystrom_status s = body();
    if (s == NYSTROM_OK) g_error[0] = '\0';
    return s;
  } catch (const std::bad_alloc&) {
    return set_error(NYSTROM_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const nystrom::Error& e) {
    return set_error(static_cast<nystrom_status>(e.code()), e.what());
  } catch (const std::exception& e) {
    return set_errorf(NYSTROM_ERROR_INTERNAL, "internal error: %s", e.what());
  } catch (...) {
    return set_error(NYSTROM_ERROR_INTERNAL, "internal error: unknown exception");
  }
}

nystrom_status need_result(const nystrom_session* s, const char* fn) {
  if (!s) return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT, "%s: session is NULL", fn);
  if (!s->has_result)
    return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT, "%s: the session has no result (run a sequence first)", fn);
  return NYSTROM_OK;
}

// The model's tokenizer into *out, or the status that says why there is
// none. Building it may throw (guarded() makes that a FORMAT error).
nystrom_status need_tokenizer(const nystrom_model* model, const char* fn, const nystrom::Tokenizer** out) {
  if (!model) return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT, "%s: model is NULL", fn);
  *out = model->model->tokenizer();
  if (!*out)
    return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT,
                      "%s: the model has no tokenizer (convert the checkpoint with its tokenizer files)", fn);
  return NYSTROM_OK;
}

bool same_name(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b) {
    char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
    if (x != *b) return false;
  }
  return *a == *b;
}

}  // namespace

// ------------------------------------------------------------- process-wide

extern "C" const char* nystrom_last_error(void) { return g_error; }

extern "C" const char* nystrom_status_name(int status) {
  switch (status) {
    case NYSTROM_OK: return "NYSTROM_OK";
    case NYSTROM_ERROR_INVALID_ARGUMENT: return "NYSTROM_ERROR_INVALID_ARGUMENT";
    case NYSTROM_ERROR_IO: return "NYSTROM_ERROR_IO";
    case NYSTROM_ERROR_FORMAT: return "NYSTROM_ERROR_FORMAT";
    case NYSTROM_ERROR_INPUT: return "NYSTROM_ERROR_INPUT";
    case NYSTROM_ERROR_OUT_OF_MEMORY: return "NYSTROM_ERROR_OUT_OF_MEMORY";
    case NYSTROM_ERROR_CANCELLED: return "NYSTROM_ERROR_CANCELLED";
    case NYSTROM_ERROR_INTERNAL: return "NYSTROM_ERROR_INTERNAL";
    case NYSTROM_ERROR_BUFFER_TOO_SMALL: return "NYSTROM_ERROR_BUFFER_TOO_SMALL";
  }
  return "unknown";
}

extern "C" nystrom_status nystrom_set_isa_cap(const char* name) {
  return guarded([&] {
    using nystrom::InstructionSet;
    if (!name) return invalid("nystrom_set_isa_cap: name is NULL");
    for (InstructionSet isa : {InstructionSet::Scalar, InstructionSet::Avx2, InstructionSet::Avx512,
                               InstructionSet::Neon, InstructionSet::NeonDot}) {
      if (same_name(name, nystrom::instruction_set_name(isa))) {
        nystrom::set_instruction_set_cap(isa);
        return NYSTROM_OK;
      }
    }
    return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT,
                      "nystrom_set_isa_cap: unknown instruction set '%s' (scalar, avx2, avx512, neon or neon_dot)",
                      name);
  });
}

extern "C" const char* nystrom_isa(void) {
  try {
    return nystrom::instruction_set_name(nystrom::instruction_set());
  } catch (...) {
    return "unknown";
  }
}

// ------------------------------------------------------------------ models

extern "C" nystrom_status nystrom_model_open(const char* path, nystrom_model** model) {
  return nystrom_model_open_with(path, nullptr, model);
}

extern "C" nystrom_status nystrom_model_open_with(const char* path, const nystrom_open_options* options,
                                                  nystrom_model** model) {
  return guarded([&] {
    if (!model) return invalid("nystrom_model_open: model is NULL");
    *model = nullptr;
    if (!path) return invalid("nystrom_model_open: path is NULL");
    nystrom::OpenOptions o;
    if (options) {
      if (options->threads < 0 || options->threads > 1024)
        return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT, "nystrom_model_open: threads must be 0..1024, got %d",
                          (int)options->threads);
      o.threads = options->threads;
      o.verify_checksum = options->skip_checksum == 0;
    }
    // What the reader says is a format error, unless the file cannot be
    // read at all: tell that apart first.
    struct stat st;
    if (::stat(path, &st) != 0 || ::access(path, R_OK) != 0)
      return set_errorf(NYSTROM_ERROR_IO, "%s: cannot open: %s", path, std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return set_errorf(NYSTROM_ERROR_IO, "%s: not a regular file", path);
    auto m = std::make_unique<nystrom_model>();
    m->model = nystrom::Model::open(path, o);
    *model = m.release();
    return NYSTROM_OK;
  });
}

extern "C" void nystrom_model_free(nystrom_model* model) { delete model; }

extern "C" nystrom_status nystrom_model_config(const nystrom_model* model, nystrom_config* config) {
  return guarded([&] {
    if (!model) return invalid("nystrom_model_config: model is NULL");
    if (!config) return invalid("nystrom_model_config: config is NULL");
    // The file header's record, whose codes are the C enums' values.
    const nystrom::format::ConfigRecord rec = nystrom::config_record(model->model->config());
    nystrom_config r;
    std::memset(&r, 0, sizeof r);
    nystrom::copy_config_sizes(rec, r);
    r.activation = (int32_t)rec.activation;
    r.head = (int32_t)rec.head;
    r.num_labels = rec.num_labels;  // labels exist only with a classifier head
    r.problem_type = (int32_t)rec.problem_type;
    *config = r;
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_model_label(const nystrom_model* model, size_t index, const char** label) {
  return guarded([&] {
    if (!label) return invalid("nystrom_model_label: label is NULL");
    *label = nullptr;
    if (!model) return invalid("nystrom_model_label: model is NULL");
    const std::vector<std::string>& labels = model->model->config().labels;
    if (index >= labels.size())
      return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT, "nystrom_model_label: index %zu is out of range (%zu labels)",
                        index, labels.size());
    *label = labels[index].c_str();
    return NYSTROM_OK;
  });
}

// -------------------------------------------------------------- tokenizer

extern "C" nystrom_status nystrom_model_has_tokenizer(const nystrom_model* model, int* has) {
  return guarded([&] {
    if (!has) return invalid("nystrom_model_has_tokenizer: has is NULL");
    *has = 0;
    if (!model) return invalid("nystrom_model_has_tokenizer: model is NULL");
    *has = model->model->has_tokenizer() ? 1 : 0;
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_tokenize(const nystrom_model* model, const char* text, int add_special,
                                           int32_t* ids, size_t capacity, size_t* count) {
  return guarded([&] {
    if (!count) return invalid("nystrom_tokenize: count is NULL");
    *count = 0;
    if (!text) return invalid("nystrom_tokenize: text is NULL");
    if (!ids && capacity > 0) return invalid("nystrom_tokenize: ids is NULL but capacity is not 0");
    const nystrom::Tokenizer* tok = nullptr;
    nystrom_status s = need_tokenizer(model, "nystrom_tokenize", &tok);
    if (s != NYSTROM_OK) return s;
    const std::vector<int32_t> v = tok->encode(text, add_special != 0);
    *count = v.size();
    if (v.size() > capacity)
      return set_errorf(NYSTROM_ERROR_BUFFER_TOO_SMALL, "nystrom_tokenize: %zu ids do not fit in capacity %zu",
                        v.size(), capacity);
    if (!v.empty()) std::memcpy(ids, v.data(), v.size() * sizeof(int32_t));
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_token_string(const nystrom_model* model, int32_t id, char* buf, size_t capacity,
                                               size_t* length) {
  return guarded([&] {
    if (!length) return invalid("nystrom_token_string: length is NULL");
    *length = 0;
    if (!buf && capacity > 0) return invalid("nystrom_token_string: buf is NULL but capacity is not 0");
    const nystrom::Tokenizer* tok = nullptr;
    nystrom_status s = need_tokenizer(model, "nystrom_token_string", &tok);
    if (s != NYSTROM_OK) return s;
    if (id < 0 || id >= tok->vocab_size())
      return set_errorf(NYSTROM_ERROR_INPUT, "nystrom_token_string: id %d is outside the vocabulary (%d ids)",
                        (int)id, (int)tok->vocab_size());
    const std::string t = tok->id_to_token(id);
    *length = t.size();
    if (t.size() >= capacity)
      return set_errorf(NYSTROM_ERROR_BUFFER_TOO_SMALL,
                        "nystrom_token_string: %zu bytes and the NUL do not fit in capacity %zu", t.size(), capacity);
    std::memcpy(buf, t.c_str(), t.size() + 1);
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_decode(const nystrom_model* model, const int32_t* ids, size_t n, int skip_special,
                                         char* buf, size_t capacity, size_t* length) {
  return guarded([&] {
    if (!length) return invalid("nystrom_decode: length is NULL");
    *length = 0;
    if (!ids && n > 0) return invalid("nystrom_decode: ids is NULL");
    if (!buf && capacity > 0) return invalid("nystrom_decode: buf is NULL but capacity is not 0");
    const nystrom::Tokenizer* tok = nullptr;
    nystrom_status s = need_tokenizer(model, "nystrom_decode", &tok);
    if (s != NYSTROM_OK) return s;
    const std::string t = tok->decode(std::vector<int32_t>(ids, ids + n), skip_special != 0);
    *length = t.size();
    if (t.size() >= capacity)
      return set_errorf(NYSTROM_ERROR_BUFFER_TOO_SMALL,
                        "nystrom_decode: %zu bytes and the NUL do not fit in capacity %zu", t.size(), capacity);
    std::memcpy(buf, t.c_str(), t.size() + 1);
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_tokenizer_vocab_size(const nystrom_model* model, int32_t* size) {
  return guarded([&] {
    if (!size) return invalid("nystrom_tokenizer_vocab_size: size is NULL");
    *size = 0;
    const nystrom::Tokenizer* tok = nullptr;
    nystrom_status s = need_tokenizer(model, "nystrom_tokenizer_vocab_size", &tok);
    if (s != NYSTROM_OK) return s;
    *size = tok->vocab_size();
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_tokenizer_mask_id(const nystrom_model* model, int32_t* id) {
  return guarded([&] {
    if (!id) return invalid("nystrom_tokenizer_mask_id: id is NULL");
    *id = -1;
    const nystrom::Tokenizer* tok = nullptr;
    nystrom_status s = need_tokenizer(model, "nystrom_tokenizer_mask_id", &tok);
    if (s != NYSTROM_OK) return s;
    *id = tok->mask_id().value_or(-1);
    return NYSTROM_OK;
  });
}

// ---------------------------------------------------------------- sessions

extern "C" nystrom_status nystrom_session_create(const nystrom_model* model, const nystrom_session_options* options,
                                                 nystrom_session** session) {
  return guarded([&] {
    if (!session) return invalid("nystrom_session_create: session is NULL");
    *session = nullptr;
    if (!model) return invalid("nystrom_session_create: model is NULL");
    nystrom::RunOptions o;
    if (options) {
      switch (options->attention) {
        case NYSTROM_ATTENTION_AUTO: o.attention = nystrom::AttentionMode::Auto; break;
        case NYSTROM_ATTENTION_NYSTROM: o.attention = nystrom::AttentionMode::Nystrom; break;
        case NYSTROM_ATTENTION_EXACT: o.attention = nystrom::AttentionMode::Exact; break;
        default:
          return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT,
                            "nystrom_session_create: attention must be 0 (auto), 1 (nystrom) or 2 (exact), got %d",
                            (int)options->attention);
      }
      if (options->landmarks > (uint32_t)INT_MAX)
        return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT, "nystrom_session_create: landmarks %u is too large",
                          (unsigned)options->landmarks);
      switch (options->attention_precision) {
        case NYSTROM_PRECISION_F32: o.attention_precision = nystrom::AttentionPrecision::F32; break;
        case NYSTROM_PRECISION_INT8: o.attention_precision = nystrom::AttentionPrecision::Int8; break;
        case NYSTROM_PRECISION_BF16: o.attention_precision = nystrom::AttentionPrecision::BF16; break;
        default:
          return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT,
                            "nystrom_session_create: attention_precision must be 0 (f32), 1 (int8) or 2 (bf16), got %d",
                            (int)options->attention_precision);
      }
      o.landmarks = options->landmarks;
      o.threads = options->threads;
      switch (options->outputs) {
        case NYSTROM_OUTPUTS_ALL: break;
        case NYSTROM_OUTPUTS_HIDDEN_ONLY: o.outputs.logits = false; break;
        default:
          return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT,
                            "nystrom_session_create: outputs must be 0 (all) or 1 (hidden state only), got %d",
                            (int)options->outputs);
      }
    }
    *session = new nystrom_session(model->model, o);
    return NYSTROM_OK;
  });
}

extern "C" void nystrom_session_free(nystrom_session* session) { delete session; }

extern "C" nystrom_status nystrom_session_run(nystrom_session* session, const int32_t* ids, size_t n) {
  return guarded([&] {
    if (!session) return invalid("nystrom_session_run: session is NULL");
    session->has_result = false;
    if (!ids && n > 0) return invalid("nystrom_session_run: ids is NULL");
    session->session.run(ids, n, session->out);
    session->has_result = true;
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_session_run_positions(nystrom_session* session, const int32_t* ids, size_t n,
                                                        const size_t* positions, size_t count) {
  return guarded([&] {
    if (!session) return invalid("nystrom_session_run_positions: session is NULL");
    session->has_result = false;
    if (!ids && n > 0) return invalid("nystrom_session_run_positions: ids is NULL");
    if (!positions && count > 0) return invalid("nystrom_session_run_positions: positions is NULL");
    nystrom::OutputSelection chosen;
    chosen.positions.assign(positions, positions + count);
    // count 0 would mean every position to the C++ API: here it means none.
    chosen.logits = count > 0;
    session->session.run(ids, n, chosen, session->out);
    session->has_result = true;
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_session_set_progress(nystrom_session* session, nystrom_progress_fn callback,
                                                       void* user) {
  return guarded([&] {
    if (!session) return invalid("nystrom_session_set_progress: session is NULL");
    session->progress = callback;
    session->progress_user = user;
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_session_hidden(const nystrom_session* session, const float** data, size_t* n,
                                                 size_t* hidden) {
  return guarded([&] {
    if (data) *data = nullptr;
    if (n) *n = 0;
    if (hidden) *hidden = 0;
    if (!data || !n || !hidden) return invalid("nystrom_session_hidden: data, n and hidden must not be NULL");
    nystrom_status s = need_result(session, "nystrom_session_hidden");
    if (s != NYSTROM_OK) return s;
    *data = session->out.last_hidden_state.data();
    *n = session->out.n;
    *hidden = session->out.hidden;
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_session_logits(const nystrom_session* session, const float** data, size_t* count) {
  return guarded([&] {
    if (data) *data = nullptr;
    if (count) *count = 0;
    if (!data || !count) return invalid("nystrom_session_logits: data and count must not be NULL");
    nystrom_status s = need_result(session, "nystrom_session_logits");
    if (s != NYSTROM_OK) return s;
    const std::vector<float>& logits = session->out.logits;
    *data = logits.empty() ? nullptr : logits.data();
    *count = logits.size();
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_session_pooled(const nystrom_session* session, int pooling, float* out,
                                                 size_t out_len) {
  return guarded([&] {
    nystrom::Pooling how;
    switch (pooling) {
      case NYSTROM_POOLING_FIRST: how = nystrom::Pooling::First; break;
      case NYSTROM_POOLING_MEAN: how = nystrom::Pooling::Mean; break;
      default:
        return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT,
                          "nystrom_session_pooled: pooling must be 0 (first) or 1 (mean), got %d", pooling);
    }
    if (!out) return invalid("nystrom_session_pooled: out is NULL");
    nystrom_status s = need_result(session, "nystrom_session_pooled");
    if (s != NYSTROM_OK) return s;
    if (out_len < session->out.hidden)
      return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT,
                        "nystrom_session_pooled: out_len %zu is less than the hidden size %zu", out_len,
                        session->out.hidden);
    std::vector<float> v = nystrom::pool_embedding(session->out, how);
    std::memcpy(out, v.data(), v.size() * sizeof(float));
    return NYSTROM_OK;
  });
}

extern "C" nystrom_status nystrom_session_run_batch(nystrom_session* session, const int32_t* const* ids,
                                                    const size_t* lengths, size_t count, nystrom_batch_fn callback,
                                                    void* user) {
  return guarded([&] {
    if (!session) return invalid("nystrom_session_run_batch: session is NULL");
    session->has_result = false;
    if (!callback) return invalid("nystrom_session_run_batch: callback is NULL");
    if (count > 0 && (!ids || !lengths))
      return invalid("nystrom_session_run_batch: ids and lengths must not be NULL when count > 0");
    // Short sequences run as groups through Session::run_batch (shared
    // passes, the same results); a group that fails runs again one by one,
    // so the callbacks before the failing sequence are made as documented.
    constexpr size_t kGroupTokens = 1024;
    std::vector<nystrom::Output> group;  // outputs of [group_begin, group_end), or empty: one by one
    size_t group_begin = 0, group_end = 0;
    for (size_t i = 0; i < count; ++i) {
      session->has_result = false;
      if (!ids[i] && lengths[i] > 0)
        return set_errorf(NYSTROM_ERROR_INVALID_ARGUMENT, "nystrom_session_run_batch: ids[%zu] is NULL", i);
      if (i >= group_end) {
        group.clear();
        group_begin = group_end = i;
        std::vector<std::vector<int32_t>> seqs;
        for (size_t tokens = 0; group_end < count && ids[group_end] && tokens + lengths[group_end] <= kGroupTokens;
             ++group_end) {
          seqs.emplace_back(ids[group_end], ids[group_end] + lengths[group_end]);
          tokens += lengths[group_end];
        }
        if (seqs.size() > 1) {
          try {
            group = session->session.run_batch(seqs);
          } catch (const nystrom::Error&) {
            group.clear();
          }
        }
      }
      try {
        if (!group.empty()) session->out = std::move(group[i - group_begin]);
        else session->session.run(ids[i], lengths[i], session->out);
      } catch (const nystrom::Error& e) {
        return set_errorf(static_cast<nystrom_status>(e.code()), "batch sequence %zu: %s", i, e.what());
      }
      session->has_result = true;
      if (callback(user, i, session) != 0) {
        session->has_result = false;
        return set_errorf(NYSTROM_ERROR_CANCELLED, "nystrom_session_run_batch: the callback stopped the batch at "
                          "sequence %zu", i);
      }
    }
    return NYSTROM_OK;
  });
}
