#!/usr/bin/env bash
# The quick-start demo (`make demo`): the ListOps classifier shipped in
# models/ (trained here, see models/README.md) on held-out expressions it
# never saw. It measures, now, on this machine: the accuracy over the whole
# held-out set with Nystrom attention as trained (64 landmarks), with 32 and
# 128 landmarks and with exact attention, how close the Nystrom and exact
# last hidden states are, a few answers chosen by a fixed rule (the first
# expressions of the set), and the time and memory of each attention on the
# longest of those.
#
# NYSTROM_DEMO_MODEL, NYSTROM_DEMO_INPUTS and NYSTROM_DEMO_LABELS choose
# another model and held-out set (one expression per line, one value per
# line); NYSTROM_DEMO_EXAMPLES how many examples to print (default 6).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${NYSTROM_CLI:-build/nystrom}
model=${NYSTROM_DEMO_MODEL:-models/listops.nyf}
inputs=${NYSTROM_DEMO_INPUTS:-tests/data/listops/fresh.txt}
labels=${NYSTROM_DEMO_LABELS:-tests/data/listops/fresh_labels.txt}
examples=${NYSTROM_DEMO_EXAMPLES:-6}
threads=()  # every CPU this process may use, unless NYSTROM_DEMO_THREADS says
[[ -n "${NYSTROM_DEMO_THREADS:-}" ]] && threads=(--threads "$NYSTROM_DEMO_THREADS")
count=$(wc -l <"$labels")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The share of predictions ($1, one per line) equal to the labels, as "x.y%".
accuracy() {
  paste "$1" "$labels" | awk -F'\t' '{ n++; if ($1 == $2) r++ } END { printf "%.1f%% (%d of %d)", 100 * r / n, r, n }'
}

# Whole-set classify with extra options; prints the labels, one per line.
labels_with() {
  "$cli" classify -m "$model" -f "$inputs" "${threads[@]}" "$@" | cut -f1
}

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
  [[ -n "$prob" ]] || prob=$(sed -n 's/.*"probability": \([0-9.e-]*\).*/\1/p' <<<"$out")
  ms=$(sed -n 's/^model: *\([0-9.]*\) ms.*/\1/p' "$err")
  mb=$(sed -n 's/^peak memory: *\([0-9.]*\) MB.*/\1/p' "$err")
  rm -f "$err"
  echo "$label $prob $ms $mb"
}

echo "ListOps (Long Range Arena): the value, 0-9, of a nested [MAX/[MIN/[MED/[SM expression"
echo "model: $model; held-out set: $inputs ($count expressions never used in training"
echo "or model selection). The paper reports 37.15% (Nystromformer) and 37.10% (exact attention)."
echo

echo "Accuracy on all $count held-out expressions, measured now (about a minute):"
# compare-attention runs every input both ways: the exact and the Nystrom
# (64 landmarks, as trained) predictions and the cosine of the two runs' last
# hidden states, one JSON object per line.
"$cli" compare-attention -m "$model" -f "$inputs" --landmarks 64 "${threads[@]}" --json >"$tmp/both.jsonl"
sed -n 's/.*"exact": {"prediction": "\([^"]*\)".*/\1/p' "$tmp/both.jsonl" >"$tmp/exact.txt"
sed -n 's/.*"nystrom": {"prediction": "\([^"]*\)".*/\1/p' "$tmp/both.jsonl" >"$tmp/nystrom64.txt"
labels_with --landmarks 32 >"$tmp/nystrom32.txt"
labels_with --landmarks 128 >"$tmp/nystrom128.txt"
printf '  %-28s %s\n' "Nystrom, 64 landmarks" "$(accuracy "$tmp/nystrom64.txt")   <- as trained"
printf '  %-28s %s\n' "Nystrom, 32 landmarks" "$(accuracy "$tmp/nystrom32.txt")"
printf '  %-28s %s\n' "Nystrom, 128 landmarks" "$(accuracy "$tmp/nystrom128.txt")"
printf '  %-28s %s\n' "exact attention" "$(accuracy "$tmp/exact.txt")"
sed -n 's/.*"cosine": \([0-9.e-]*\).*/\1/p' "$tmp/both.jsonl" |
  awk '{ s += $1; if (n == 0 || $1 < m) m = $1; n++ }
       END { printf "  last hidden state, Nystrom (64) vs exact: mean cosine %.6f, lowest %.6f\n", s / n, m }'
paste "$tmp/nystrom64.txt" "$tmp/exact.txt" |
  awk -F'\t' '{ n++; if ($1 == $2) a++ } END { printf "  the two attentions give the same answer on %.1f%%\n", 100 * a / n }'
sort "$labels" | uniq -c | sort -rn | awk 'NR == 1' |
  awk -v n="$count" '{ printf "  (always answering the most frequent value, %s, would score %.1f%%)\n", $2, 100 * $1 / n }'

echo
echo "The first $examples held-out expressions (a fixed rule: no picking):"
printf '%8s  %9s  %11s  %7s  %9s\n' tokens predicted probability correct time
longest="" longest_n=0
paste "$labels" "$inputs" | awk -v n="$examples" 'NR <= n' >"$tmp/examples.tsv"
while IFS=$'\t' read -r value expr; do
  n=$(wc -w <<<"$expr")
  read -r label prob ms _ < <(classify "$expr")
  mark=$([[ "$label" == "$value" ]] && echo "" || echo "  (wrong)")
  printf '%8d  %9s  %11.3f  %7s  %6.1f ms%s\n' "$n" "$label" "$prob" "$value" "$ms" "$mark"
  if (( n > longest_n )); then longest=$expr longest_n=$n; fi
done <"$tmp/examples.tsv"

echo
echo "The longest of them ($longest_n tokens + [CLS]) with each attention:"
printf '%10s  %9s  %12s  %9s\n' attention time 'peak memory' predicted
for mode in nystrom exact; do
  read -r label _ ms mb < <(classify "$longest" --attention "$mode")
  printf '%10s  %6.1f ms  %9.1f MB  %9s\n' "$mode" "$ms" "$mb" "$label"
done
