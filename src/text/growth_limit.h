// How much longer one normalizer or decoder may make a text. Real ones grow
// it at most 18 times (NFKD of U+FDFA), but a file can chain replacements
// that each multiply it, or replace every character by a long string; past
// this limit encode and decode throw instead of taking gigabytes.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "runtime/error.h"

namespace nystrom::text {

constexpr size_t kMaxGrowth = 64;
constexpr size_t kGrowthSlack = 1024;  // so that short texts may take a prefix

inline void check_growth(size_t before, size_t after, const char* stage) {
  if (after > before * kMaxGrowth + kGrowthSlack)
    fail("tokenizer: the ", stage, " makes a text of length ", before, " one of length ", after,
         " (more than ", kMaxGrowth, " times longer)");
}

// The steps of a Sequence (normalizer or decoder) with those of nested
// Sequences of the same kind spliced in, so that one growth check covers the
// whole chain. inner_steps(sequence) gives a nested one's steps to take.
template <typename Sequence, typename Step, typename InnerSteps>
std::vector<std::unique_ptr<Step>> splice_nested(std::vector<std::unique_ptr<Step>> steps, InnerSteps inner_steps) {
  std::vector<std::unique_ptr<Step>> out;
  for (auto& step : steps) {
    if (auto* inner = dynamic_cast<Sequence*>(step.get()))
      for (auto& s : inner_steps(*inner)) out.push_back(std::move(s));
    else
      out.push_back(std::move(step));
  }
  return out;
}

}  // namespace nystrom::text
