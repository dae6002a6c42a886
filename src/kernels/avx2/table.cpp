// The avx2 level's table (constant data only: nothing here runs before the
// CPU check).
#include "kernels/quant.h"
#include "kernels/avx2/avx2.h"

namespace nystrom::avx2 {

namespace {

const KernelTable kTable = {
    Isa::Avx2,          kGemmBlocks,    kQGemmLayout,          kQGemmBlocks,  kBf16Layout,
    gemm_ukernel_6x16,  gemm_ukernel_rows_6x16, pack_panel,     softmax_row,           layer_norm_row,
    bias_act_rows,       segment_means,  depthwise_conv_add,    qgemm_q8_ukernel_4x16,
    qgemm_q4_ukernel_4x16, qgemm_q8c_ukernel_4x16, quantize_act_row, nystrom::quantize_row_q8c_act, f16_to_f32_row,   fma_peak_loop,
    nullptr,  // no VNNI at this level
    nullptr,  // qgemm applies the epilogue after the micro-kernel
    nullptr,  // and gemm too
    bf16_convert_row,    bf16_interleave_rows, gemm_bf16_ukernel_4x16,  // no bf16 instructions: f32 FMAs
};

}  // namespace

const KernelTable& avx2_kernels() { return kTable; }

}  // namespace nystrom::avx2
