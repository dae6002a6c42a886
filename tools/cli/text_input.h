// The inputs of the text commands (tokenize, classify, fill-mask, embed): one
// TEXT, or one per line of a file, each with where it came from; and the
// flags and help lines every text command shares.
#pragma once
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

// TEXT (the one positional) or the lines of -f FILE. A blank input is an
// error rather than skipped, so that outputs stay aligned with input lines.
std::vector<TextInput> read_text_inputs(const tools::Args& args);

}  // namespace nystrom::cli
