// A fixed set of worker threads that run the chunks of a parallel loop.
//
// The workers start once, in the constructor, and live until the destructor.
// Between loops they spin briefly (a model runs its loops back to back) and
// then sleep, so an idle pool costs no CPU. parallel_for allocates nothing;
// the caller runs chunks too and never waits for a worker that has not yet
// started one, so a small loop costs little more than running it inline.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>

#include "runtime/function_ref.h"

namespace nystrom {

// The number of CPUs this process may run on (its affinity mask), at least 1.
int default_thread_count();

// The thread count a request resolves to, the same rule for OpenOptions and
// RunOptions: 0 means default_thread_count(); more than that is capped to it
// (extra threads only take turns on the same CPUs, and spin-waits then cost
// seconds); negative or more than 1024 throws Error naming `who`.
int resolve_thread_count(int requested, const char* who);
class ThreadPool;
// The process's pool of `threads` threads, shared by everyone who asks for
// that many: made on the first call, ended when the last holder lets go.
std::shared_ptr<ThreadPool> shared_thread_pool(int threads);

class ThreadPool {
 public:
  // fn(begin, end, thread): process items [begin, end); thread is in [0, size()).
  using ChunkFn = FunctionRef<void(size_t begin, size_t end, int thread)>;

  // `threads` counts the calling thread: ThreadPool(4) starts 3 workers, and
  // ThreadPool(1) starts none and runs every loop inline.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }

  // Splits [0, count) into contiguous chunks of at least `grain` items (one
  // chunk when count < grain; at most 4 per thread, sizes within one of each
  // other) and runs fn on each exactly once, on the caller (thread 0) and the
  // workers (1..size()-1), which take chunks as they come free. Returns when
  // every chunk is done.
  //
  // - Called from inside fn (of any pool) it runs fn(0, count, thread)
  //   inline, with the calling thread's index in this pool (0 if it is not
  //   one of its threads).
  // - Another thread calling while a loop runs waits for it to end.
  // - If fn throws, chunks not yet started are skipped and the first
  //   exception is rethrown here once every running chunk has finished.
  void parallel_for(size_t count, ChunkFn fn, size_t grain = 1);

 private:
  struct Worker;

  void worker_main(int index);
  void stop_workers();
  bool join(uint64_t generation);
  void run_chunks(int thread);
  void wait_for_workers(int joined);

  int threads_ = 1;
  bool spin_ = true;                   // false when there are more threads than CPUs
  std::unique_ptr<Worker[]> workers_;  // threads_ - 1 of them

  // The loop being run. Written by the caller before `state_` publishes it,
  // and not touched again until every worker that joined it has finished.
  const ChunkFn* fn_ = nullptr;
  size_t count_ = 0;
  size_t chunks_ = 0;
  alignas(64) std::atomic<size_t> next_chunk_{0};

  // (generation << 16) | helpers: a new generation is a new loop, which
  // workers 1..helpers may join. The workers wait for this word to change.
  alignas(64) std::atomic<uint64_t> state_{0};
  std::atomic<bool> stop_{false};

  // (generation << 17) | closed << 16 | workers that joined. A worker joins
  // before it reads the loop; the caller closes the loop when it has run out
  // of chunks, and then waits only for the workers that joined, never for
  // one still waking up.
  alignas(64) std::atomic<uint64_t> join_{0};
  std::atomic<int> finished_{0};  // joined workers that are done
  std::atomic<bool> caller_sleeping_{false};
  std::mutex done_mu_;
  std::condition_variable done_cv_;

  std::atomic<bool> failed_{false};
  std::mutex error_mu_;
  std::exception_ptr error_;

  std::mutex call_mu_;  // held by the thread whose loop the workers run
};

}  // namespace nystrom
