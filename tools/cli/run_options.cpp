#include "run_options.h"

#include "../common/attention_flags.h"

namespace nystrom::cli {

const std::set<std::string>& run_value_flags() {
  static const std::set<std::string> flags = {"--landmarks", "--attention", "--threads", "--isa",
                                              "--attention-precision"};
  return flags;
}

const std::set<std::string>& run_switches() {
  static const std::set<std::string> switches = {"--no-verify"};
  return switches;
}

std::set<std::string> with(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

const char kRunOptionsHelp[] =
    "      --landmarks M       Nystrom landmark count (default: the model's);\n"
    "                          giving it selects Nystrom attention under auto\n"
    "      --attention MODE    auto (default: the checkpoint's rule, exact when\n"
    "                          num_landmarks == segment_means_seq_len), nystrom\n"
    "                          or exact; inputs of at most M tokens always run\n"
    "                          exact attention\n"
    "      --attention-precision P\n"
    "                          f32 (default), int8 or bf16: the arithmetic of the\n"
    "                          Nystrom products; int8: Q K~^T, Q~ K^T and B V with\n"
    "                          8-bit operands (needs a head size that is a\n"
    "                          multiple of 32); bf16: all five with bfloat16\n"
    "                          operands, fast where the CPU has AVX-512 BF16\n"
    "      --threads N         worker threads (default: the CPUs this process may\n"
    "                          use; more than those are capped to them, said\n"
    "                          under --verbose); outputs are identical for every N\n"
    "      --no-verify         skip the model file's checksum at load (the header,\n"
    "                          table and sizes are still checked)\n"
    "      --isa LEVEL         cap the kernels' instruction set: scalar, avx2,\n"
    "                          avx512, neon or neon_dot, one this build and CPU\n"
    "                          have (default: the best this CPU has; also NYSTROM_ISA)\n";

RunOptions parse_run_options(const tools::Args& args) {
  RunOptions opt;
  opt.landmarks = (uint32_t)args.get_int("--landmarks", 0, 1, kMaxLandmarks);
  opt.threads = (int)args.get_int("--threads", 0, 1, 1024);
  opt.attention_precision = tools::parse_attention_precision(args);
  opt.attention = tools::parse_attention_mode(args);
  if (args.has("--isa")) {
    // Only the levels this build has and this CPU runs: asking for another
    // must not quietly run something else.
    std::string available;
    for (InstructionSet isa : {InstructionSet::Scalar, InstructionSet::Avx2, InstructionSet::Avx512,
                               InstructionSet::Neon, InstructionSet::NeonDot})
      if (instruction_set_available(isa))
        available += std::string(available.empty() ? "" : ", ") + instruction_set_name(isa);
    const std::optional<InstructionSet> cap = parse_instruction_set(args.get("--isa"));
    if (!cap || !instruction_set_available(*cap))
      throw tools::UsageError{"--isa " + args.get("--isa") + " is not available here (this build and CPU have: " +
                              available + ")"};
    set_instruction_set_cap(*cap);
  }
  return opt;
}

OpenOptions parse_open_options(const tools::Args& args) {
  OpenOptions o;
  o.verify_checksum = !args.has("--no-verify");
  o.threads = (int)args.get_int("--threads", 0, 1, 1024);  // load with the threads the run uses
  return o;
}

}  // namespace nystrom::cli
