#!/usr/bin/env bash
# The layers, as includes: every `#include "..."` of src/ and of the tools
# must point where its folder may look (docs/ARCHITECTURE.md). Prints each
# include that does not, with its file and line, and fails. Run by
# `make check-layers`, which `make test-native` runs first.
set -euo pipefail
cd "$(dirname "$0")/.."

# What each folder of src/ may include besides itself. The public headers
# (nystrom/*.h) are open to all. format/ is the .nyf file and nothing above
# it (no text/: a tokenizer section is bytes there); kernels/ may use only
# the f16 conversions of format/.
declare -A may_include=(
  [runtime]=""
  [format]="runtime/"
  [kernels]="runtime/ format/half.h"
  [text]="runtime/"
  [model]="kernels/ format/ text/ runtime/"
  [convert]="format/ text/ kernels/quant.h runtime/"
  [capi]="format/config_record.h"
)

bad=0
complain() {
  echo "check-layers: $1: includes \"$2\" ($3)" >&2
  bad=1
}

allowed_in_src() {  # folder, included path
  local folder=$1 inc=$2 prefix
  [[ $inc == nystrom/* || $inc == "$folder"/* ]] && return 0
  for prefix in ${may_include[$folder]}; do
    [[ $inc == "$prefix"* ]] && return 0
  done
  return 1
}

for dir in src/*/; do
  folder=$(basename "$dir")
  [[ -v may_include[$folder] ]] || { echo "check-layers: src/$folder has no rule in tests/check_layers.sh" >&2; bad=1; continue; }
  while IFS=: read -r file line inc; do
    inc=${inc#*\"}; inc=${inc%\"*}
    allowed_in_src "$folder" "$inc" || complain "$file:$line" "$inc" "src/$folder may include only itself, nystrom/ and: ${may_include[$folder]:-nothing else}"
  done < <(grep -rnE '^\s*#\s*include\s+"' "$dir" --include='*.h' --include='*.cpp' --include='*.inc' || true)
done

# The tools stand on the public API alone: nystrom/*.h, their own files and
# tools/common/.
for dir in tools/cli tools/convert tools/bench tools/examples tools/common; do
  while IFS=: read -r file line inc; do
    inc=${inc#*\"}; inc=${inc%\"*}
    if [[ $inc == nystrom/* ]]; then
      [[ -f include/$inc ]] || complain "$file:$line" "$inc" "no such public header"
      continue
    fi
    target=$(realpath -m "$(dirname "$file")/$inc")
    [[ $target == "$PWD"/tools/* && -f $target ]] ||
      complain "$file:$line" "$inc" "a tool may include only include/nystrom/*.h, its own files and tools/common/"
  done < <(grep -rnE '^\s*#\s*include\s+"' "$dir" --include='*.h' --include='*.cpp' --include='*.c' || true)
done

exit $bad
