#include "output_folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../common/output_check.h"
#include "nystrom/nystrom.h"

namespace nystrom::cli {

static std::string error_text() { return std::strerror(errno); }

OutputFolder::OutputFolder(const std::string& dir, std::vector<std::string> names)
    : dir_(dir), target_(tools::resolved(dir)), names_(std::move(names)) {
  if (dir.empty()) throw Error("--out-dir is empty");
  struct stat st;
  if (::stat(target_.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw Error(dir + ": not a folder");
    DIR* d = ::opendir(target_.c_str());
    if (!d) throw Error(dir + ": cannot read the folder: " + error_text());
    std::string foreign;
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (std::find(names_.begin(), names_.end(), name) == names_.end() && foreign.empty()) foreign = name;
    }
    ::closedir(d);
    // The folder is replaced whole: anything else in it would be lost.
    if (!foreign.empty())
      throw Error(dir + ": holds " + foreign + ", which is not an output of this command (give a new or empty folder)");
    if (target_ == "/") throw Error(dir + ": cannot replace the root folder");
    tools::check_writable_folder(tools::folder_of(target_), dir);
    return;
  }
  if (errno != ENOENT) throw Error(dir + ": " + error_text());
  // Parents are created as needed: the nearest existing one must be writable.
  std::string up = tools::folder_of(target_);
  while (up != "/" && up != "." && ::stat(up.c_str(), &st) != 0 && errno == ENOENT) up = tools::folder_of(up);
  tools::check_writable_folder(up, dir);
}

OutputFolder::~OutputFolder() {
  if (!staging_.empty()) remove_folder(staging_);
}

std::string OutputFolder::begin() {
  // Missing parents, outermost first.
  std::vector<std::string> missing;
  struct stat st;
  for (std::string up = tools::folder_of(target_); up != "/" && up != "." && ::stat(up.c_str(), &st) != 0;
       up = tools::folder_of(up))
    missing.push_back(up);
  for (auto it = missing.rbegin(); it != missing.rend(); ++it)
    if (::mkdir(it->c_str(), 0777) != 0 && errno != EEXIST) throw Error(*it + ": cannot create folder: " + error_text());

  std::string tmpl = tools::folder_of(target_) + "/.nyXXXXXX";
  if (!::mkdtemp(&tmpl[0])) throw Error(dir_ + ": cannot create a folder beside it: " + error_text());
  staging_ = tmpl;
  // mkdtemp makes it private; give it what the old folder had, or what a
  // plain mkdir would (the umask applied).
  mode_t mode;
  if (::stat(target_.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0777 & ~mask;
  }
  ::chmod(staging_.c_str(), mode);
  return staging_;
}

void OutputFolder::commit() {
  struct stat st;
  if (::stat(target_.c_str(), &st) != 0) {
    if (std::rename(staging_.c_str(), target_.c_str()) != 0) throw Error(dir_ + ": cannot create: " + error_text());
    staging_.clear();
    return;
  }
  // Swap the two in one step where the kernel can; else move the old one
  // aside first (and back, should the second rename fail).
  std::string old = staging_;
  if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) != 0) {
    std::string aside = tools::folder_of(target_) + "/.nyXXXXXX";
    if (!::mkdtemp(&aside[0])) throw Error(dir_ + ": cannot replace: " + error_text());
    if (std::rename(target_.c_str(), aside.c_str()) != 0) {
      const std::string why = error_text();
      ::rmdir(aside.c_str());
      throw Error(dir_ + ": cannot replace: " + why);
    }
    if (std::rename(staging_.c_str(), target_.c_str()) != 0) {
      const std::string why = error_text();
      std::rename(aside.c_str(), target_.c_str());
      throw Error(dir_ + ": cannot replace: " + why);
    }
    old = aside;
  }
  staging_.clear();
  remove_folder(old);
}

// Removes a folder of this command's outputs (only its known names: a file
// someone else put there meanwhile keeps the folder, and is not lost).
void OutputFolder::remove_folder(const std::string& folder) const {
  for (const std::string& name : names_) ::unlink((folder + "/" + name).c_str());
  ::rmdir(folder.c_str());
}

}  // namespace nystrom::cli
