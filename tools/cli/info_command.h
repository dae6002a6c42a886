// The `info` command: what a .nyf model file holds and what running it
// costs (info_command.cpp).
#pragma once

namespace nystrom::cli {

// Takes the whole command line (argv[1] is "info"); returns the exit status.
int cmd_info(int argc, char** argv);

}  // namespace nystrom::cli
