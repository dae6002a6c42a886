// The scalar level's table: the reference kernels themselves.
#include "kernels/quant.h"
#include "kernels/ref/ref.h"

namespace nystrom::ref {

namespace {

// The cache blocks measured for the SIMD levels (docs/TUNING.md); at scalar
// speed any of them does.
constexpr GemmBlocks kGemmBlocks = {kGemmMR, kGemmNR, 768, 144, 4096};
constexpr QGemmBlocks kQGemmBlocks = {32, 96};

const KernelTable kTable = {
    Isa::Scalar,       kGemmBlocks,       kQGemmLayout,          kQGemmBlocks,  kBf16Layout,
    gemm_ukernel_4x8,  gemm_ukernel_rows_4x8, pack_panel,        softmax_row,           layer_norm_row,
    bias_act_rows,      segment_means,     depthwise_conv_add,    qgemm_q8_ukernel_4x16,
    qgemm_q4_ukernel_4x16, qgemm_q8c_ukernel_4x16, quantize_row_q8_act, quantize_row_q8c_act, f16_to_f32_row,  fma_peak_loop,
    nullptr,  // no 8-bit dot-product loop
    nullptr,  // qgemm applies the epilogue after the micro-kernel
    nullptr,  // and gemm too
    bf16_convert_row,  bf16_interleave_rows,  gemm_bf16_ukernel,
};

}  // namespace

const KernelTable& scalar_kernels() { return kTable; }

}  // namespace nystrom::ref
