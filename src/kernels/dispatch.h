// The choice of kernel table: the best level the CPU supports (runtime/
// cpu_features.h), capped by NYSTROM_ISA=scalar|avx2|avx512|neon|neon_dot or
// set_isa_cap(). Model code never calls the tables directly; kernels/ops.cpp
// does. The tables themselves are each level's (kernels/kernel_table.h).
#pragma once
#include <string>

#include "kernels/kernel_table.h"

namespace nystrom {

const char* isa_name(Isa isa);  // "scalar", "avx2", "avx512", "neon", "neon_dot"
bool parse_isa(const std::string& name, Isa* out);  // any of those names, any case

// Every level, whether or not this build or CPU has it.
constexpr Isa kAllIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon, Isa::NeonDot};

// The table in use: the best the CPU supports, at most the cap.
const KernelTable& kernels();
// Lowers (or raises, up to what the CPU supports) the level in use; returns
// the level actually chosen. Not thread-safe against running sessions.
Isa set_isa_cap(Isa cap);
// The table of one level, or null when it is not compiled in or the CPU
// lacks it (for tests that compare every level with the reference).
const KernelTable* kernels_for(Isa isa);
// A message when NYSTROM_ISA holds an unknown value (then ignored), else null;
// the library prints nothing, the tools print this.
const char* isa_env_warning();

}  // namespace nystrom
