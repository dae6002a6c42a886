// The avx512 level's table (constant data only: nothing here runs before the
// CPU check).
#include "kernels/avx2/avx2.h"
#include "kernels/avx512/avx512.h"

namespace nystrom::avx512 {

namespace {

constexpr KernelTable table_with(Bf16ConvertRow convert, Bf16InterleaveRows interleave, Bf16MicroKernel bf16_kernel) {
  return {
      Isa::Avx512,         kGemmBlocks,    kQGemmLayout,          kQGemmBlocks,  kBf16Layout,
      gemm_ukernel_12x32,  gemm_ukernel_rows_12x32, avx2::pack_panel,  // SSE transposes, shared with the avx2 level
      softmax_row,         layer_norm_row, bias_act_rows,          segment_means,
      depthwise_conv_add,  qgemm_q8_ukernel_6x32, qgemm_q4_ukernel_6x32, qgemm_q8c_ukernel_12x32, quantize_act_row, quantize_act_row_c,
      f16_to_f32_row,      fma_peak_loop,  int8_peak_loop, qgemm_q8c_ukernel_epilogue_12x32,
      gemm_ukernel_epilogue_12x32,
      convert,             interleave,     bf16_kernel,
  };
}

const KernelTable kTable = table_with(bf16_convert_row, bf16_interleave_rows, gemm_bf16_ukernel_12x32);
const KernelTable kTableEmulatedBf16 =
    table_with(bf16_convert_row_emulated, bf16_interleave_rows_emulated, gemm_bf16_ukernel_emulated_12x32);

}  // namespace

const KernelTable& avx512_kernels(bool native_bf16) { return native_bf16 ? kTable : kTableEmulatedBf16; }

}  // namespace nystrom::avx512
