// Output files appear whole or not at all, without turning what the path
// names into something else:
//  - a regular file or a new path: data goes to a temporary ".nyXXXXXX.tmp"
//    in the same folder (short, so it fits wherever the output's own name
//    fits), and commit() fsyncs it and renames it over the path; a file
//    that existed keeps its permission bits;
//  - a symbolic link: its final target is written, by the rules here;
//  - a character device or FIFO (/dev/null, a named pipe): written in place;
//  - "-": standard output, written in place;
//  - a folder, or anything else (socket, block device): refused.
// Destroying an uncommitted AtomicFile removes the temporary, so a failure
// never leaves a half-written file (in-place outputs cannot promise that).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace nystrom {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // throws Error if it cannot open the output
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);  // throws Error on a short write
  void pad_to(uint64_t offset);               // writes zero bytes up to offset
  uint64_t position() const { return pos_; }
  void commit();                              // flush (fsync, rename); throws Error on failure

 private:
  [[noreturn]] void write_failed(int err);
  std::string path_;    // as given, for messages
  std::string target_;  // what is replaced: the path or its links' final target
  std::string tmp_;     // empty when written in place
  std::FILE* f_ = nullptr;
  bool owns_ = true;    // false for standard output
  uint64_t pos_ = 0;
};

// Where a path's symbolic links lead: the path itself when it is not a link,
// else the final target (which may not exist yet). Throws Error on a loop.
std::string final_target(const std::string& path);

}  // namespace nystrom
