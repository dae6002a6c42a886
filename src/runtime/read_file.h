// Reading a whole input file into memory, sized by fstat (never by what the
// file says about itself), for the readers of outside data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nystrom {

// Throws Error naming the file when it cannot be opened, is not a regular
// file, does not fit in memory's address space, or shrinks while read.
std::vector<uint8_t> read_whole_file(const std::string& path);

}  // namespace nystrom
