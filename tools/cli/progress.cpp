#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace nystrom::cli {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

Progress::Progress(size_t total) : total_(total), on_(total > 1 && ::isatty(2)) {}

void Progress::update(size_t done) {
  if (!on_ || ms_since(last_) < 100) return;
  last_ = Clock::now();
  std::fprintf(stderr, "\r%zu/%zu lines", done, total_);
  shown_ = true;
}

void Progress::finish() {
  if (shown_) std::fputs("\r\033[K", stderr);
  shown_ = false;
}

}  // namespace nystrom::cli
