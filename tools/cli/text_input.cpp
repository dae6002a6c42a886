#include "text_input.h"

#include <iostream>
#include <iterator>

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
    "  -f, --file FILE         one input per line of FILE ('-': standard input)\n"
    "                          instead of TEXT; a blank line is an error (output\n"
    "                          line i belongs to input line i); CRLF is accepted\n"
    "      --truncate          cut an input longer than the model's positions\n"
    "                          (special tokens included) to fit, keeping its\n"
    "                          start; without it such an input is an error\n"
    "  -v, --verbose           print load time, tokens, tokens per second and\n"
    "                          peak memory on stderr\n";

const char kTextCommonHelp[] =
    "TEXT that begins with '-' follows `--`. Progress (\"1200/96000 lines\") is\n"
    "shown on stderr when it is a terminal.\n";

static bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\f\v") == std::string::npos; }

std::vector<TextInput> read_text_inputs(const tools::Args& args) {
  const auto& pos = args.positionals();
  if (args.has("--file")) {
    if (!pos.empty()) throw tools::UsageError{"give either TEXT or --file, not both"};
  } else {
    if (pos.empty()) throw tools::UsageError{"no input: give TEXT or --file FILE"};
    if (pos.size() > 1) throw tools::UsageError{"expected one TEXT (quote it), got " + std::to_string(pos.size())};
    if (blank(pos[0])) throw Error("the text is blank");
    return {{pos[0], "the text"}};
  }
  const std::string path = args.get("--file");
  std::string data;
  if (path == "-") {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) throw Error("standard input: read error");
  } else {
    std::vector<uint8_t> bytes = read_whole_file(path);
    data.assign(bytes.begin(), bytes.end());
  }
  const std::string name = path == "-" ? std::string("standard input") : path;
  std::vector<TextInput> inputs;
  size_t start = 0, line = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    std::string text = data.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    ++line;
    std::string where = name + " line " + std::to_string(line);
    if (blank(text)) throw Error(where + ": blank line (every line is one input; remove blank lines)");
    inputs.push_back({std::move(text), std::move(where)});
    start = end + 1;
  }
  if (inputs.empty()) throw Error(name + ": no input lines");
  return inputs;
}

}  // namespace nystrom::cli
