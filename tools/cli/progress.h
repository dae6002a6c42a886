// Timing and progress for the text commands: milliseconds since a point in
// time, and "\r1200/96000 lines" on stderr while a long run goes on.
#pragma once
#include <chrono>
#include <cstddef>

namespace nystrom::cli {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0);

// "\r1200/96000 lines" on stderr, at most ten times a second, only when
// stderr is a terminal and there is more than one input; erased at the end.
class Progress {
 public:
  explicit Progress(size_t total);
  ~Progress() { finish(); }
  void update(size_t done);
  void finish();

 private:
  size_t total_;
  bool on_;
  bool shown_ = false;
  Clock::time_point last_ = Clock::now();
};

}  // namespace nystrom::cli
