// The inputs of the text commands (tokenize, classify, fill-mask, embed): one
// TEXT, or one per line of a file, each with where it came from; and the
// flags and help lines every text command shares.
#pragma once
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../common/args.h"

namespace nystrom::cli {

// The flags every text command takes, besides its own and the run options.
const std::set<std::string>& text_value_flags();
const std::set<std::string>& text_switches();
const std::map<std::string, std::string>& text_aliases();

// The help lines of those flags, and the note that ends every text
// command's help.
extern const char kTextInputHelp[];
extern const char kTextCommonHelp[];

// The longest input line (and TEXT), in bytes: bounds the memory one input
// can take before tokenizing even starts.
constexpr size_t kMaxLineBytes = size_t(1) << 20;

// One input and where it came from, for messages ("reviews.txt line 3").
struct TextInput {
  std::string text;
  std::string where;
};

// TEXT (the one positional) or the lines of -f FILE, handed out one at a
// time. A blank input is an error rather than skipped, so that outputs stay
// aligned with input lines.
class TextSource {
 public:
  // Usage errors first, then opens the file (a folder is refused).
  explicit TextSource(const tools::Args& args);
  // The lines of a file ('-': standard input).
  explicit TextSource(const std::string& path);
  ~TextSource();
  TextSource(const TextSource&) = delete;
  TextSource& operator=(const TextSource&) = delete;

  // Anything but TEXT or a regular file (a pipe, a terminal, a FIFO): its
  // lines are read as they come, so that each can be answered before the
  // next is read. A regular file may be read whole first.
  bool streaming() const { return streaming_; }
  // The next input; false after the last one. Throws Error naming the line
  // for a blank or over-long one, a read error, or an input with no lines.
  bool next(TextInput& in);

 private:
  void open(const std::string& path);
  void end_line();
  int fd_ = -1;
  bool streaming_ = false, eof_ = false, after_cr_ = false;
  std::string name_, line_;
  size_t lines_ = 0, handed_ = 0;
  std::vector<TextInput> ready_;  // complete lines not handed out yet
  std::vector<char> buf_;
};

}  // namespace nystrom::cli
