// The kernel workloads nystrom-bench times (include/nystrom/kernel_bench.h):
// they run what they say on every available level, and refuse what they
// cannot run.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nystrom/kernel_bench.h"
#include "nystrom/nystrom.h"
#include "support.h"

using nystrom::InstructionSet;
using nystrom::format::DType;
namespace bench = nystrom::bench;

TEST_CASE("kernel bench: the available levels run best first and end with scalar, the level in use among them") {
  const std::vector<InstructionSet> levels = bench::available_instruction_sets();
  REQUIRE(!levels.empty());
  CHECK(levels.back() == InstructionSet::Scalar);
  CHECK(std::count(levels.begin(), levels.end(), nystrom::instruction_set()) == 1);
  CHECK(bench::available_threads() >= 1);
  CHECK(!bench::cpu_description().empty());
}

TEST_CASE("kernel bench: the GEMM workload computes the same A W^T at every level and weight type") {
  // Odd n and N; K a multiple of 32 so the quantized types fit.
  const int n = 7, K = 64, N = 19;
  bench::GemmWorkload scalar(InstructionSet::Scalar, DType::F32, 1, n, K, N);
  scalar.run();
  for (InstructionSet isa : bench::available_instruction_sets()) {
    CAPTURE(nystrom::instruction_set_name(isa));
    bench::GemmWorkload f32(isa, DType::F32, 2, n, K, N);
    CHECK(f32.ops() == 2.0 * n * K * N);
    f32.run();
    REQUIRE(f32.result().size() == (size_t)n * N);
    // Inputs are uniform in [-1, 1]: a product of K terms is O(sqrt(K)).
    double norm = 0;
    for (float v : f32.result()) norm += (double)v * v;
    CHECK(std::sqrt(norm / (n * N)) > 1.0);
    // Other levels sum in other orders: the scalar reference within rounding.
    const test::Diff d = test::diff(f32.result(), scalar.result());
    CHECK(d.max_abs <= 1e-5 * d.max_ref);
    for (DType type : {DType::Q8_0, DType::Q4_0}) {
      bench::GemmWorkload q(isa, type, 1, n, K, N);
      q.run();
      REQUIRE(q.result().size() == f32.result().size());
      // The same A and W, quantized: close to the f32 product.
      CHECK(test::cosine(q.result(), f32.result()) > (type == DType::Q8_0 ? 0.999 : 0.98));
    }
    // The same workload twice gives the same bits (fixed random inputs).
    bench::GemmWorkload again(isa, DType::F32, 1, n, K, N);
    again.run();
    CHECK(test::same_bits(again.result(), f32.result()));
  }
}

TEST_CASE("kernel bench: the peak workload counts the operations of every thread") {
  for (InstructionSet isa : bench::available_instruction_sets()) {
    CAPTURE(nystrom::instruction_set_name(isa));
    bench::PeakWorkload one(isa, 1, false), two(isa, 2, false);
    const double ops = one.run(1000);
    CHECK(ops > 0);
    CHECK(two.run(1000) == 2 * ops);
    CHECK(one.run(2000) == 2 * ops);
  }
}

TEST_CASE("kernel bench: workloads refuse what they cannot run, with a one-line Error") {
  CHECK(test::error_of([] { bench::GemmWorkload(InstructionSet::Scalar, DType::Q8_0, 1, 4, 48, 4); })
            .find("multiple of 32") != std::string::npos);
  CHECK(test::error_of([] { bench::GemmWorkload(InstructionSet::Scalar, DType::F16, 1, 4, 32, 4); })
            .find("f32, q8_0, q4_0 or q8_c") != std::string::npos);
  CHECK(test::error_of([] { bench::GemmWorkload(InstructionSet::Scalar, DType::F32, 0, 4, 32, 4); })
            .find("threads") != std::string::npos);
  CHECK(test::error_of([] { bench::GemmWorkload(InstructionSet::Scalar, DType::F32, 1, 0, 32, 4); })
            .find("positive") != std::string::npos);
  CHECK(test::error_of([] { bench::PeakWorkload(InstructionSet::Scalar, 1, true); }).find("dot-product") !=
        std::string::npos);
  const std::vector<InstructionSet> levels = bench::available_instruction_sets();
  for (InstructionSet isa : {InstructionSet::Avx2, InstructionSet::Avx512, InstructionSet::Neon, InstructionSet::NeonDot})
    if (std::count(levels.begin(), levels.end(), isa) == 0)
      CHECK(test::error_of([&] { bench::PeakWorkload(isa, 1, false); }).find("not available") != std::string::npos);
}
