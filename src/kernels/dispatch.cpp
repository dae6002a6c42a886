// The choice among the levels' kernel tables; the tables are each level's
// own (kernels/<isa>/table.cpp).
//
// Levels are ranked: scalar 0; avx2 and neon 1; neon_dot 2; avx512 3. A cap
// selects the best level of this CPU whose rank is at most the cap's, so a
// cap naming the other architecture's level (neon on x86, avx2 on aarch64)
// means "that rank, at most".
#include "kernels/dispatch.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "kernels/ref/ref.h"
#include "nystrom/nystrom.h"
#include "runtime/cpu_features.h"

#if defined(__x86_64__)
#include "kernels/avx2/avx2.h"
#include "kernels/avx512/avx512.h"
#endif
#if defined(__aarch64__)
#include "kernels/neon/neon.h"
#include "kernels/neon_dot/neon_dot.h"
#endif

namespace nystrom {

namespace {

// The levels this build has, best first.
const Isa kCandidates[] = {
#if defined(__x86_64__)
    Isa::Avx512,
    Isa::Avx2,
#endif
#if defined(__aarch64__)
    Isa::NeonDot,
    Isa::Neon,
#endif
    Isa::Scalar,
};

int rank(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return 0;
    case Isa::Avx2: return 1;
    case Isa::Neon: return 1;
    case Isa::NeonDot: return 2;
    case Isa::Avx512: return 3;
  }
  return 0;
}
constexpr Isa kNoCap = Isa::Avx512;  // the highest rank

// Whether the CPU can run the kernels of `isa` (which must be compiled in).
bool supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  const bool avx2 = f.avx2 && f.fma && f.f16c;
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return avx2;
    case Isa::Avx512: return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
    case Isa::Neon: return f.neon;
    case Isa::NeonDot: return f.neon && f.asimd_dotprod;
  }
  return false;
}

const KernelTable* compiled_table(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return &ref::scalar_kernels();
#if defined(__x86_64__)
    case Isa::Avx2: return &avx2::avx2_kernels();
    case Isa::Avx512: return &avx512::avx512_kernels(cpu_features().avx512bf16);
#endif
#if defined(__aarch64__)
    case Isa::Neon: return &neon::neon_kernels();
    case Isa::NeonDot: return &neon_dot::neon_dot_kernels();
#endif
    default: return nullptr;
  }
}

const KernelTable* best_table(Isa cap) {
  for (Isa isa : kCandidates)
    if (rank(isa) <= rank(cap) && supported(isa)) return compiled_table(isa);
  return &ref::scalar_kernels();
}

// ---------------------------------------------------------------------------
// The level in use

// Chosen on first use (thread-safe static initialization) from the CPU and
// NYSTROM_ISA; set_isa_cap() changes the table later.
struct Selection {
  std::atomic<const KernelTable*> table{nullptr};
  std::string env_warning;  // empty if NYSTROM_ISA was fine or unset

  Selection() {
    Isa cap = kNoCap;
    if (const char* env = std::getenv("NYSTROM_ISA"); env && *env) {
      Isa parsed;
      if (parse_isa(env, &parsed)) {
        cap = parsed;
      } else {
        env_warning = std::string("NYSTROM_ISA=") + env + " is not one of scalar, avx2, avx512, neon, neon_dot";
      }
    }
    table.store(best_table(cap));
  }
};

Selection& selection() {
  static Selection s;
  return s;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
    case Isa::NeonDot: return "neon_dot";
  }
  return "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  // Case-insensitive, so NYSTROM_ISA=AVX2 works too.
  std::string lower = name;
  for (char& ch : lower)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  for (Isa isa : kAllIsas) {
    if (lower == isa_name(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

const KernelTable& kernels() { return *selection().table.load(std::memory_order_acquire); }

Isa set_isa_cap(Isa cap) {
  const KernelTable* table = best_table(cap);
  selection().table.store(table, std::memory_order_release);
  return table->isa;
}

const KernelTable* kernels_for(Isa isa) { return supported(isa) ? compiled_table(isa) : nullptr; }

// What is wrong with NYSTROM_ISA (an unknown value, which the library
// ignores), or null; the library itself never prints, the tools refuse it.
const char* isa_env_warning() {
  const Selection& s = selection();
  return s.env_warning.empty() ? nullptr : s.env_warning.c_str();
}

// The public face of the same choice (include/nystrom/nystrom.h).
InstructionSet set_instruction_set_cap(InstructionSet cap) {
  return static_cast<InstructionSet>(set_isa_cap(static_cast<Isa>(cap)));
}
InstructionSet instruction_set() { return static_cast<InstructionSet>(kernels().isa); }
bool instruction_set_available(InstructionSet isa) { return kernels_for(static_cast<Isa>(isa)) != nullptr; }
const char* instruction_set_name(InstructionSet isa) { return isa_name(static_cast<Isa>(isa)); }
std::optional<InstructionSet> parse_instruction_set(std::string_view name) {
  Isa isa;
  if (!parse_isa(std::string(name), &isa)) return std::nullopt;
  return static_cast<InstructionSet>(isa);
}
const char* instruction_set_env_warning() { return isa_env_warning(); }

}  // namespace nystrom
