// The neon level's table.
#include "kernels/quant.h"
#include "kernels/neon/neon.h"

namespace nystrom::neon {

namespace {

const KernelTable kTable = {
    Isa::Neon,          kGemmBlocks,    kQGemmLayout,          kQGemmBlocks,  kBf16Layout,
    gemm_ukernel_8x12,  gemm_ukernel_rows_8x12, pack_panel,     softmax_row,           layer_norm_row,
    bias_act_rows,       segment_means,  depthwise_conv_add,    qgemm_q8_ukernel_4x16,
    qgemm_q4_ukernel_4x16, qgemm_q8c_ukernel_4x16, quantize_act_row, nystrom::quantize_row_q8c_act, f16_to_f32_row,   fma_peak_loop,
    nullptr,  // no 8-bit peak loop
    nullptr,  // qgemm applies the epilogue after the micro-kernel
    nullptr,  // and gemm too
    bf16_convert_row,    bf16_interleave_rows, gemm_bf16_ukernel_4x16,  // f32 FMAs (BFDOT rounds otherwise)
};

}  // namespace

const KernelTable& neon_kernels() { return kTable; }

}  // namespace nystrom::neon
