// The kernel workloads of include/nystrom/kernel_bench.h, on the internal
// kernel tables: nystrom-bench times them without reaching past the public
// headers.
#include "nystrom/kernel_bench.h"

#include <cstring>
#include <random>

#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/peak.h"
#include "kernels/quant.h"
#include "runtime/cpu_features.h"
#include "runtime/error.h"
#include "runtime/thread_pool.h"

namespace nystrom::bench {

namespace {

const KernelTable& table_of(InstructionSet isa) {
  const KernelTable* t = kernels_for(static_cast<Isa>(isa));
  if (!t) fail("kernel workload: ", instruction_set_name(isa), " is not available on this CPU or in this build");
  return *t;
}

void check_threads(int threads) {
  if (threads < 1 || threads > 1024) fail("kernel workload: threads must be 1..1024, got ", threads);
}

}  // namespace

std::vector<InstructionSet> available_instruction_sets() {
  std::vector<InstructionSet> out;
  for (Isa isa : {Isa::Avx512, Isa::NeonDot, Isa::Avx2, Isa::Neon, Isa::Scalar})
    if (kernels_for(isa)) out.push_back(static_cast<InstructionSet>(isa));
  return out;
}

std::string cpu_description() { return describe(cpu_features()); }

int available_threads() { return default_thread_count(); }

// ---------------------------------------------------------------------------

struct PeakWorkload::Impl {
  Impl(Isa isa, int threads, bool int8) : isa(isa), int8(int8), pool(threads), sink(16 * threads), isink(16 * threads) {}
  Isa isa;
  bool int8;
  ThreadPool pool;
  std::vector<float> sink;
  std::vector<int> isink;
};

PeakWorkload::PeakWorkload(InstructionSet isa, int threads, bool int8) {
  check_threads(threads);
  const KernelTable& table = table_of(isa);
  if (int8 && !table.int8_peak_loop)
    fail("kernel workload: ", instruction_set_name(isa), " has no 8-bit dot-product peak loop");
  impl_ = std::make_unique<Impl>(static_cast<Isa>(isa), threads, int8);
}

PeakWorkload::~PeakWorkload() = default;

double PeakWorkload::run(long iters) {
  Impl& p = *impl_;
  const int threads = p.pool.size();
  std::vector<double> per(threads, 0.0);
  p.pool.parallel_for(threads, [&](size_t b, size_t e, int) {
    for (size_t i = b; i < e; ++i)
      per[i] = p.int8 ? int8_peak_loop(p.isa, iters, &p.isink[16 * i]) : fma_peak_loop(p.isa, iters, &p.sink[16 * i]);
  });
  double ops = 0;
  for (double f : per) ops += f;
  return ops;
}

// ---------------------------------------------------------------------------

struct GemmWorkload::Impl {
  Impl(const KernelTable& t, format::DType type, int threads, int n, int K, int N)
      : table(t), type(type), pool(threads), n(n), K(K), N(N), a((size_t)n * K), bias(N), c((size_t)n * N) {}
  const KernelTable& table;
  format::DType type;
  ThreadPool pool;
  int n, K, N;
  std::vector<float> a, bias, c;
  PackedGemmB packed_f32;
  PackedQuantMatrix packed_quant;
};

GemmWorkload::GemmWorkload(InstructionSet isa, format::DType type, int threads, int n, int K, int N) {
  check_threads(threads);
  const KernelTable& t = table_of(isa);
  if (n < 1 || K < 1 || N < 1) fail("kernel workload: GEMM sizes must be positive, got ", n, " x ", K, " x ", N);
  if (type != format::DType::F32 && type != format::DType::Q8_0 && type != format::DType::Q4_0 &&
      type != format::DType::Q8_C)
    fail("kernel workload: GEMM weights must be f32, q8_0, q4_0 or q8_c, got ", format::dtype_name(type));
  if (type != format::DType::F32 && K % kQuantBlock != 0)
    fail("kernel workload: ", format::dtype_name(type), " weights need K a multiple of ", kQuantBlock, ", got ", K);
  if (type == format::DType::Q8_C && (uint64_t)K > format::kQ8cMaxCols)
    fail("kernel workload: q8_c weights need K at most ", format::kQ8cMaxCols, ", got ", K);
  impl_ = std::make_unique<Impl>(t, type, threads, n, K, N);
  Impl& g = *impl_;
  std::vector<float> w((size_t)N * K);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (float& x : g.a) x = u(rng);
  for (float& x : w) x = u(rng);
  if (type == format::DType::F32) {
    g.packed_f32.pack(t, N, K, w.data(), K);
    return;
  }
  if (type == format::DType::Q8_C) {
    std::vector<uint8_t> q((size_t)N * (K + sizeof(float)));
    for (int r = 0; r < N; ++r) quantize_matrix_row_q8_c(&w[(size_t)r * K], N, K, r, q.data());
    g.packed_quant = PackedQuantMatrix(t, QuantMatrixView{type, N, K, q.data()});
    return;
  }
  const size_t blocks = (size_t)N * K / kQuantBlock;
  std::vector<uint8_t> q(blocks * (type == format::DType::Q8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0)));
  for (int r = 0; r < N; ++r) {
    if (type == format::DType::Q8_0)
      quantize_row_q8_0(&w[(size_t)r * K], reinterpret_cast<BlockQ8_0*>(q.data()) + (size_t)r * K / kQuantBlock, K);
    else
      quantize_row_q4_0(&w[(size_t)r * K], reinterpret_cast<BlockQ4_0*>(q.data()) + (size_t)r * K / kQuantBlock, K);
  }
  g.packed_quant = PackedQuantMatrix(t, QuantMatrixView{type, N, K, q.data()});
}

GemmWorkload::~GemmWorkload() = default;

void GemmWorkload::run() {
  Impl& g = *impl_;
  ops::Epilogue ep;
  ep.bias = g.bias.data();
  if (g.type == format::DType::F32)
    gemm_blocked_prepacked(&g.pool, g.n, g.a.data(), g.K, false, g.packed_f32, g.c.data(), g.N, ep);
  else
    qgemm(g.table, &g.pool, g.n, g.a.data(), g.K, g.packed_quant, g.c.data(), g.N, ep);
}

double GemmWorkload::ops() const { return 2.0 * impl_->n * impl_->K * impl_->N; }

const std::vector<float>& GemmWorkload::result() const { return impl_->c; }

}  // namespace nystrom::bench
