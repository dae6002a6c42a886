#!/usr/bin/env bash
# Makes sure the packages the tests need are present (Debian/Ubuntu names).
# As root it installs what is missing; otherwise it prints the exact command.
set -euo pipefail
missing=()
[ -f /usr/include/doctest/doctest.h ] || missing+=(doctest-dev)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
else
  echo "missing test dependencies; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
