#include "runtime/thread_pool.h"

#include <chrono>

#if defined(__linux__)
#include <sched.h>
#endif

#include <algorithm>
#include <cerrno>
#include <thread>

#include "runtime/error.h"

namespace nystrom {

namespace {

// Chunks per thread when items allow it: enough that a thread which wakes
// late, or gets slower chunks, does not leave the others idle at the end.
constexpr size_t kChunksPerThread = 4;

// How long an idle thread waits actively before it sleeps: rounds of pause
// instructions, each ended by a yield. The rounds cover the gap between
// back-to-back loops of a forward pass (tens to hundreds of microseconds,
// depending on the CPU's pause latency). The yields matter when the scheduler
// has put two of the pool's threads on one CPU: the spinner then hands the
// CPU to the thread it is waiting for instead of burning its time slice.
constexpr int kPausesPerYield = 64;
constexpr int kSpinRounds = 64;
constexpr int kYieldOnlyRounds = 16;  // when the pool has more threads than CPUs

// The most threads a pool has: the workers taking part in a loop are counted
// in the low 16 bits of the state word.
constexpr int kMaxThreads = 1 << 16;
constexpr uint64_t kHelperMask = 0xFFFF;

// The join word: joined count in bits 0-15, closed flag in bit 16, and the
// generation (its low 47 bits) above.
constexpr uint64_t kJoinedMask = 0xFFFF;
constexpr uint64_t kJoinClosed = uint64_t{1} << 16;
constexpr int kJoinGenerationShift = 17;
constexpr uint64_t kJoinGenerationMask = (uint64_t{1} << (64 - kJoinGenerationShift)) - 1;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

// Waits actively for done(); true if it held before the budget ran out.
template <typename Done>
bool spin_until(const Done& done, bool pause_spins) {
  const int rounds = pause_spins ? kSpinRounds : kYieldOnlyRounds;
  const int pauses = pause_spins ? kPausesPerYield : 0;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < pauses; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (done()) return true;
    std::this_thread::yield();
  }
  return done();
}

// What the current thread is doing, so that a parallel_for called from inside
// a chunk runs inline instead of waiting for workers that are busy with it.
struct ThreadContext {
  const ThreadPool* pool = nullptr;  // the pool whose chunk is running here
  int index = 0;                     // this thread's index in that pool
  bool in_loop = false;
};
thread_local ThreadContext t_context;

// Sets the current thread's context for one scope.
class ContextScope {
 public:
  ContextScope(const ThreadPool* pool, int index) : saved_(t_context) { t_context = {pool, index, true}; }
  ~ContextScope() { t_context = saved_; }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  ThreadContext saved_;
};

}  // namespace

// ---------------------------------------------------------------------------
// CPU count

