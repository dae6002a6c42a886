#include "runtime/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "runtime/error.h"

namespace nystrom {

namespace {

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Six letters and digits, different for every call in this process and
// unlikely to collide across processes; O_EXCL settles any collision.
std::string random_tag() {
  static std::atomic<uint64_t> counter{0};
  uint64_t x = (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count() ^
               ((uint64_t)::getpid() << 32) ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string tag(6, 'a');
  for (char& c : tag) {
    c = kChars[x % 36];
    x /= 36;
  }
  return tag;
}

}  // namespace

std::string final_target(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::string link(4096, '\0');
    const ssize_t len = ::readlink(p.c_str(), &link[0], link.size());
    if (len < 0 || (size_t)len >= link.size()) fail_as(ErrorCode::Io, path, ": cannot read the symbolic link ", p);
    link.resize((size_t)len);
    p = link[0] == '/' ? link : folder_of(p) + "/" + link;
  }
  fail_as(ErrorCode::Io, path, ": too many levels of symbolic links");
}

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  if (path == "-") {
    f_ = stdout;
    owns_ = false;
    return;
  }
  // stat follows the links, /proc's magic ones included (/dev/stdout on a
  // pipe, whose target is no path).
  struct stat st;
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) fail_as(ErrorCode::Io, path, ": ", std::strerror(errno));
  if (exists && S_ISDIR(st.st_mode)) fail_as(ErrorCode::Io, path, ": is a folder, not a file");
  if (exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
    // Written in place: replacing /dev/null or a pipe with a file is never
    // what the user meant.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || !(f_ = ::fdopen(fd, "wb"))) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      fail_as(ErrorCode::Io, "cannot open ", path, ": ", std::strerror(err));
    }
    return;
  }
  if (exists && !S_ISREG(st.st_mode)) fail_as(ErrorCode::Io, path, ": not a regular file, character device or FIFO");

  target_ = final_target(path);
  const std::string folder = folder_of(target_);
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp_ = folder + "/.ny" + random_tag() + ".tmp";
    fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // the umask applies
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    const int err = errno;
    tmp_.clear();
    fail_as(ErrorCode::Io, "cannot create a file in ", folder, " (for ", path, "): ", std::strerror(err));
  }
  if (exists) (void)::fchmod(fd, st.st_mode & 07777);  // best effort, as editors do
  f_ = ::fdopen(fd, "wb");
  if (!f_) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp_.c_str());
    tmp_.clear();
    fail_as(ErrorCode::Io, "cannot open ", path, ": ", std::strerror(err));
  }
}

AtomicFile::~AtomicFile() {
  if (f_ && owns_) std::fclose(f_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::write_failed(int err) {
  fail_as(ErrorCode::Io, "cannot write ", path_ == "-" ? std::string("standard output") : path_, ": ", std::strerror(err));
}

void AtomicFile::write(const void* data, size_t size) {
  if (!f_) fail_as(ErrorCode::Io, "cannot write ", path_, ": already committed");
  if (size && std::fwrite(data, 1, size, f_) != size) write_failed(errno);
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
  if (!f_) fail_as(ErrorCode::Io, "cannot write ", path_, ": already committed");
  std::FILE* f = f_;
  f_ = nullptr;
  bool ok = std::fflush(f) == 0 && !std::ferror(f);
  int err = errno;
  if (ok && !tmp_.empty() && ::fsync(::fileno(f)) != 0) ok = false, err = errno;
  if (owns_ && std::fclose(f) != 0 && ok) ok = false, err = errno;
  if (!ok) write_failed(err);
  if (tmp_.empty()) return;
  if (std::rename(tmp_.c_str(), target_.c_str()) != 0) {
    err = errno;
    fail_as(ErrorCode::Io, "cannot replace ", path_, ": ", std::strerror(err));  // the destructor removes the temporary
  }
  tmp_.clear();
}

}  // namespace nystrom
