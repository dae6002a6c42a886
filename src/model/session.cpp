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

// A non-finite value is caught where it first appears; the layers after it
// would only spread it (LayerNorm of a row holding infinity is all NaN).
static void check_finite(ThreadPool* pool, const float* x, size_t count, const std::string& what) {
  std::atomic<bool> bad{false};
  pool->parallel_for(count, [&](size_t begin, size_t end, int) {
    if (!all_finite(x + begin, end - begin)) bad.store(true, std::memory_order_relaxed);
  }, size_t(1) << 16);
  if (bad.load())
    fail(what, " output holds NaN or infinity (weights too large for float32, or a damaged file read without "
               "its checksum?)");
}

void Session::run(const int32_t* ids, size_t n, const OutputSelection& outputs, Output& out) {
  guarded("running the model", [&] {
    if (!model_ || !state_) throw Error("Session: this session was moved from", ErrorCode::InvalidArgument);
    const Model::Impl& model = *model_->impl_;
    const ModelConfig& c = model.file.config();
    if (n == 0) throw Error("input is empty", ErrorCode::Input);
    if (!ids) throw Error("input ids are null", ErrorCode::InvalidArgument);
    if (n > c.max_positions)
      fail_as(ErrorCode::Input, "input has ", n, " tokens but the model accepts at most ", c.max_positions);
    for (size_t t = 0; t < n; ++t)
      if (ids[t] < 0 || (uint32_t)ids[t] >= c.vocab_size)
        fail_as(ErrorCode::Input, "token id ", ids[t], " at position ", t, " is outside the vocabulary (0..",
                c.vocab_size - 1, ")");
    const bool logits = outputs.logits && c.head != HeadType::None;
    if (logits && c.head == HeadType::MaskedLM)
      for (size_t p : outputs.positions)
        if (p >= n) fail_as(ErrorCode::Input, "logits asked for position ", p, " of an input of ", n, " tokens");

    Workspace& ws = state_->ws;
    ThreadPool* pool = state_->pool.get();
    ws.plan_for(c, plan_attention(c, options_, (int)n), (int)n, pool->size());

    const size_t rows = n * c.hidden_size;
    embed(pool, c, model.weights, ids, (int)n, ws.x.data());
    check_finite(pool, ws.x.data(), rows, "the embeddings'");
    const int layers = (int)model.weights.layers.size();
    for (int l = 0; l < layers; ++l) {
      encoder_layer(pool, c, model.weights.layers[l], ws);
      check_finite(pool, ws.x.data(), rows, "encoder layer " + std::to_string(l));
      if (options_.progress && !options_.progress(l + 1, layers))
        fail_as(ErrorCode::Cancelled, "the run was cancelled after layer ", l + 1, " of ", layers);
    }

    out.n = n;
    out.hidden = c.hidden_size;
    out.exact_attention = ws.plan.exact;
    out.landmarks = ws.plan.exact ? 0 : (uint32_t)ws.plan.landmarks;
    out.last_hidden_state.assign(ws.x.begin(), ws.x.begin() + n * c.hidden_size);
    out.logits_shape.clear();
    out.logits.clear();
    out.logit_positions.clear();
    if (!logits) return;
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
        masked_lm_head(pool, c, model.weights, ws, outputs.positions, out.logits.data());
        check_finite(pool, out.logits.data(), out.logits.size(), "the masked-LM head's");
        break;
      case HeadType::Classifier:
        out.logits_shape = {c.labels.size()};
        out.logits.resize(c.labels.size());
        classifier_head(pool, c, model.weights, ws.x.data(), out.logits.data());
        check_finite(pool, out.logits.data(), out.logits.size(), "the classifier head's");
        break;
    }
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

std::vector<Output> Session::run_batch(const std::vector<std::vector<int32_t>>& batch) {
  std::vector<Output> outs = guarded("running a batch", [&] { return std::vector<Output>(batch.size()); });
  for (size_t i = 0; i < batch.size(); ++i) {
    try {
      run(batch[i].data(), batch[i].size(), outs[i]);
    } catch (const Error& e) {
      fail_as(e.code(), "batch sequence ", i, ": ", e.what());
    }
  }
  return outs;
}

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
