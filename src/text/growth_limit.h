// How much longer one normalizer or decoder may make a text. Real ones grow
// it at most 18 times (NFKD of U+FDFA), but a file can chain replacements
// that each multiply it, or replace every character by a long string; past
// this limit encode and decode throw instead of taking gigabytes.
#pragma once
#include <cstddef>

#include "runtime/error.h"

namespace nystrom::text {

constexpr size_t kMaxGrowth = 64;
constexpr size_t kGrowthSlack = 1024;  // so that short texts may take a prefix

inline void check_growth(size_t before, size_t after, const char* stage) {
  if (after > before * kMaxGrowth + kGrowthSlack)
    fail("tokenizer: the ", stage, " makes a text of length ", before, " one of length ", after,
         " (more than ", kMaxGrowth, " times longer)");
}

}  // namespace nystrom::text
