// nystrom-bench --sections scaling: time per forward and peak memory of the
// base-size model against the input length n (256, 512, ... up to --max-n),
// Nystrom and exact attention, f32 and q8_0 weights, each measurement in its
// own process. Prints a table (or --json) and, with --svg FILE, draws both
// against n on log-log axes (log_chart.h).
#pragma once
#include <set>
#include <string>

#include "../common/args.h"

namespace nystrom::benchtool {

// The section's own flags (values), for the bench's parser, and their help.
const std::set<std::string>& scaling_value_flags();
extern const char kScalingHelp[];

// Runs the section alone (`sections` is how many were asked for); throws
// tools::UsageError on misuse. A scaling flag without the section is a
// usage error too (check_scaling_flags).
int run_scaling(const tools::Args& args, size_t sections, const std::string& tmpdir, int threads);
void check_scaling_flags(const tools::Args& args, bool scaling_selected);

// The child that measures one point: argv is "--internal-scaling PATH N
// MODE THREADS REPEAT"; prints "forward_ms peak_rss_mb open_rss_mb".
constexpr const char* kScalingChildFlag = "--internal-scaling";
int scaling_child(int argc, char** argv);

}  // namespace nystrom::benchtool
