// Measurements in a fresh process: this binary run again with other
// arguments, so that a figure such as peak memory is that run's own.
#pragma once
#include <string>
#include <vector>

namespace nystrom::benchtool {

// Runs `self` with `args` (fork and exec, no shell: a path holding spaces or
// metacharacters is just a path) and reads the numbers it prints on stdout;
// empty when the child fails or prints fewer than `count` numbers.
std::vector<double> child_numbers(const std::string& self, const std::vector<std::string>& args, size_t count);

}  // namespace nystrom::benchtool
