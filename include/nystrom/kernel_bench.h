// Kernel workloads for benchmarks (nystrom-bench): the FMA peak loop and the
// GEMMs of a linear layer, prepared at a chosen instruction set so that the
// caller can time run() alone. Not needed to run models.
//
//   nystrom::bench::GemmWorkload g(nystrom::InstructionSet::Avx2, nystrom::format::DType::F32, 2, 512, 768, 768);
//   g.run();  // warm-up, then time a few runs: GFLOP/s = g.ops() / seconds / 1e9
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nystrom/format.h"
#include "nystrom/nystrom.h"

namespace nystrom::bench {

// The levels this build has kernels for and this CPU runs, best first
// (Scalar last); a level cap does not change it.
NYSTROM_API std::vector<InstructionSet> available_instruction_sets();

// The CPU features the dispatcher saw, as one line ("avx2 fma f16c ...").
NYSTROM_API std::string cpu_description();

// The CPUs this process may run on (its affinity mask): what threads = 0
// means in RunOptions and OpenOptions.
NYSTROM_API int available_threads();

// Independent FMA chains (or, with int8, 8-bit dot products) in the widest
// registers of `isa`, with no memory traffic, on `threads` threads at once.
// Throws Error when the CPU or this build lacks the level, or when int8 is
// asked of a level without a dot-product peak loop (only avx512 has one).
class NYSTROM_API PeakWorkload {
 public:
  PeakWorkload(InstructionSet isa, int threads, bool int8);
  ~PeakWorkload();
  PeakWorkload(const PeakWorkload&) = delete;
  PeakWorkload& operator=(const PeakWorkload&) = delete;
  // Runs `iters` rounds on every thread; returns the floating-point (or
  // 8-bit: a multiply and an add per byte pair) operations done, all threads.
  double run(long iters);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// C[n x N] = A[n x K] W[N x K]^T + bias as a linear layer computes it, with
// random A and W: W stored as `weights` (F32, or Q8_0 / Q4_0 with K a
// multiple of 32, A then quantized per row on the fly) and packed once here,
// as a model's weights are when it is opened. Throws Error when the level is
// not available or the shape does not fit the type.
class NYSTROM_API GemmWorkload {
 public:
  GemmWorkload(InstructionSet isa, format::DType weights, int threads, int n, int K, int N);
  ~GemmWorkload();
  GemmWorkload(const GemmWorkload&) = delete;
  GemmWorkload& operator=(const GemmWorkload&) = delete;
  void run();
  double ops() const;  // 2 n K N, per run
  // C of the last run, n x N row-major (to check a run against another).
  const std::vector<float>& result() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nystrom::bench
