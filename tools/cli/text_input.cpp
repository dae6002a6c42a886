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
    "                          each end a line; a line may hold at most 1 MiB.\n"
    "                          A stream is answered line by line (each answer\n"
    "                          is flushed before the next line is read); a\n"
    "                          regular file is checked whole before any answer\n"
    "      --truncate          cut an input longer than the model's positions\n"
    "                          (special tokens included) to fit, keeping its\n"
    "                          start; without it such an input is an error\n"
    "  -v, --verbose           print which attention runs and why, load time,\n"
    "                          tokens, tokens per second and peak memory on\n"
    "                          stderr\n";

const char kTextCommonHelp[] =
    "TEXT that begins with '-' follows `--`. Progress (\"1200/96000 lines\") is\n"
    "shown on stderr when it is a terminal.\n";

static bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\f\v") == std::string::npos; }

TextSource::TextSource(const tools::Args& args) {
  const auto& pos = args.positionals();
  if (!args.has("--file")) {
    if (pos.empty()) throw tools::UsageError{"no input: give TEXT or --file FILE"};
    if (pos.size() > 1) throw tools::UsageError{"expected one TEXT (quote it), got " + std::to_string(pos.size())};
    if (blank(pos[0])) throw Error("the text is blank");
    if (pos[0].size() > kMaxLineBytes)
      throw Error("the text is longer than the limit of " + std::to_string(kMaxLineBytes) + " bytes");
    ready_.push_back({pos[0], "the text"});
    eof_ = true;
    return;
  }
  if (!pos.empty()) throw tools::UsageError{"give either TEXT or --file, not both"};
  open(args.get("--file"));
}

TextSource::TextSource(const std::string& path) { open(path); }

void TextSource::open(const std::string& path) {
  name_ = path == "-" ? std::string("standard input") : path;
  // Any readable stream will do (a pipe, /dev/stdin, <(...)), not only a
  // regular file; only a folder is refused.
  fd_ = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) throw Error(name_ + ": is a folder, not a file");
  streaming_ = !(::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode));
  buf_.resize(size_t(1) << 16);
}

TextSource::~TextSource() {
  if (fd_ > 0) ::close(fd_);
}

bool TextSource::next(TextInput& in) {
  // Splits the stream into lines as it is read, so that an over-long line
  // is refused after reading just past the limit, and a line is handed out
  // as soon as its end arrives (read returns what a pipe holds).
  while (handed_ == ready_.size() && !eof_) {
    ready_.clear(), handed_ = 0;
    const ssize_t got = ::read(fd_, buf_.data(), buf_.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(name_ + ": read error: " + std::strerror(errno));
    if (got == 0) {
      eof_ = true;
      if (!line_.empty()) end_line();
      if (lines_ == 0) throw Error(name_ + ": no input lines");
      break;
    }
    for (ssize_t i = 0; i < got; ++i) {
      const char c = buf_[(size_t)i];
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
        throw Error(name_ + " line " + std::to_string(lines_ + 1) + ": longer than the limit of " +
                    std::to_string(kMaxLineBytes) + " bytes");
      line_ += c;
    }
  }
  if (handed_ == ready_.size()) return false;
  in = std::move(ready_[handed_++]);
  return true;
}

void TextSource::end_line() {
  const std::string where = name_ + " line " + std::to_string(++lines_);
  if (blank(line_)) throw Error(where + ": blank line (every line is one input; remove blank lines)");
  ready_.push_back({std::move(line_), where});
  line_.clear();
}

}  // namespace nystrom::cli
