#!/usr/bin/env bash
# The quick-start demo: converts a checkpoint and runs the engine on it.
# Until a trained model ships in models/, it uses the classification
# checkpoint from ../shared/testdata/hf.
set -euo pipefail
cd "$(dirname "$0")/.."
ckpt=${NYSTROM_DEMO_CHECKPOINT:-../shared/testdata/hf/small-cls}
out=build/demo
mkdir -p "$out"
echo "== converting $ckpt"
build/nystrom-convert "$ckpt" -o "$out/model.nyf"
for mode in nystrom exact; do
  echo "== running with --attention $mode"
  build/nystrom run -m "$out/model.nyf" --ids-npy "$ckpt/input_ids.npy" --out-dir "$out/$mode" --attention "$mode"
done
