// The loop of every level's peak measurement (fma_peak_loop, int8_peak_loop
// in kernels/<isa>/): kChains independent chains acc = step(acc) with no
// memory traffic, enough chains to cover the instruction's latency times
// its issue rate. The chains are folded with add and returned, so that
// none of them is dead code.
#pragma once

namespace nystrom {

template <int kChains, typename V, typename Init, typename Step, typename Add>
inline V run_peak_chains(long iters, Init init, Step step, Add add) {
  V acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = init(i);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = step(acc[i]);
  V s = acc[0];
  for (int i = 1; i < kChains; ++i) s = add(s, acc[i]);
  return s;
}

}  // namespace nystrom
