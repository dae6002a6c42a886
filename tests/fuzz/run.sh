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
# FUZZ_JOBS targets run at once (default: one per CPU).
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

# One target: its libFuzzer run, then one summary line into logs/<t>.summary;
# exit status non-zero when it crashed.
run_one() {
  local t=$1
  local corpus=$dir/corpus/$t
  mkdir -p "$corpus"
  local args=(-max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048
              -artifact_prefix="$dir/artifacts/$t-")
  [ -f "$here/$t.dict" ] && args+=(-dict="$here/$t.dict")
  local dirs=("$corpus")
  [ -d "$here/corpus/$t" ] && dirs+=("$here/corpus/$t")
  [ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
  [ -d "$dir/seeds/$t" ] && dirs+=("$dir/seeds/$t")
  local log=$dir/logs/$t.log
  local start
  start=$(date +%s)
  "$dir/fuzz_$t" "${args[@]}" "${dirs[@]}" >"$log" 2>&1
  local rc=$?
  local took=$(($(date +%s) - start))
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  local units
  units=$(ls "$corpus" | wc -l)
  if [ $rc -ne 0 ]; then
    printf '%-12s FAILED (exit %d) after %s executions, %d s; see %s\n' "$t" "$rc" "${execs:-?}" "$took" "$log" \
      >"$dir/logs/$t.summary"
    return 1
  fi
  printf '%-12s %10s executions, 0 crashes, %d s, corpus %d\n' "$t" "${execs:-?}" "$took" "$units" \
    >"$dir/logs/$t.summary"
}

# The targets are independent (each its own corpus folder), so they run
# FUZZ_JOBS at a time (default: one per CPU), each still for SECONDS.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
running=0
for t in "$@"; do
  rm -f "$dir/logs/$t.summary"
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  echo "fuzz $t: ${secs} s, log $dir/logs/$t.log"
  run_one "$t" &
  running=$((running + 1))
done
wait

failed=()
for t in "$@"; do
  if ! grep -q ' 0 crashes' "$dir/logs/$t.summary" 2>/dev/null; then
    failed+=("$t")
    echo "---- last lines of $dir/logs/$t.log"
    tail -n 60 "$dir/logs/$t.log"
    ls "$dir/artifacts/$t-"* 2>/dev/null | sed 's/^/reproducer: /'
  fi
done

echo "fuzz summary (stat::number_of_executed_units per target):"
for t in "$@"; do
  sed 's/^/  /' "$dir/logs/$t.summary" 2>/dev/null || echo "  $t: no summary (the run did not finish)"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]}" >&2
  exit 1
fi
