// A whole file mapped read-only into memory (POSIX mmap); the model's weights
// are used in place from this mapping.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace nystrom {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws Error naming the file
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  // Tells the OS that the whole pages inside [p, p + n) will not be read
  // again soon, so they stop counting as resident (they are read back from
  // the file if they are). A hint: failures are ignored.
  void release(const void* p, size_t n) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace nystrom
