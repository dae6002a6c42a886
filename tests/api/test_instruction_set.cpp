// The instruction-set names of the public API (include/nystrom/nystrom.h),
// which --isa and the C API take.
#include <doctest/doctest.h>

#include <string>

#include "nystrom/nystrom.h"

using nystrom::InstructionSet;

TEST_CASE("instruction sets: each level's name parses back to it, in any case") {
  for (InstructionSet isa : {InstructionSet::Scalar, InstructionSet::Avx2, InstructionSet::Avx512, InstructionSet::Neon,
                             InstructionSet::NeonDot}) {
    const std::string name = nystrom::instruction_set_name(isa);
    CAPTURE(name);
    CHECK(nystrom::parse_instruction_set(name) == isa);
    std::string upper = name;
    for (char& c : upper) c = (char)std::toupper((unsigned char)c);
    CHECK(nystrom::parse_instruction_set(upper) == isa);
  }
  CHECK(std::string(nystrom::instruction_set_name(InstructionSet::Avx512)) == "avx512");
  CHECK(std::string(nystrom::instruction_set_name(InstructionSet::NeonDot)) == "neon_dot");
}

TEST_CASE("instruction sets: an unknown name parses to nothing") {
  for (const char* bad : {"", "sse", "avx", "avx-512", " avx2", "avx2 ", "scalar\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(nystrom::parse_instruction_set(bad).has_value());
  }
}

TEST_CASE("instruction sets: the NYSTROM_ISA warning is absent, or names the variable on one line") {
  const char* w = nystrom::instruction_set_env_warning();
  if (w) {
    const std::string s = w;
    CHECK(s.find("NYSTROM_ISA") != std::string::npos);
    CHECK(s.find('\n') == std::string::npos);
  }
}
