// The thread pool: every index runs exactly once, on a valid thread, in
// chunks no smaller than the grain; nested loops run inline; exceptions reach
// the caller; thousands of back-to-back loops complete. Also FunctionRef and
// default_thread_count().
#include <doctest/doctest.h>

#if defined(__linux__)
#include <sched.h>
#endif

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/function_ref.h"
#include "runtime/thread_pool.h"

using nystrom::FunctionRef;
using nystrom::ThreadPool;

namespace {

int add(int x, int y) { return x + y; }

int call_with_3_4(FunctionRef<int(int, int)> f) { return f(3, 4); }

}  // namespace

TEST_CASE("function_ref: calls lambdas, functors with state, and plain functions") {
  CHECK(call_with_3_4([](int x, int y) { return x * y; }) == 12);

  int calls = 0;
  auto counting = [&calls](int x, int y) {
    ++calls;
    return x - y;
  };
  CHECK(call_with_3_4(counting) == -1);
  CHECK(call_with_3_4(counting) == -1);
  CHECK(calls == 2);

  CHECK(call_with_3_4(add) == 7);
  CHECK(call_with_3_4(&add) == 7);

  const auto constant = [](int, int) { return 42; };
  CHECK(call_with_3_4(constant) == 42);

  // A void FunctionRef accepts a callable that returns something.
  int seen = 0;
  auto returns_int = [&seen](int x) { return seen = x; };
  FunctionRef<void(int)> discard(returns_int);
  discard(9);
  CHECK(seen == 9);
}

TEST_CASE("thread pool: size() counts the caller; fewer than one thread means one") {
  CHECK(ThreadPool(1).size() == 1);
  CHECK(ThreadPool(3).size() == 3);
  CHECK(ThreadPool(0).size() == 1);
  CHECK(ThreadPool(-5).size() == 1);
}

TEST_CASE("thread pool: every index is visited exactly once, in chunks of at least the grain") {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (size_t count : {0, 1, 2, 7, 1000}) {
      for (size_t grain : {0, 1, 2, 3, 7, 64, 5000}) {
        CAPTURE(threads);
        CAPTURE(count);
        CAPTURE(grain);
        std::vector<std::atomic<int>> visits(count);
        std::atomic<int> bad_chunks{0}, bad_threads{0};
        const size_t min_chunk = std::min<size_t>(grain == 0 ? 1 : grain, count);
        pool.parallel_for(
            count,
            [&](size_t begin, size_t end, int thread) {
              if (begin >= end || end > count || end - begin < min_chunk) ++bad_chunks;
              if (thread < 0 || thread >= threads) ++bad_threads;
              for (size_t i = begin; i < end && i < count; ++i) visits[i].fetch_add(1);
            },
            grain);
        CHECK(bad_chunks.load() == 0);
        CHECK(bad_threads.load() == 0);
        size_t wrong = 0;
        for (auto& v : visits) wrong += v.load() != 1;
        CHECK(wrong == 0);
      }
    }
  }
}

TEST_CASE("thread pool: a pool of one thread runs the loop on the caller as thread 0") {
  ThreadPool pool(1);
  const std::thread::id caller = std::this_thread::get_id();
  bool same_thread = true;
  int thread_index = -1;
  pool.parallel_for(100, [&](size_t, size_t, int thread) {
    same_thread = same_thread && std::this_thread::get_id() == caller;
    thread_index = thread;
  });
  CHECK(same_thread);
  CHECK(thread_index == 0);
}

TEST_CASE("thread pool: the workers take part when there are enough chunks") {
  // Each chunk waits until two distinct threads have started one, so the loop
  // only finishes if a worker really runs chunks beside the caller.
  ThreadPool pool(2);
  std::mutex mu;
  std::vector<std::thread::id> ids;
  auto distinct = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return ids.size() >= 2;
  };
  pool.parallel_for(
      2,
      [&](size_t, size_t, int) {
        {
          std::lock_guard<std::mutex> lock(mu);
          const auto id = std::this_thread::get_id();
          if (ids.empty() || ids[0] != id) ids.push_back(id);
        }
        while (!distinct()) std::this_thread::yield();
      },
      1);
  CHECK(distinct());
}

