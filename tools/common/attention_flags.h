// --attention and --attention-precision, read the same way by every tool
// that takes them (nystrom's run options, nystrom-bench -m).
#pragma once
#include <string>

#include "args.h"
#include "nystrom/nystrom.h"

namespace nystrom::tools {

inline AttentionMode parse_attention_mode(const Args& args) {
  const std::string mode = args.get("--attention", "auto");
  if (mode == "auto") return AttentionMode::Auto;
  if (mode == "nystrom") return AttentionMode::Nystrom;
  if (mode == "exact") return AttentionMode::Exact;
  throw UsageError{"--attention must be auto, nystrom or exact, got '" + mode + "'"};
}

inline AttentionPrecision parse_attention_precision(const Args& args) {
  const std::string precision = args.get("--attention-precision", "f32");
  if (precision == "f32") return AttentionPrecision::F32;
  if (precision == "int8") return AttentionPrecision::Int8;
  if (precision == "bf16") return AttentionPrecision::BF16;
  throw UsageError{"--attention-precision must be f32, int8 or bf16, got '" + precision + "'"};
}

// The name the flag takes for a precision (what a report prints).
inline const char* attention_precision_name(AttentionPrecision p) {
  return p == AttentionPrecision::Int8 ? "int8" : p == AttentionPrecision::BF16 ? "bf16" : "f32";
}

}  // namespace nystrom::tools
