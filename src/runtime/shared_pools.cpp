// One pool per thread count per process: sessions that share it take turns
// loop by loop (ThreadPool::parallel_for lets one loop run at a time) instead
// of each starting its own threads and oversubscribing the CPUs.
#include <map>
#include <mutex>

#include "runtime/thread_pool.h"

namespace nystrom {

std::shared_ptr<ThreadPool> shared_thread_pool(int threads) {
  // Never destroyed, so a session that outlives main() can still let go.
  struct Registry {
    std::mutex mu;
    std::map<int, std::weak_ptr<ThreadPool>> pools;
  };
  static Registry* registry = new Registry;
  std::lock_guard<std::mutex> lock(registry->mu);
  std::weak_ptr<ThreadPool>& slot = registry->pools[threads];
  std::shared_ptr<ThreadPool> pool = slot.lock();
  if (!pool) {
    pool = std::make_shared<ThreadPool>(threads);
    slot = pool;
  }
  return pool;
}

}  // namespace nystrom
