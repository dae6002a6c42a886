// write_whole_file (nystrom/io.h): the file appears whole with exactly the
// bytes given, replaces what was there, and a failure names the path and
// leaves nothing behind.
#include <doctest/doctest.h>

#include <dirent.h>

#include <string>

#include "nystrom/io.h"
#include "support.h"

namespace {

size_t entries_in(const std::string& dir) {
  size_t n = 0;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (const dirent* e = ::readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
  ::closedir(d);
  return n;
}

}  // namespace

TEST_CASE("write_whole_file: writes the bytes, replaces an older file, leaves no temporary") {
  test::TempDir dir;
  const std::string path = dir / "chart.svg";
  const std::string first = std::string("<svg>\0</svg>", 12), second = "shorter";
  nystrom::write_whole_file(path, first.data(), first.size());
  CHECK(test::slurp(path) == first);
  nystrom::write_whole_file(path, second.data(), second.size());
  CHECK(test::slurp(path) == second);
  CHECK(entries_in(dir.path) == 1);
}

TEST_CASE("write_whole_file: a missing folder is an Error naming the path") {
  test::TempDir dir;
  const std::string path = dir / "no-such-folder/out.svg";
  const std::string message = test::error_of([&] { nystrom::write_whole_file(path, "x", 1); });
  CHECK(message.find(path) != std::string::npos);
  CHECK(entries_in(dir.path) == 0);
}
