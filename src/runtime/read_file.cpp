#include "nystrom/io.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "runtime/error.h"

namespace nystrom {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

std::vector<uint8_t> read_whole_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) fail_as(ErrorCode::Io, path, ": cannot open: ", std::strerror(errno));
  struct stat st;
  if (::fstat(::fileno(f.get()), &st) != 0) fail_as(ErrorCode::Io, path, ": cannot stat: ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail_as(ErrorCode::Io, path, ": not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > std::numeric_limits<size_t>::max()) fail(path, ": file too large for this machine");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
    fail_as(ErrorCode::Io, path, ": read error or file shrank while reading");
  return bytes;
}

}  // namespace nystrom
