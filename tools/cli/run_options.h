// The options every command that runs the model shares: attention, landmarks,
// threads, precision, instruction set and checksum, parsed the same way (and
// described by the same help text) for `run` and the text commands.
#pragma once
#include <set>
#include <string>

#include "../common/args.h"
#include "nystrom/nystrom.h"

namespace nystrom::cli {

// The shared flags that take a value, and those that take none.
const std::set<std::string>& run_value_flags();
const std::set<std::string>& run_switches();

// a and b together: a command's own flags plus the shared ones.
std::set<std::string> with(std::set<std::string> a, const std::set<std::string>& b);

// The help lines of the shared options.
extern const char kRunOptionsHelp[];

// The session options the flags ask for. Applies --isa at once: the cap must
// be set before the model is opened (quantized weights are repacked then).
RunOptions parse_run_options(const tools::Args& args);

OpenOptions parse_open_options(const tools::Args& args);

}  // namespace nystrom::cli
