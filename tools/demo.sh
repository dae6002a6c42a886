#!/usr/bin/env bash
# The quick-start demo (`make demo`): the ListOps classifier shipped in
# models/ (trained here, see models/README.md) evaluates a few expressions,
# short and long, then shows what Nystrom attention buys on the longest one.
#
# NYSTROM_DEMO_MODEL and NYSTROM_DEMO_INPUTS choose another model file and
# another "value<TAB>expression" file.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${NYSTROM_CLI:-build/nystrom}
model=${NYSTROM_DEMO_MODEL:-models/listops.nyf}
inputs=${NYSTROM_DEMO_INPUTS:-models/listops_demo.tsv}

# One classify run; prints "label probability model_ms peak_mb" from the
# --json line and the --verbose summary.
classify() {
  local text=$1; shift
  local out err
  err=$(mktemp)
  out=$("$cli" classify -m "$model" --json --verbose "$@" "$text" 2>"$err")
  local label prob ms mb
  label=$(sed -n 's/.*"label": "\([^"]*\)".*/\1/p' <<<"$out")
  prob=$(sed -n 's/.*"score": \([0-9.e-]*\).*/\1/p' <<<"$out")
  ms=$(sed -n 's/^model: *\([0-9.]*\) ms.*/\1/p' "$err")
  mb=$(sed -n 's/^peak memory: *\([0-9.]*\) MB.*/\1/p' "$err")
  rm -f "$err"
  echo "$label $prob $ms $mb"
}

echo "ListOps (Long Range Arena): the value of a nested [MAX/[MIN/[MED/[SM expression"
echo "model: $model (right on 35.6% of 2000 held-out expressions; the paper reports 37.15%,"
echo "guessing the most frequent value gets 17.9%: see models/README.md)"
echo
printf '%8s  %9s  %11s  %7s  %9s\n' tokens predicted probability correct time
longest="" longest_n=0
while IFS=$'\t' read -r value expr; do
  n=$(wc -w <<<"$expr")
  read -r label prob ms _ < <(classify "$expr")
  mark=$([[ "$label" == "$value" ]] && echo "" || echo "  (wrong)")
  printf '%8d  %9s  %11.3f  %7s  %6.1f ms%s\n' "$n" "$label" "$prob" "$value" "$ms" "$mark"
  if (( n > longest_n )); then longest=$expr longest_n=$n; fi
done <"$inputs"

echo
echo "The longest expression ($longest_n tokens + [CLS]) with each attention:"
printf '%10s  %9s  %12s  %9s\n' attention time 'peak memory' predicted
for mode in nystrom exact; do
  read -r label _ ms mb < <(classify "$longest" --attention "$mode")
  printf '%10s  %6.1f ms  %9.1f MB  %9s\n' "$mode" "$ms" "$mb" "$label"
done
