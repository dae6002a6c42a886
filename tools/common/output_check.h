// Where a tool is going to write, checked before any work starts: a missing
// or read-only folder, or a folder given as a file, fails in a moment
// instead of after the whole computation. How the output is then written
// (atomically, in place for devices and FIFOs, '-' for standard output) is
// the writer's business; this only refuses what it would refuse later.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "nystrom/nystrom.h"

namespace nystrom::tools {

inline std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// An existing folder this process may create files in.
inline void check_writable_folder(const std::string& folder, const std::string& for_path) {
  struct stat st;
  if (::stat(folder.c_str(), &st) != 0)
    throw Error(for_path + ": folder " + folder + " does not exist or cannot be reached: " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) throw Error(for_path + ": " + folder + " is not a folder");
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    throw Error(for_path + ": cannot create files in " + folder + ": " + std::strerror(errno));
}

// The path's real location when it exists (symbolic links followed).
inline std::string resolved(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return path;
  std::string r = real;
  std::free(real);
  return r;
}

// A single-file output: '-', a device or FIFO we may write, or a file to
// create or replace in a folder we may write.
inline void check_output_file(const std::string& path) {
  if (path == "-") return;
  if (path.empty()) throw Error("the output path is empty");
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) throw Error(path + ": " + std::strerror(errno));
    return check_writable_folder(folder_of(path), path);
  }
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a folder, not a file");
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
    if (::access(path.c_str(), W_OK) != 0) throw Error(path + ": " + std::strerror(errno));
    return;
  }
  if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file, character device or FIFO");
  check_writable_folder(folder_of(resolved(path)), path);
}

}  // namespace nystrom::tools
