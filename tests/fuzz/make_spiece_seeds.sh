#!/usr/bin/env bash
# Trains the small spiece.model seeds of fuzz_spiece_model with spm_train and
# writes them to tests/fuzz/corpus/spiece_model/ (run once, offline; the
# models are committed). Each is a few KB and takes a different path through
# the reader and the normalizer:
#   identity.model  no charsmap; [CLS] [SEP] control pieces, [MASK] and <sep>
#                   user-defined pieces kept whole
#   bytes.model     byte_fallback (all 256 <0xNN> pieces), whitespace as a
#                   suffix, extra whitespace kept
#   rules.model     a small precompiled charsmap from a rule TSV (full-width
#                   letters, a ligature, a deletion, tab to space), no dummy
#                   prefix
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)/corpus/spiece_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# A corpus of a few hundred short lines over a small alphabet.
words=(the quick brown fox jumps over a lazy dog and then runs back home again while
       hello world token piece model text unigram sentence tiny fuzz seed café naïve
       1 2 3 42 2024 "[MASK]" "<sep>")
for i in $(seq 0 399); do
  line=""
  for k in 0 1 2 3 4 5; do line+="${words[$(( (i * 7 + k * 13 + i / 5) % ${#words[@]} ))]} "; done
  echo "${line% }"
done > "$tmp/corpus.txt"

# Rules: code points (hex, space-separated) TAB replacement code points.
printf 'FF21\t41\nFF41\t61\nFB01\t66 69\n200B\t\n9\t20\n' > "$tmp/rules.tsv"

common=(--input="$tmp/corpus.txt" --model_type=unigram --random_seed=7 --num_threads=1 --minloglevel=2
        --hard_vocab_limit=false --character_coverage=1.0)
train() {  # NAME FLAGS...
  local name=$1
  shift
  spm_train "${common[@]}" --model_prefix="$tmp/$name" "$@"
  cp "$tmp/$name.model" "$out/$name.model"
}
train identity --vocab_size=60 --normalization_rule_name=identity --control_symbols='[CLS],[SEP]' \
  --user_defined_symbols='[MASK],<sep>'
train bytes --vocab_size=300 --normalization_rule_name=identity --byte_fallback=true \
  --treat_whitespace_as_suffix=true --remove_extra_whitespaces=false
train rules --vocab_size=50 --normalization_rule_tsv="$tmp/rules.tsv" --add_dummy_prefix=false
ls -l "$out"
