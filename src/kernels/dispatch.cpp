// The kernel tables of each instruction set and the choice among them.
//
// Levels are ranked by vector width: scalar < avx2 = neon < avx512. A cap
// selects the best level of this CPU whose rank is at most the cap's, so a
// cap naming the other architecture's level of the same rank (neon on x86,
// avx2 on aarch64) means "that wide, at most".
#include "kernels/dispatch.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "kernels/quant.h"
#include "kernels/ref/qgemm.h"
#include "kernels/ref/ref.h"
#include "runtime/cpu_features.h"

#if defined(__x86_64__)
#include "kernels/avx2/avx2.h"
#include "kernels/avx512/avx512.h"
#endif
#if defined(__aarch64__)
#include "kernels/neon/neon.h"
#endif

namespace nystrom {

namespace {

// ---------------------------------------------------------------------------
// Tables

const KernelTable kScalarTable = {
    Isa::Scalar,      ref::kGemmMR,        ref::kGemmNR,      ref::gemm_ukernel_4x8,
    ref::softmax_row, ref::layer_norm_row, ref::bias_act_row,
    ref::segment_means,  ref::depthwise_conv_add,
    ref::kQGemmLayout,   ref::qgemm_q8_ukernel_4x16, ref::qgemm_q4_ukernel_4x16,
    quantize_row_q8_act, ref::f16_to_f32_row,
    ref::pack_panel,
};

#if defined(__x86_64__)
const KernelTable kAvx2Table = {
    Isa::Avx2,         avx2::kGemmMR,        avx2::kGemmNR,      avx2::gemm_ukernel_6x16,
    avx2::softmax_row, avx2::layer_norm_row, avx2::bias_act_row,
    avx2::segment_means,  avx2::depthwise_conv_add,
    avx2::kQGemmLayout,   avx2::qgemm_q8_ukernel_4x16, avx2::qgemm_q4_ukernel_4x16,
    avx2::quantize_act_row, avx2::f16_to_f32_row,
    avx2::pack_panel,
};
const KernelTable kAvx512Table = {
    Isa::Avx512,         avx512::kGemmMR,        avx512::kGemmNR,      avx512::gemm_ukernel_12x32,
    avx512::softmax_row, avx512::layer_norm_row, avx512::bias_act_row,
    avx512::segment_means,  avx512::depthwise_conv_add,
    avx512::kQGemmLayout,   avx512::qgemm_q8_ukernel_6x32, avx512::qgemm_q4_ukernel_6x32,
    avx512::quantize_act_row, avx512::f16_to_f32_row,
    avx2::pack_panel,  // SSE transposes, shared with the AVX2 level
};
#endif

#if defined(__aarch64__)
const KernelTable kNeonTable = {
    Isa::Neon,         neon::kGemmMR,        neon::kGemmNR,      neon::gemm_ukernel_8x12,
    neon::softmax_row, neon::layer_norm_row, neon::bias_act_row,
    neon::segment_means,  neon::depthwise_conv_add,
    neon::kQGemmLayout,   neon::qgemm_q8_ukernel_4x16, neon::qgemm_q4_ukernel_4x16,
    neon::quantize_act_row, neon::f16_to_f32_row,
    neon::pack_panel,
};
#endif

// The levels this build has, best first.
const Isa kCandidates[] = {
#if defined(__x86_64__)
    Isa::Avx512,
    Isa::Avx2,
#endif
#if defined(__aarch64__)
    Isa::Neon,
#endif
    Isa::Scalar,
};

int rank(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return 0;
    case Isa::Avx2: return 1;
    case Isa::Neon: return 1;
    case Isa::Avx512: return 2;
  }
  return 0;
}

// Whether the CPU can run the kernels of `isa` (which must be compiled in).
bool supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  const bool avx2 = f.avx2 && f.fma && f.f16c;
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return avx2;
    case Isa::Avx512: return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
    case Isa::Neon: return f.neon;
  }
  return false;
}

const KernelTable* compiled_table(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return &kScalarTable;
#if defined(__x86_64__)
    case Isa::Avx2: return &kAvx2Table;
    case Isa::Avx512: return &kAvx512Table;
#endif
#if defined(__aarch64__)
    case Isa::Neon: return &kNeonTable;
#endif
    default: return nullptr;
  }
}

const KernelTable* best_table(Isa cap) {
  for (Isa isa : kCandidates)
    if (rank(isa) <= rank(cap) && supported(isa)) return compiled_table(isa);
  return &kScalarTable;
}

// ---------------------------------------------------------------------------
// The level in use

// Chosen on first use (thread-safe static initialization) from the CPU and
// NYSTROM_ISA; set_isa_cap() changes the table later.
struct Selection {
  std::atomic<const KernelTable*> table{nullptr};
  std::string env_warning;  // empty if NYSTROM_ISA was fine or unset

  Selection() {
    Isa cap = Isa::Avx512;  // the highest rank: no cap
    if (const char* env = std::getenv("NYSTROM_ISA"); env && *env) {
      Isa parsed;
      if (parse_isa(env, &parsed)) {
        cap = parsed;
      } else {
        env_warning = std::string("NYSTROM_ISA=") + env + " is not one of scalar, avx2, avx512, neon";
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
  }
  return "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  // Case-insensitive, so NYSTROM_ISA=AVX2 works too.
  std::string lower = name;
  for (char& ch : lower)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
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
const char* instruction_set_name(InstructionSet isa) { return isa_name(static_cast<Isa>(isa)); }

}  // namespace nystrom
