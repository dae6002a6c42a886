// Helpers shared by the fuzz targets (tests/fuzz/fuzz_*.cpp) and by the
// replay of their corpora and reproducers in tests/fuzz/test_fuzz_regressions.cpp.
//
// Most readers take a path, not bytes. The input is written to one
// memory-backed file (memfd_create) per process and the reader is given
// /proc/self/fd/N: every open of that path is a fresh, regular file of
// exactly the input's size, with nothing touching the disk.
#pragma once
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace fuzz {

// Stops the process the way a sanitizer would, so that libFuzzer records the
// input as a crash: for broken invariants that are not memory errors.
[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) violated(what);
}

// Replaces the contents of this process's memory file with the bytes and
// returns a path that opens it. One file per slot, so a target can hold
// two inputs at once (slot 0 and 1).
inline const std::string& memory_file(const uint8_t* data, size_t size, int slot = 0) {
  static int fds[2] = {-1, -1};
  static std::string paths[2];
  if (slot < 0 || slot > 1) violated("memory_file slot must be 0 or 1");
  if (fds[slot] < 0) {
    fds[slot] = ::memfd_create(slot ? "nystrom-fuzz-1" : "nystrom-fuzz-0", MFD_CLOEXEC);
    if (fds[slot] < 0) {
      std::fprintf(stderr, "memfd_create: %s\n", std::strerror(errno));
      std::abort();
    }
    paths[slot] = "/proc/self/fd/" + std::to_string(fds[slot]);
  }
  int fd = fds[slot];
  if (::ftruncate(fd, 0) != 0) violated("ftruncate of the memory file failed");
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) violated("pwrite to the memory file failed");
    done += static_cast<size_t>(n);
  }
  return paths[slot];
}

// Reads every byte of [p, p + n) so that AddressSanitizer checks the range a
// reader hands out (first and last byte, and one per 4 KiB page between).
inline void touch(const void* p, uint64_t n) {
  if (n == 0) return;
  const volatile uint8_t* b = static_cast<const volatile uint8_t*>(p);
  uint8_t sink = b[0];
  for (uint64_t i = 4096; i < n; i += 4096) sink ^= b[i];
  sink ^= b[n - 1];
  (void)sink;
}

}  // namespace fuzz
