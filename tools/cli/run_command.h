// The `run` command: a model on token ids from a .npy file (run_command.cpp).
#pragma once

namespace nystrom::cli {

// Takes the whole command line (argv[1] is "run"); returns the exit status.
int cmd_run(int argc, char** argv);

}  // namespace nystrom::cli
