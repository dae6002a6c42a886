// Output files appear whole or not at all: data goes to "<path>.tmp.<pid>",
// and commit() renames it over <path>. Destroying an uncommitted AtomicFile
// removes the temporary, so a failure never leaves a half-written file.
#pragma once
#include <cstddef>
#include <cstdio>
#include <string>

namespace nystrom {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // throws Error if it cannot create the temporary
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);  // throws Error on a short write
  void pad_to(uint64_t offset);               // writes zero bytes up to offset
  uint64_t position() const { return pos_; }
  void commit();                              // flush, fsync, rename; throws Error on failure

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t pos_ = 0;
};

}  // namespace nystrom
