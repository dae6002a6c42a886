// Shared helpers for the tests: where the test data and tools are, scratch
// folders and files, running a tool and capturing its exit code and stderr,
// errors as text and checks on their messages, random inputs.
#pragma once
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "nystrom/nystrom.h"

namespace test {

// tests/data/hf relative to the repository root (tests run there);
// NYSTROM_TESTDATA overrides it.
inline std::string testdata_dir() {
  const char* env = std::getenv("NYSTROM_TESTDATA");
  return env ? env : "tests/data/hf";
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

// The bytes of a file; one that cannot be read fails the test.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes bytes to path (replacing it); a failed write fails the test.
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

// A file under TMPDIR with a name no other one in this process has, removed
// when the object goes away; given bytes, it holds them.
struct TempFile {
  std::string path;
  TempFile() {
    static int counter = 0;
    const char* dir = std::getenv("TMPDIR");
    path = std::string(dir && *dir ? dir : "/tmp") + "/nystrom-test-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
  }
  explicit TempFile(const std::string& bytes) : TempFile() { write_file(path, bytes); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { std::remove(path.c_str()); }
};

// text split at '\n' only (other line separators stay inside lines); a
// final '\n' ends the last line rather than starting an empty one.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Runs a shell command line, capturing stdout and stderr separately.
inline RunResult run(const std::string& cmd) {
  TempDir t;
  std::string full = cmd + " >'" + (t / "out") + "' 2>'" + (t / "err") + "'";
  int status = std::system(full.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, slurp(t / "err"), slurp(t / "out")};
}

// s as one shell word: in single quotes, each ' written as '\''.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// What runs before a tool's path on a command line: NYSTROM_TOOL_PREFIX and
// a space (e.g. "qemu-aarch64 " for tools cross-built for another
// architecture), or nothing when it is unset or empty.
inline std::string tool_prefix() {
  const char* env = std::getenv("NYSTROM_TOOL_PREFIX");
  return env && *env ? std::string(env) + " " : std::string();
}

// Whether this suite runs under an emulator: the aarch64 runs under
// qemu-user set NYSTROM_TOOL_PREFIX (the Makefile's test-aarch64) for the
// tools they start. A few cases run less there (each says what and why).
inline bool under_emulator() { return !tool_prefix().empty(); }

// NYSTROM_TEST_SANITIZED: 1 where this suite was built with
// AddressSanitizer or ThreadSanitizer (make test-asan, test-tsan; GCC and
// clang say so differently), else 0. A macro for what must not even be
// compiled there; under_sanitizer() for the rest.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NYSTROM_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NYSTROM_TEST_SANITIZED 1
#endif
#endif
#ifndef NYSTROM_TEST_SANITIZED
#define NYSTROM_TEST_SANITIZED 0
#endif
inline bool under_sanitizer() { return NYSTROM_TEST_SANITIZED; }

// Either of the two: where each check costs 5 to 50 times its native time
// and looks for something else (instruction-set code, memory and thread
// errors), so that repeats which only add numerics the native suite
// already checks in full run less (each case says which).
inline bool emulated_or_sanitized() { return under_emulator() || under_sanitizer(); }

// The start of a command line that runs one of the tools: the prefix, then
// its path in the build folder. Not a path: don't test it with exists().
inline std::string tool(const std::string& name) { return tool_prefix() + build_dir() + "/" + name; }

// nystrom-convert CKPT -o OUT.
inline RunResult convert(const std::string& ckpt, const std::string& out) {
  return run(tool("nystrom-convert") + " " + quote(ckpt) + " -o " + quote(out));
}

// The message of the nystrom::Error that f throws, or "(no error)".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const nystrom::Error& e) {
    return e.what();
  }
  return "(no error)";
}

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

// The cosine of the angle between a and b; NaN (no comparison holds) when
// their sizes differ.
inline double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return NAN;
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

// Whether a and b hold the same floats bit for bit (NaNs included).
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  // An empty vector's data() may be null, which memcmp must not see.
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

inline std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// n token ids drawn uniformly from [0, vocab).
inline std::vector<int32_t> random_ids(size_t n, uint32_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> u(0, (int32_t)vocab - 1);
  std::vector<int32_t> ids(n);
  for (int32_t& id : ids) id = u(rng);
  return ids;
}

}  // namespace test

// The string `message` holds `phrase`; the message is shown when it does not.
#define CHECK_CONTAINS(message, phrase)            \
  do {                                             \
    const std::string msg_ = (message);            \
    INFO("message: " << msg_);                     \
    CHECK(msg_.find(phrase) != std::string::npos); \
  } while (0)

// expr throws a nystrom::Error whose message holds `phrase`.
#define CHECK_ERROR(expr, phrase) CHECK_CONTAINS(test::error_of([&] { (void)(expr); }), phrase)
