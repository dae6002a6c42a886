// Model::open and Session::run: validate the input, plan buffers
// (model/plan.cpp), run the layers, copy out the results.
#include <algorithm>
#include <atomic>

#include "model/forward.h"
#include "model/model_impl.h"
#include "runtime/error.h"
#include "runtime/finite.h"
#include "runtime/thread_pool.h"

namespace nystrom {

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::open(const std::string& path, const OpenOptions& options) {
  return guarded("opening " + path,
                 [&] { return std::shared_ptr<const Model>(new Model(std::make_unique<Impl>(path, options))); });
}

const ModelConfig& Model::config() const { return impl_->file.config(); }

std::vector<Model::TensorInfo> Model::tensors() const {
  std::vector<TensorInfo> out;
  for (const TensorView& t : impl_->file.tensors()) out.push_back({t.name, format::dtype_name(t.dtype), t.shape, t.size});
  return out;
}

uint32_t Model::file_version() const { return impl_->file.version(); }

struct Session::State {
  explicit State(int threads) : pool(shared_thread_pool(threads)) {}
  std::shared_ptr<ThreadPool> pool;  // shared with the process's other sessions of this size
  Workspace ws;
  LayerProfile profile;  // filled while ws.profile points at it
  std::vector<SequenceSpan> one_span;  // run()'s one sequence (kept: no allocation per run)
};

Session::Session(std::shared_ptr<const Model> model, RunOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  if (!model_) throw Error("Session: no model", ErrorCode::InvalidArgument);
  options_.threads = resolve_thread_count(options_.threads, "Session");
  if (options_.landmarks > kMaxLandmarks)
    fail_as(ErrorCode::InvalidArgument, "Session: landmarks must be at most ", kMaxLandmarks, ", got ",
            options_.landmarks);
  state_ = guarded("starting a session", [&] { return std::make_unique<State>(options_.threads); });
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

Output Session::run(const std::vector<int32_t>& ids) { return run(ids, options_.outputs); }

Output Session::run(const std::vector<int32_t>& ids, const OutputSelection& outputs) {
  return guarded("running the model", [&] {
    Output out;
    run(ids.data(), ids.size(), outputs, out);
    return out;
  });
}

void Session::run(const int32_t* ids, size_t n, Output& out) { run(ids, n, options_.outputs, out); }

namespace {

// Which sequences share a pass, and where each one's error is reported.
// Views of the caller's arrays, so that a run() builds no vector.
struct Pass {
  const int32_t* const* ids;            // one per ws.seqs entry
  const size_t* batch_index = nullptr;  // its index in run_batch's batch; null for run()
  Error named(size_t seq, const Error& e) const {
    if (!batch_index) return e;
    return Error("batch sequence " + std::to_string(batch_index[seq]) + ": " + e.what(), e.code());
  }
};

// Throws Error (Input) for ids this model cannot run with these outputs.
void check_input(const ModelConfig& c, const int32_t* ids, size_t n, const OutputSelection& outputs) {
  if (n == 0) throw Error("input is empty", ErrorCode::Input);
  if (!ids) throw Error("input ids are null", ErrorCode::InvalidArgument);
  if (n > c.max_positions)
    fail_as(ErrorCode::Input, "input has ", n, " tokens but the model accepts at most ", c.max_positions);
  for (size_t t = 0; t < n; ++t)
    if (ids[t] < 0 || (uint32_t)ids[t] >= c.vocab_size)
      fail_as(ErrorCode::Input, "token id ", ids[t], " at position ", t, " is outside the vocabulary (0..",
              c.vocab_size - 1, ")");
  if (outputs.logits && c.head == HeadType::MaskedLM)
    for (size_t p : outputs.positions)
      if (p >= n) fail_as(ErrorCode::Input, "logits asked for position ", p, " of an input of ", n, " tokens");
}

// A non-finite value is caught where it first appears; the layers after it
// would only spread it (LayerNorm of a row holding infinity is all NaN).
bool all_finite_rows(ThreadPool* pool, const float* x, size_t count) {
  std::atomic<bool> bad{false};
  pool->parallel_for(count, [&](size_t begin, size_t end, int) {
    if (!all_finite(x + begin, end - begin)) bad.store(true, std::memory_order_relaxed);
  }, size_t(1) << 16);
  return !bad.load();
}

[[noreturn]] void fail_not_finite(const std::string& what) {
  fail(what, " output holds NaN or infinity (weights too large for float32, or a damaged file read without "
             "its checksum?)");
}

void check_finite(ThreadPool* pool, const float* x, size_t count, const char* what) {
  if (!all_finite_rows(pool, x, count)) fail_not_finite(what);
}

// The hidden state of every sequence of the pass, checked as a whole and,
// when it fails, sequence by sequence to name the first bad one. The
// message names `what`, then `layer` if it is not negative (built only on
// failure: a warm run allocates nothing).
void check_hidden(ThreadPool* pool, const Workspace& ws, size_t D, const Pass& pass, const char* what,
                  int layer = -1) {
  if (all_finite_rows(pool, ws.x.data(), ws.rows * D)) return;
  for (size_t i = 0; i < ws.seqs.size(); ++i)
    if (!all_finite(ws.x.data() + ws.seqs[i].row * D, ws.seqs[i].n * D)) {
      try {
        fail_not_finite(layer < 0 ? std::string(what) : what + (" " + std::to_string(layer)));
      } catch (const Error& e) {
        throw pass.named(i, e);
      }
    }
}

// Embeddings and encoder layers of every sequence in ws.seqs: the hidden
// states end in ws.x.
void encode(ThreadPool* pool, const Model::Impl& model, const RunOptions& options, Workspace& ws, const Pass& pass) {
  const ModelConfig& c = model.file.config();
  const size_t D = c.hidden_size;
  for (size_t i = 0; i < ws.seqs.size(); ++i)
    embed(pool, c, model.weights, pass.ids[i], ws.seqs[i].n, ws.x.data() + ws.seqs[i].row * D, ws.embed_rows);
  check_hidden(pool, ws, D, pass, "the embeddings'");
  // A long pass has read many rows of the tables: their pages go back
  // rather than stay through the layers (the rest of the pass reads none).
  if (ws.rows >= kReleaseTablesRows)
    for (const TensorView& t : model.weights.tables) model.file.release(t);
  const int layers = (int)model.weights.layers.size();
  for (int l = 0; l < layers; ++l) {
    encoder_layer(pool, c, model.weights.layers[l], ws);
    check_hidden(pool, ws, D, pass, "encoder layer", l);
    if (options.progress && !options.progress(l + 1, layers))
      fail_as(ErrorCode::Cancelled, "the run was cancelled after layer ", l + 1, " of ", layers);
  }
}

// Everything of out but last_hidden_state, for the sequence seq.
void run_head(ThreadPool* pool, const Model::Impl& model, Workspace& ws, const SequenceSpan& seq,
              const OutputSelection& outputs, Output& out) {
  const ModelConfig& c = model.file.config();
  const size_t n = (size_t)seq.n;
  const float* x = ws.x.data() + seq.row * c.hidden_size;
  out.n = n;
  out.hidden = c.hidden_size;
  out.exact_attention = seq.plan.exact;
  out.landmarks = seq.plan.exact ? 0 : (uint32_t)seq.plan.landmarks;
  out.logits_shape.clear();
  out.logits.clear();
  out.logit_positions.clear();
  if (!outputs.logits) return;
  switch (c.head) {
    case HeadType::None:
      break;
    case HeadType::MaskedLM:
      if (outputs.positions.empty()) {
        out.logit_positions.resize(n);
        for (size_t t = 0; t < n; ++t) out.logit_positions[t] = t;
      } else {
        out.logit_positions = outputs.positions;
      }
      out.logits_shape = {out.logit_positions.size(), c.vocab_size};
      out.logits.resize(out.logit_positions.size() * c.vocab_size);
      masked_lm_head(pool, c, model.weights, ws, x, (int)n, outputs.positions, out.logits.data());
      check_finite(pool, out.logits.data(), out.logits.size(), "the masked-LM head's");
      break;
    case HeadType::Classifier:
      out.logits_shape = {c.labels.size()};
      out.logits.resize(c.labels.size());
      classifier_head(pool, c, model.weights, ws, x, out.logits.data());
      check_finite(pool, out.logits.data(), out.logits.size(), "the classifier head's");
      break;
  }
}

}  // namespace

void Session::run(const int32_t* ids, size_t n, const OutputSelection& outputs, Output& out) {
  guarded("running the model", [&] {
    if (!model_ || !state_) throw Error("Session: this session was moved from", ErrorCode::InvalidArgument);
    const Model::Impl& model = *model_->impl_;
    const ModelConfig& c = model.file.config();
    check_input(c, ids, n, outputs);
    Workspace& ws = state_->ws;
    ThreadPool* pool = state_->pool.get();
    // A vector kept in the session (assigning one element to it keeps its
    // capacity): a warm run with a reused Output allocates nothing.
    state_->one_span.assign(1, SequenceSpan{0, (int)n, plan_attention(c, options_, (int)n)});
    ws.plan_for(c, state_->one_span, pool->size());
    const int32_t* const one_ids[1] = {ids};
    encode(pool, model, options_, ws, Pass{one_ids});
    run_head(pool, model, ws, ws.seqs[0], outputs, out);
    // The hidden state is handed over, not copied: at 64k tokens a copy is
    // 200 MB more at the peak. The workspace sizes the output's old buffer
    // again on the next run (Workspace::plan_for).
    out.last_hidden_state.swap(ws.x);
  });
}

// Consecutive sequences share a pass while their rows fit kBatchRows; each
// row is computed as a run of its sequence alone would compute it.
std::vector<Output> Session::run_batch(const std::vector<std::vector<int32_t>>& batch) {
  return guarded("running a batch", [&] {
    if (!model_ || !state_) throw Error("Session: this session was moved from", ErrorCode::InvalidArgument);
    if (batch.empty()) throw Error("the batch holds no sequences", ErrorCode::Input);
    const Model::Impl& model = *model_->impl_;
    const ModelConfig& c = model.file.config();
    const OutputSelection& outputs = options_.outputs;
    for (size_t i = 0; i < batch.size(); ++i) {
      try {
        check_input(c, batch[i].data(), batch[i].size(), outputs);
      } catch (const Error& e) {
        fail_as(e.code(), "batch sequence ", i, ": ", e.what());
      }
    }
    std::vector<Output> outs(batch.size());
    Workspace& ws = state_->ws;
    ThreadPool* pool = state_->pool.get();
    const size_t D = c.hidden_size;
    for (size_t first = 0; first < batch.size();) {
      std::vector<SequenceSpan> spans;
      std::vector<const int32_t*> ids;
      std::vector<size_t> batch_index;
      size_t rows = 0, end = first;
      do {
        const int n = (int)batch[end].size();
        spans.push_back(SequenceSpan{rows, n, plan_attention(c, options_, n)});
        ids.push_back(batch[end].data());
        batch_index.push_back(end);
        rows += (size_t)n;
        ++end;
      } while (end < batch.size() && rows + batch[end].size() <= kBatchRows);
      const Pass pass{ids.data(), batch_index.data()};
      ws.plan_for(c, spans, pool->size());
      encode(pool, model, options_, ws, pass);
      for (size_t i = 0; i < spans.size(); ++i) {
        Output& out = outs[first + i];
        try {
          run_head(pool, model, ws, spans[i], outputs, out);
        } catch (const Error& e) {
          throw pass.named(i, e);
        }
        const float* x = ws.x.data() + spans[i].row * D;
        out.last_hidden_state.assign(x, x + spans[i].n * D);
      }
      first = end;
    }
    return outs;
  });
}

}  // namespace nystrom

namespace nystrom {

void Session::set_profiling(bool on) {
  if (!state_) throw Error("Session: this session was moved from", ErrorCode::InvalidArgument);
  if (on) state_->profile = LayerProfile{};
  state_->ws.profile = on ? &state_->profile : nullptr;
}

const LayerProfile& Session::profile() const {
  if (!state_) throw Error("Session: this session was moved from", ErrorCode::InvalidArgument);
  return state_->profile;
}

}  // namespace nystrom

// ------------------------------------------------------ batches and pooling

namespace nystrom {

static std::vector<float> pool_rows(const Output& out, Pooling how) {
  if (out.n == 0 || out.hidden == 0 || out.last_hidden_state.size() != out.n * out.hidden)
    fail_as(ErrorCode::InvalidArgument, "pool_embedding: the output holds no hidden state");
  const float* x = out.last_hidden_state.data();
  std::vector<float> v(x, x + out.hidden);  // row 0
  if (how == Pooling::Mean) {
    std::vector<double> sum(out.hidden, 0.0);
    for (size_t r = 0; r < out.n; ++r)
      for (size_t j = 0; j < out.hidden; ++j) sum[j] += x[r * out.hidden + j];
    for (size_t j = 0; j < out.hidden; ++j) v[j] = (float)(sum[j] / (double)out.n);
  }
  return v;
}

std::vector<float> pool_embedding(const Output& out, Pooling how) {
  return guarded("pooling an embedding", [&] { return pool_rows(out, how); });
}


}  // namespace nystrom
