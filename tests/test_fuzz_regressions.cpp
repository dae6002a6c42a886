// The fuzz targets' inputs, replayed in the normal suite: every committed
// seed (tests/fuzz/corpus/<target>/) and every saved reproducer of a crash
// the fuzzers found (tests/fuzz/regressions/<target>/, named after what it
// broke) goes through the same target body as under libFuzzer
// (tests/fuzz/targets.h), so a fixed bug stays fixed in `make test` and,
// sanitized, in `make test-asan`. A target body returns normally or stops
// the process; readers may refuse an input only with nystrom::Error.
#include <dirent.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fuzz/targets.h"
#include "support.h"

namespace {

struct Target {
  const char* name;
  std::function<void(const uint8_t*, size_t)> body;
};

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"json", fuzz::json},
      {"hf_config", fuzz::hf_config},
      {"safetensors", fuzz::safetensors},
      {"npy", fuzz::npy},
      {"model_file", fuzz::model_file},
      {"zip", fuzz::zip},
      {"pickle", fuzz::pickle},
      {"torch_bin", fuzz::torch_bin},
  };
  return t;
}

// Regular files in a folder, sorted; none if it does not exist.
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(path);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

void replay(const Target& t, const std::string& path) {
  std::string bytes = test::slurp(path);
  t.body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

void replay(const char* target, const std::string& bytes) {
  for (const Target& t : targets())
    if (std::string(t.name) == target) return t.body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  FAIL("no fuzz target named " << target);
}

}  // namespace

TEST_CASE("fuzz regressions: every committed seed and saved reproducer runs through its target cleanly") {
  size_t replayed = 0;
  for (const Target& t : targets()) {
    for (const char* kind : {"corpus", "regressions"}) {
      for (const std::string& path : files_in(std::string("tests/fuzz/") + kind + "/" + t.name)) {
        CAPTURE(path);
        CHECK_NOTHROW(replay(t, path));
        ++replayed;
      }
    }
  }
  // The seeds are there (the suite runs from the repository root).
  CHECK(replayed >= 15);
}

TEST_CASE("fuzz regressions: the targets accept empty and one-byte inputs") {
  for (const Target& t : targets()) {
    CAPTURE(t.name);
    CHECK_NOTHROW(replay(t.name, std::string()));
    CHECK_NOTHROW(replay(t.name, std::string(1, '\0')));
    CHECK_NOTHROW(replay(t.name, std::string(1, '{')));
  }
}
