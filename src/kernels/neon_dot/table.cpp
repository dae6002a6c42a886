// The neon_dot level's table: neon's, with the SDOT integer micro-kernels.
#include "kernels/neon/neon.h"
#include "kernels/neon_dot/neon_dot.h"

namespace nystrom::neon_dot {

const KernelTable& neon_dot_kernels() {
  static const KernelTable table = [] {
    KernelTable t = neon::neon_kernels();
    t.isa = Isa::NeonDot;
    t.qgemm_q8_ukernel = qgemm_q8_ukernel_4x16;
    t.qgemm_q4_ukernel = qgemm_q4_ukernel_4x16;
    t.qgemm_q8c_ukernel = qgemm_q8c_ukernel_4x16;
    return t;
  }();
  return table;
}

}  // namespace nystrom::neon_dot
