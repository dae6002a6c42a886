// A warm run allocates nothing: once a Session has run an input length and
// the caller reuses its Output, Session::run(ids, n, out) calls no operator
// new (the promise to embedded and real-time callers: no allocator jitter
// and no out-of-memory in the steady state). Buffers are planned when the
// length changes, and only then. (The kernels' per-thread packing buffers,
// AlignedBuffer over aligned_alloc, grow to the largest product a thread
// has packed; nystrom.h says so. They are not counted here.)
//
// This file replaces the global operator new and delete of the test binary
// (counting while a run is watched). The sanitizers bring their own
// operators, which detect mismatched new/delete, so under them this file
// defines none and its case is skipped.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "convert/hf_checkpoint.h"
#include "nystrom/io.h"
#include "nystrom/nystrom.h"
#include "support.h"

namespace {

std::atomic<bool> g_watching{false};
std::atomic<long> g_allocations{0};
float* volatile g_sink = nullptr;

// Counts the operator new calls of every thread while it lives.
class AllocationWatch {
 public:
  AllocationWatch() {
    g_allocations = 0;
    g_watching = true;
  }
  ~AllocationWatch() { g_watching = false; }
  long count() const { return g_allocations.load(); }
};

}  // namespace

#if !NYSTROM_TEST_SANITIZED
namespace {

void* allocate(std::size_t size, std::size_t align) {
  if (g_watching.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(size)
                                               : std::aligned_alloc(align, (size + align - 1) / align * align);
  return p;
}

// Out of line: inlined into a std::vector's destructor in this file, the
// free() of a pointer from operator new drew GCC's mismatched-new-delete
// warning, which does not apply to a replacement of both.
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }

}  // namespace

void* operator new(std::size_t size) {
  if (void* p = allocate(size, 0)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = allocate(size, 0)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = allocate(size, (std::size_t)align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = allocate(size, (std::size_t)align)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size, 0); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size, 0); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate(size, (std::size_t)align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate(size, (std::size_t)align);
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
#endif

TEST_CASE("a warm Session::run into a reused Output makes no heap allocation, for every weight type, head, "
          "attention kind and thread count") {
  if (test::under_sanitizer()) return;  // see the top of the file
  // The watch sees allocations (the vector's buffer escapes, so the
  // compiler may not elide it).
  {
    AllocationWatch watch;
    std::vector<float> v(1000);
    g_sink = v.data();
    REQUIRE(watch.count() == 1);
  }
  test::TempDir tmp;
  using nystrom::format::DType;
  // tiny-mlm: masked-LM logits at every position, m = 8; small-cls: a
  // classifier, m = 16. The lengths run Nystrom attention unless forced.
  const struct {
    const char* name;
    int n;
  } cases[] = {{"tiny-mlm", 37}, {"small-cls", 100}};
  for (const auto& c : cases) {
    const std::string dir = test::testdata_dir() + "/" + c.name;
    for (DType type : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q8_C}) {
      nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(dir);
      nystrom::set_weight_type(ck, type, nullptr);
      const std::string path = tmp / (std::string(c.name) + "-" + nystrom::format::dtype_name(type) + ".nyf");
      nystrom::write_model_file(path, ck.config, ck.tensors);
      const std::shared_ptr<const nystrom::Model> model = nystrom::Model::open(path);
      const std::vector<int32_t> ids = test::random_ids(c.n, model->config().vocab_size, 5);
      for (nystrom::AttentionMode mode : {nystrom::AttentionMode::Auto, nystrom::AttentionMode::Exact})
        for (int threads : {1, 2}) {
         for (auto precision : {nystrom::AttentionPrecision::F32, nystrom::AttentionPrecision::BF16}) {
          if (precision == nystrom::AttentionPrecision::BF16 && (mode == nystrom::AttentionMode::Exact ||
                                                                 type != DType::Q8_0 || test::under_emulator()))
            continue;  // bf16 scratch: once per model, on the Nystrom runs
          // Emulated, 2 threads alone: one thread takes the same kernels
          // and buffers, and the native suite runs both (22 -> ~11 s).
          if (threads == 1 && test::under_emulator()) continue;
          const std::string model_name = c.name, type_name = nystrom::format::dtype_name(type);
          CAPTURE(model_name);
          CAPTURE(type_name);
          CAPTURE(mode == nystrom::AttentionMode::Exact);
          CAPTURE(threads);
          CAPTURE((int)precision);
          nystrom::RunOptions opt;
          opt.attention = mode;
          opt.threads = threads;
          opt.attention_precision = precision;
          // tiny-mlm also with logits at chosen positions (repeated ones
          // too: they may outnumber the input's rows).
          if (std::string(c.name) == "tiny-mlm" && threads == 2) {
            opt.outputs.positions = {3, 0, 3};
            for (int i = 0; i < c.n; ++i) opt.outputs.positions.push_back(c.n - 1);
          }
          nystrom::Session session(model, opt);
          nystrom::Output out;
          // The first run plans the workspace; the second sizes the buffer
          // the first one's Output handed back (the hidden state is swapped
          // out, not copied).
          session.run(ids.data(), ids.size(), out);
          session.run(ids.data(), ids.size(), out);
          const nystrom::Output first = out;
          long allocations = 0;
          {
            AllocationWatch watch;
            session.run(ids.data(), ids.size(), out);
            allocations = watch.count();
          }
          CHECK(allocations == 0);
          CHECK(out.logits.size() == first.logits.size());
          CHECK(test::same_bits(out.last_hidden_state, first.last_hidden_state));
         }
        }
    }
  }
}
