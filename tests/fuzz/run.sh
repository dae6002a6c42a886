#!/usr/bin/env bash
# Runs each fuzz target for a fixed time and fails if any of them crashes:
#   tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...      (what `make fuzz` does)
# BUILD_DIR holds fuzz_<target> and make_seeds. Each target starts from the
# committed seeds (tests/fuzz/corpus/<target>/), the saved reproducers
# (tests/fuzz/regressions/<target>/), the generated seeds
# (BUILD_DIR/seeds/<target>/, the tokenizer targets' made from the
# reference cases in tests/data/tokenizers/) and what earlier runs found
# (BUILD_DIR/corpus/<target>/, where new inputs go), with the dictionary
# tests/fuzz/<target>.dict when there is one. Prints, per target, the
# executions from libFuzzer's final stats; a crashing input is saved as
# BUILD_DIR/artifacts/<target>-crash-<sha1> (rerun: BUILD_DIR/fuzz_<target> FILE).
set -uo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD_DIR SECONDS TARGET..." >&2
  exit 2
fi
dir=$1
secs=$2
shift 2
here=$(dirname "$0")

rm -rf "$dir/seeds"
"$dir/make_seeds" "$dir/seeds" "$here/../data/tokenizers" || { echo "fuzz: make_seeds failed" >&2; exit 1; }
mkdir -p "$dir/logs" "$dir/artifacts"

failed=()
summary=()
for t in "$@"; do
  corpus=$dir/corpus/$t
  mkdir -p "$corpus"
  args=(-max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048
        -artifact_prefix="$dir/artifacts/$t-")
  [ -f "$here/$t.dict" ] && args+=(-dict="$here/$t.dict")
  dirs=("$corpus")
  [ -d "$here/corpus/$t" ] && dirs+=("$here/corpus/$t")
  [ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
  [ -d "$dir/seeds/$t" ] && dirs+=("$dir/seeds/$t")
  log=$dir/logs/$t.log
  echo "fuzz $t: ${secs} s, log $log"
  start=$(date +%s)
  "$dir/fuzz_$t" "${args[@]}" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  took=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  units=$(ls "$corpus" | wc -l)
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    summary+=("$(printf '%-12s FAILED (exit %d) after %s executions, %d s; see %s' "$t" "$rc" "${execs:-?}" "$took" "$log")")
    echo "---- last lines of $log"
    tail -n 60 "$log"
    ls "$dir/artifacts/$t-"* 2>/dev/null | sed 's/^/reproducer: /'
  else
    summary+=("$(printf '%-12s %10s executions, 0 crashes, %d s, corpus %d' "$t" "${execs:-?}" "$took" "$units")")
  fi
done

echo "fuzz summary (stat::number_of_executed_units per target):"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]}" >&2
  exit 1
fi