TEST_CASE("thread pool: a parallel_for inside a chunk runs inline and does not deadlock") {
  for (int threads : {2, 3, 8}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> visits(16 * 100);
    std::atomic<int> mismatched_thread{0};
    pool.parallel_for(16, [&](size_t begin, size_t end, int outer_thread) {
      for (size_t i = begin; i < end; ++i) {
        pool.parallel_for(100, [&](size_t b, size_t e, int inner_thread) {
          // Inline: the same thread, so the same index.
          if (inner_thread != outer_thread) ++mismatched_thread;
          for (size_t j = b; j < e; ++j) visits[i * 100 + j].fetch_add(1);
        });
      }
    });
    CHECK(mismatched_thread.load() == 0);
    size_t wrong = 0;
    for (auto& v : visits) wrong += v.load() != 1;
    CHECK(wrong == 0);
  }
}

TEST_CASE("thread pool: a loop of another pool inside a chunk runs too") {
  ThreadPool outer(3), inner(3);
  std::atomic<int> total{0};
  outer.parallel_for(9, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i)
      inner.parallel_for(10, [&](size_t b, size_t e, int) { total += static_cast<int>(e - b); });
  });
  CHECK(total.load() == 90);
}

TEST_CASE("thread pool: the first exception reaches the caller after every chunk has finished") {
  for (int threads : {1, 2, 4}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    std::atomic<int> running{0}, running_at_return{-1};
    auto throwing = [&](size_t begin, size_t end, int) {
      ++running;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      --running;
      for (size_t i = begin; i < end; ++i)
        if (i == 37) throw std::runtime_error("index 37 failed");
    };
    try {
      pool.parallel_for(100, throwing);
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      running_at_return = running.load();
      CHECK(std::string(e.what()) == "index 37 failed");
    }
    CHECK(running_at_return.load() == 0);

    // The pool still works afterwards.
    std::atomic<size_t> sum{0};
    pool.parallel_for(1000, [&](size_t begin, size_t end, int) {
      for (size_t i = begin; i < end; ++i) sum += i;
    });
    CHECK(sum.load() == 999u * 1000u / 2u);
  }
}

TEST_CASE("thread pool: ten thousand tiny loops in a row complete") {
  for (int threads : {2, 4}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    const size_t count = static_cast<size_t>(threads);
    std::atomic<long> total{0};
    for (int call = 0; call < 10000; ++call)
      pool.parallel_for(count,
                        [&](size_t begin, size_t end, int) { total += static_cast<long>(end - begin); });
    CHECK(total.load() == 10000L * threads);
  }
}

TEST_CASE("thread pool: loops survive a pause long enough for the workers to sleep") {
  ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::atomic<int> total{0};
    pool.parallel_for(30, [&](size_t begin, size_t end, int) { total += static_cast<int>(end - begin); });
    CHECK(total.load() == 30);
  }
}

TEST_CASE("thread pool: two threads sharing one pool both complete") {
  ThreadPool pool(3);
  std::atomic<long> total{0};
  auto hammer = [&] {
    for (int call = 0; call < 500; ++call)
      pool.parallel_for(64, [&](size_t begin, size_t end, int) { total += static_cast<long>(end - begin); });
  };
  std::thread other(hammer);
  hammer();
  other.join();
  CHECK(total.load() == 2L * 500 * 64);
}

TEST_CASE("thread pool: destroying a pool right after creating it joins cleanly") {
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(4);
    if (i % 2) pool.parallel_for(8, [](size_t, size_t, int) {});
  }
}

TEST_CASE("default_thread_count: at least one, and the size of the affinity mask") {
  const int n = nystrom::default_thread_count();
  CHECK(n >= 1);
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) CHECK(n == CPU_COUNT(&set));
#endif
}