int default_thread_count() {
#if defined(__linux__)
  // The mask may be wider than cpu_set_t on machines with many CPUs: grow it
  // until the kernel accepts the size.
  for (int ncpus = CPU_SETSIZE; ncpus <= kMaxThreads * 4; ncpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(ncpus);
    if (!set) break;
    const size_t bytes = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(bytes, set);
    const int rc = sched_getaffinity(0, bytes, set);
    const int err = errno;
    const int count = rc == 0 ? CPU_COUNT_S(bytes, set) : 0;
    CPU_FREE(set);
    if (rc == 0 && count > 0) return count;
    if (rc != 0 && err != EINVAL) break;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int resolve_thread_count(int requested, const char* who) {
  if (requested < 0 || requested > 1024) fail_as(ErrorCode::InvalidArgument, who, ": threads must be 0..1024, got ", requested);
  const int available = default_thread_count();
  return requested == 0 ? available : std::min(requested, available);
}

// ---------------------------------------------------------------------------
// Pool

struct alignas(64) ThreadPool::Worker {
  std::thread thread;
  std::mutex mu;  // guards the sleep below
  std::condition_variable cv;
  std::atomic<bool> sleeping{false};
};

ThreadPool::ThreadPool(int threads) : threads_(std::clamp(threads, 1, kMaxThreads)) {
  // Spinning threads would take CPU time from the ones with work to do.
  spin_ = threads_ <= default_thread_count();
  if (threads_ == 1) return;
  workers_.reset(new Worker[threads_ - 1]);
  int started = 0;
  try {
    for (; started < threads_ - 1; ++started) {
      const int index = started + 1;
      workers_[started].thread = std::thread([this, index] { worker_main(index); });
    }
  } catch (...) {
    threads_ = started + 1;  // the destructor will not run: stop what started
    stop_workers();
    throw;
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  stop_.store(true);
  for (int i = 0; i < threads_ - 1; ++i) {
    Worker& w = workers_[i];
    std::lock_guard<std::mutex> lock(w.mu);
    w.cv.notify_one();
  }
  for (int i = 0; i < threads_ - 1; ++i)
    if (workers_[i].thread.joinable()) workers_[i].thread.join();
}

void ThreadPool::parallel_for(size_t count, ChunkFn fn, size_t grain) {
  if (count == 0) return;
  if (grain == 0) grain = 1;
  const size_t chunks = std::min(std::max<size_t>(count / grain, 1), threads_ * kChunksPerThread);
  const ThreadContext& here = t_context;
  if (threads_ == 1 || chunks == 1 || here.in_loop) {
    fn(0, count, here.pool == this ? here.index : 0);
    return;
  }

  // One loop at a time: another thread calling now waits for this one.
  std::lock_guard<std::mutex> call_lock(call_mu_);
  fn_ = &fn;
  count_ = count;
  chunks_ = chunks;
  next_chunk_.store(0, std::memory_order_relaxed);
  failed_.store(false, std::memory_order_relaxed);
  finished_.store(0, std::memory_order_relaxed);
  const int helpers = static_cast<int>(std::min<size_t>(threads_ - 1, chunks - 1));
  const uint64_t generation = (state_.load(std::memory_order_relaxed) >> 16) + 1;
  join_.store((generation & kJoinGenerationMask) << kJoinGenerationShift, std::memory_order_relaxed);

  // Publish the loop (seq_cst: a worker that has not yet gone to sleep will
  // see it; one that has is seen as sleeping below and woken).
  state_.store((generation << 16) | static_cast<uint64_t>(helpers));
  for (int i = 0; i < helpers; ++i) {
    Worker& w = workers_[i];
    if (w.sleeping.load()) {
      std::lock_guard<std::mutex> lock(w.mu);
      w.cv.notify_one();
    }
  }

  {
    ContextScope scope(this, 0);
    run_chunks(0);
  }
  // Every chunk has been claimed: let no more workers join, and wait for
  // those that did.
  const uint64_t closed = join_.fetch_or(kJoinClosed, std::memory_order_acq_rel);
  wait_for_workers(static_cast<int>(closed & kJoinedMask));
  fn_ = nullptr;

  if (failed_.load(std::memory_order_relaxed)) {
    std::exception_ptr error;
    std::swap(error, error_);
    std::rethrow_exception(error);
  }
}

bool ThreadPool::join(uint64_t generation) {
  const uint64_t open = (generation & kJoinGenerationMask) << kJoinGenerationShift;
  uint64_t word = join_.load(std::memory_order_acquire);
  for (;;) {
    // Another generation means this loop is over (and a later one is seen
    // from state_ next time round); closed means its chunks are all taken.
    if ((word & ~kJoinedMask) != open) return false;
    if (join_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      return true;
  }
}

void ThreadPool::run_chunks(int thread) {
  // Chunk c is [c*base + min(c, extra), ...) with base or base+1 items, so the
  // sizes differ by at most one and each is at least `grain`.
  const size_t base = count_ / chunks_, extra = count_ % chunks_;
  for (;;) {
    const size_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
    if (c >= chunks_) return;
    const size_t begin = c * base + std::min(c, extra);
    const size_t end = begin + base + (c < extra ? 1 : 0);
    try {
      (*fn_)(begin, end, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu_);
      if (!failed_.load(std::memory_order_relaxed)) error_ = std::current_exception();
      failed_.store(true, std::memory_order_relaxed);
      next_chunk_.store(chunks_, std::memory_order_relaxed);  // start no more chunks
    }
  }
}

void ThreadPool::wait_for_workers(int joined) {
  auto done = [this, joined] { return finished_.load() == joined; };
  if (spin_until(done, spin_)) return;
  std::unique_lock<std::mutex> lock(done_mu_);
  caller_sleeping_.store(true);  // seq_cst: pairs with the workers' fetch_add
  // Timed: a lost wake-up (seen once under qemu-user) costs a millisecond,
  // never a hang.
  while (!done()) done_cv_.wait_for(lock, std::chrono::milliseconds(1));
  caller_sleeping_.store(false, std::memory_order_relaxed);
}

void ThreadPool::worker_main(int index) {
  Worker& self = workers_[index - 1];
  uint64_t seen = 0;  // the state word of the last loop this worker saw
  auto changed = [&] { return state_.load() != seen || stop_.load(); };
  for (;;) {
    if (!spin_until(changed, spin_)) {
      std::unique_lock<std::mutex> lock(self.mu);
      self.sleeping.store(true);  // seq_cst: pairs with the caller's store to state_
      while (!changed()) self.cv.wait_for(lock, std::chrono::milliseconds(1));  // see wait_for_workers
      self.sleeping.store(false, std::memory_order_relaxed);
    }
    if (stop_.load()) return;
    seen = state_.load();
    if (static_cast<int>(seen & kHelperMask) < index || !join(seen >> 16)) continue;
    {
      ContextScope scope(this, index);
      run_chunks(index);
    }
    finished_.fetch_add(1);
    if (caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(done_mu_);
      done_cv_.notify_one();
    }
  }
}

}  // namespace nystrom
