// Which attention a model runs under given options, and why, in one line:
// what `--verbose`, `nystrom info` and nystrom-convert's summary say.
#pragma once
#include <string>

#include "nystrom/nystrom.h"

namespace nystrom::tools {

// The library's plan for the model's longest input (nystrom::forward_cost),
// and the shorter inputs that run exact all the same.
inline std::string attention_summary(const ModelConfig& c, const RunOptions& o = {}) {
  const ForwardCost cost = forward_cost(c, c.max_positions, o);
  if (cost.exact_attention) return cost.reason;
  return cost.reason + "; inputs of at most " + std::to_string(cost.landmarks) + " tokens run exact";
}

}  // namespace nystrom::tools
