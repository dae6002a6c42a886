// `-f -` and `run --ids -` stream: each line is answered (and the answer
// flushed) before the next line is read. The test holds the pipe's writing
// end and writes line 2 only after it has read answer 1, so a command that
// read its input to the end first would never answer: the read times out
// and the test fails.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "cli_support.h"
#include "nystrom/nystrom.h"
#include "runtime/json.h"
#include "support.h"

namespace {

using clitest::converted;
using test::quote;

// A command whose standard input and output are pipes held here.
class Piped {
 public:
  explicit Piped(const std::string& command) {
    int in[2], out[2];
    REQUIRE(::pipe(in) == 0);
    REQUIRE(::pipe(out) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(in[0], 0), ::dup2(out[1], 1);
      ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
      ::execl("/bin/sh", "sh", "-c", command.c_str(), (char*)nullptr);
      ::_exit(127);
    }
    ::close(in[0]), ::close(out[1]);
    to_ = in[1], from_ = out[0];
  }
  ~Piped() {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void write_line(const std::string& line) {
    const std::string s = line + "\n";
    REQUIRE(::write(to_, s.data(), s.size()) == (ssize_t)s.size());
  }
  // The next line of output, or nothing when none comes within timeout_s.
  bool read_line(std::string& line, double timeout_s) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, (int)left.count()) <= 0) continue;
      char chunk[4096];
      const ssize_t got = ::read(from_, chunk, sizeof chunk);
      if (got <= 0) return false;
      buf_.append(chunk, (size_t)got);
    }
  }
  // Closes the input and waits: the exit status.
  int finish() {
    ::close(to_);
    to_ = -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
};

// Generous: the model loads and answers in milliseconds, but the machine
// may be loaded (or emulated).
constexpr double kTimeout = 60;

// Writes each input only once the answer to the one before it has arrived.
std::vector<std::string> converse(const std::string& args, const std::vector<std::string>& inputs) {
  Piped p(test::tool("nystrom") + " " + args);
  std::vector<std::string> answers;
  for (const std::string& in : inputs) {
    p.write_line(in);
    std::string line;
    REQUIRE_MESSAGE(p.read_line(line, kTimeout), "no answer to '" << in << "' before the next line was written");
    answers.push_back(line);
  }
  CHECK(p.finish() == 0);
  return answers;
}

}  // namespace

TEST_CASE("cli stream: -f - answers each line before reading the next, for every text command") {
  const std::string cls = converted("small-cls"), mlm = converted("tiny-mlm");
  auto model = nystrom::Model::open(cls);
  const nystrom::Tokenizer* tok = model->tokenizer();
  const std::vector<std::string> texts = {"the cat sat", "a very good movie", "it was bad"};

  const std::vector<std::string> ids = converse("tokenize -m " + quote(cls) + " -f -", texts);
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string expected;
    for (int32_t id : tok->encode(texts[i])) expected += (expected.empty() ? "" : " ") + std::to_string(id);
    CHECK(ids[i] == expected);
  }
  // Each answer matches what the same command gives the whole input at once.
  test::TempDir dir;
  std::string all;
  for (const std::string& t : texts) all += t + "\n";
  test::write_file(dir / "in.txt", all);
  for (const std::string& cmd : {"classify --json -m " + quote(cls), "classify -m " + quote(cls),
                                 "embed -m " + quote(cls), "tokenize --json -m " + quote(cls)}) {
    CAPTURE(cmd);
    const std::vector<std::string> streamed = converse(cmd + " -f -", texts);
    const test::RunResult whole = clitest::nystrom_cli(cmd + " -f " + quote(dir / "in.txt"));
    REQUIRE_MESSAGE(whole.exit_code == 0, whole.err);
    CHECK(streamed == test::lines_of(whole.out));
  }
  const std::vector<std::string> masks = converse("fill-mask --json -k 2 -m " + quote(mlm) + " -f -",
                                                  {"the [MASK] sat", "a [MASK] dog"});
  for (const std::string& m : masks) CHECK(nystrom::parse_json(m, "fill-mask").array.size() == 1);
}

TEST_CASE("cli stream: run --ids - answers each line of ids before reading the next") {
  const std::string cls = converted("small-cls");
  const std::vector<std::string> answers = converse("run --json --ids - -m " + quote(cls), {"2 5 6 3", "2 7 3"});
  CHECK(nystrom::parse_json(answers[0], "run").find("n")->as_int("n") == 4);
  CHECK(nystrom::parse_json(answers[1], "run").find("n")->as_int("n") == 3);
}

TEST_CASE("cli stream: a bad streamed line stops the command after the answers before it") {
  const std::string cls = converted("small-cls");
  Piped p(test::tool("nystrom") + " classify -m " + quote(cls) + " -f - 2>/dev/null");
  p.write_line("the cat");
  std::string line;
  REQUIRE(p.read_line(line, kTimeout));
  p.write_line("   ");
  CHECK(p.finish() == 1);
  CHECK_FALSE(p.read_line(line, 1));
}
