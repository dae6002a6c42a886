#include "runtime/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "runtime/error.h"

namespace nystrom {

AtomicFile::AtomicFile(const std::string& path)
    : path_(path), tmp_(path + ".tmp." + std::to_string(::getpid())) {
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail_as(ErrorCode::Io, "cannot create ", tmp_, ": ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t size) {
  if (size && std::fwrite(data, 1, size, f_) != size)
    fail_as(ErrorCode::Io, "cannot write ", tmp_, ": ", std::strerror(errno));
  pos_ += size;
}

void AtomicFile::pad_to(uint64_t offset) {
  static const char zeros[4096] = {};
  while (pos_ < offset) {
    uint64_t chunk = offset - pos_ < sizeof zeros ? offset - pos_ : sizeof zeros;
    write(zeros, static_cast<size_t>(chunk));
  }
}

void AtomicFile::commit() {
  bool ok = std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0;
  int err = errno;
  ok = (std::fclose(f_) == 0) && ok;
  f_ = nullptr;
  if (!ok) {
    std::remove(tmp_.c_str());
    fail_as(ErrorCode::Io, "cannot write ", tmp_, ": ", std::strerror(err));
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    err = errno;
    std::remove(tmp_.c_str());
    fail_as(ErrorCode::Io, "cannot rename ", tmp_, " to ", path_, ": ", std::strerror(err));
  }
}

}  // namespace nystrom
