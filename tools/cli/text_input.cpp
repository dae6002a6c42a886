#include "text_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nystrom/io.h"
#include "nystrom/nystrom.h"

namespace nystrom::cli {

const std::set<std::string>& text_value_flags() {
  static const std::set<std::string> flags = {"--model", "--file"};
  return flags;
}
const std::set<std::string>& text_switches() {
  static const std::set<std::string> switches = {"--help", "--truncate", "--verbose"};
  return switches;
}
const std::map<std::string, std::string>& text_aliases() {
  static const std::map<std::string, std::string> aliases = {
      {"-m", "--model"}, {"-f", "--file"}, {"-h", "--help"}, {"-v", "--verbose"}, {"-k", "--top-k"}, {"-o", "--output"}};
  return aliases;
}

const char kTextInputHelp[] =
    "  -m, --model FILE        the .nyf model file, converted with its tokenizer\n"
    "                          (required)\n"
    "  -f, --file FILE         one input per line of FILE ('-': standard input;\n"
    "                          any readable stream, e.g. /dev/stdin or <(...))\n"
    "                          instead of TEXT; a blank line is an error (output\n"
    "                          line i belongs to input line i); LF, CRLF and CR\n"
    "                          each end a line; a line may hold at most 1 MiB\n"
    "      --truncate          cut an input longer than the model's positions\n"
    "                          (special tokens included) to fit, keeping its\n"
    "                          start; without it such an input is an error\n"
    "  -v, --verbose           print load time, tokens, tokens per second and\n"
    "                          peak memory on stderr\n";

const char kTextCommonHelp[] =
    "TEXT that begins with '-' follows `--`. Progress (\"1200/96000 lines\") is\n"
    "shown on stderr when it is a terminal.\n";

static bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\f\v") == std::string::npos; }

// Splits a stream into lines as it is read, so that an over-long line is
// refused after reading just past the limit, not after reading it whole.
class LineReader {
 public:
  LineReader(std::string name, std::vector<TextInput>& out) : name_(std::move(name)), out_(out) {}

  void feed(const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const char c = data[i];
      if (after_cr_ && c == '\n') {  // the LF of a CRLF
        after_cr_ = false;
        continue;
      }
      after_cr_ = c == '\r';
      if (c == '\n' || c == '\r') {
        end_line();
        continue;
      }
      if (line_.size() >= kMaxLineBytes)
        throw Error(where() + ": longer than the limit of " + std::to_string(kMaxLineBytes) + " bytes");
      line_ += c;
    }
  }
  void finish() {
    if (!line_.empty()) end_line();
  }

 private:
  std::string where() const { return name_ + " line " + std::to_string(out_.size() + 1); }
  void end_line() {
    if (blank(line_)) throw Error(where() + ": blank line (every line is one input; remove blank lines)");
    std::string w = where();
    out_.push_back({std::move(line_), std::move(w)});
    line_.clear();
  }

  std::string name_;
  std::vector<TextInput>& out_;
  std::string line_;
  bool after_cr_ = false;
};

std::vector<TextInput> read_text_inputs(const tools::Args& args) {
  const auto& pos = args.positionals();
  if (args.has("--file")) {
    if (!pos.empty()) throw tools::UsageError{"give either TEXT or --file, not both"};
  } else {
    if (pos.empty()) throw tools::UsageError{"no input: give TEXT or --file FILE"};
    if (pos.size() > 1) throw tools::UsageError{"expected one TEXT (quote it), got " + std::to_string(pos.size())};
    if (blank(pos[0])) throw Error("the text is blank");
    if (pos[0].size() > kMaxLineBytes)
      throw Error("the text is longer than the limit of " + std::to_string(kMaxLineBytes) + " bytes");
    return {{pos[0], "the text"}};
  }
  const std::string path = args.get("--file");
  const std::string name = path == "-" ? std::string("standard input") : path;
  // Any readable stream will do (a pipe, /dev/stdin, <(...)), not only a
  // regular file; only a folder is refused.
  const int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() {
      if (fd > 0) ::close(fd);
    }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) throw Error(name + ": is a folder, not a file");
  std::vector<TextInput> inputs;
  LineReader lines(name, inputs);
  std::vector<char> buf(1 << 16);
  for (;;) {
    const ssize_t got = ::read(fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(name + ": read error: " + std::strerror(errno));
    if (got == 0) break;
    lines.feed(buf.data(), (size_t)got);
  }
  lines.finish();
  if (inputs.empty()) throw Error(name + ": no input lines");
  return inputs;
}

}  // namespace nystrom::cli
