// Shared helpers for the tests: where the test data and tools are, scratch
// folders, running a tool and capturing its exit code and stderr.
#pragma once
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace test {

// ../shared/testdata/hf relative to the repository root (tests run there);
// NYSTROM_TESTDATA overrides it.
inline std::string testdata_dir() {
  const char* env = std::getenv("NYSTROM_TESTDATA");
  return env ? env : "../shared/testdata/hf";
}

inline std::string build_dir() {
  const char* env = std::getenv("NYSTROM_BUILD");
  return env ? env : "build";
}

inline const std::vector<std::string>& reference_cases() {
  static const std::vector<std::string> cases = {"tiny-mlm", "tiny-exact", "small-cls"};
  return cases;
}

inline bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// A fresh, empty folder removed when the object goes away.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/nystrom-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path = buf.data();
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

struct RunResult {
  int exit_code;
  std::string err;  // stderr
  std::string out;  // stdout
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command line, capturing stdout and stderr separately.
inline RunResult run(const std::string& cmd) {
  TempDir t;
  std::string full = cmd + " >'" + (t / "out") + "' 2>'" + (t / "err") + "'";
  int status = std::system(full.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, slurp(t / "err"), slurp(t / "out")};
}

// What runs before a tool's path on a command line: NYSTROM_TOOL_PREFIX and
// a space (e.g. "qemu-aarch64 " for tools cross-built for another
// architecture), or nothing when it is unset or empty.
inline std::string tool_prefix() {
  const char* env = std::getenv("NYSTROM_TOOL_PREFIX");
  return env && *env ? std::string(env) + " " : std::string();
}

// The start of a command line that runs one of the tools: the prefix, then
// its path in the build folder. Not a path: don't test it with exists().
inline std::string tool(const std::string& name) { return tool_prefix() + build_dir() + "/" + name; }

// max |a - b| over all elements, and max |b|.
struct Diff {
  double max_abs = 0, max_ref = 0;
};
inline Diff diff(const std::vector<float>& a, const std::vector<float>& ref) {
  Diff d;
  for (size_t i = 0; i < a.size() && i < ref.size(); ++i) {
    d.max_abs = std::max(d.max_abs, (double)std::fabs(a[i] - ref[i]));
    d.max_ref = std::max(d.max_ref, (double)std::fabs(ref[i]));
  }
  if (a.size() != ref.size()) d.max_abs = INFINITY;
  return d;
}

// SPEC section 3: max |engine - reference| <= 2e-5 * max|reference| + 1e-5.
inline bool within_spec(const Diff& d) { return d.max_abs <= 2e-5 * d.max_ref + 1e-5; }

inline std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

}  // namespace test
