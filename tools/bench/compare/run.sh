#!/usr/bin/env bash
# ONNX Runtime against this engine on the same base-size model, 2 threads:
#   bash tools/bench/compare/run.sh [--rounds R] [--repeat R] [--n 512,4096] [--threads T] [--out DIR] [--reexport]
# Builds the engine (make all bench), installs onnxruntime-node into OUT,
# exports the models once (export.py), checks them (bench.js check) and
# prints the timing table (bench.js time). See README.md beside this file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=build/compare
rounds=3
repeat=5
ns=512,4096
threads=2
reexport=0
ort_version=1.30.0

die() { echo "run.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds|--repeat|--n|--threads|--out)
      [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --rounds) rounds=$2 ;; --repeat) repeat=$2 ;; --n) ns=$2 ;; --threads) threads=$2 ;; --out) out=$2 ;;
      esac
      shift 2 ;;
    --reexport) reexport=1; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$root"
py=/usr/bin/python3
[ -x "$py" ] || die "needs Debian's /usr/bin/python3 (apt-get install python3 python3-torch python3-onnx python3-numpy)"
"$py" -c 'import torch, onnx, numpy' 2>/dev/null ||
  die "needs python3-torch python3-onnx python3-numpy for /usr/bin/python3 (apt-get install python3-torch python3-onnx python3-numpy)"
command -v node >/dev/null && command -v npm >/dev/null || die "needs node and npm (apt-get install nodejs npm)"

echo "== building the engine (make all bench)" >&2
make all bench >&2

mkdir -p "$out"
if [ ! -f "$out/node_modules/onnxruntime-node/package.json" ] ||
   [ "$(node -p "require('./$out/node_modules/onnxruntime-node/package.json').version")" != "$ort_version" ]; then
  echo "== installing onnxruntime-node $ort_version into $out/node_modules" >&2
  [ -f "$out/package.json" ] || echo '{"name": "nystrom-compare", "private": true}' > "$out/package.json"
  # The CPU build ships in the package; skip its optional download of GPU libraries.
  (cd "$out" && npm install --no-audit --no-fund --onnxruntime-node-install=skip "onnxruntime-node@$ort_version" >&2)
fi

# The stamp marks an export that finished and passed its checks.
stamp=$out/exported.stamp
if [ "$reexport" = 1 ] || [ ! -f "$stamp" ] || [ "$stamp" -ot "$here/export.py" ] ||
   [ "$stamp" -ot build/nystrom-convert ]; then
  echo "== exporting the base model (PyTorch -> HF checkpoint, .nyf, ONNX fp32 and int8; a few minutes)" >&2
  rm -f "$stamp"
  "$py" "$here/export.py" --out "$out" --build build
  touch "$stamp"
fi

echo "== checking the ONNX models against PyTorch and the engine" >&2
node "$here/bench.js" check --dir "$out" --threads "$threads"

echo "== timing, $rounds rounds (progress on stderr)" >&2
node "$here/bench.js" time --dir "$out" --build build --n "$ns" --rounds "$rounds" --repeat "$repeat" \
  --threads "$threads"
