#!/usr/bin/env bash
# `make test-install`: installs the library into a scratch prefix, checks that
# each installed header compiles on its own, builds tools/examples/ with
# nothing but cc, c++ and `pkg-config --cflags --libs nystrom`, converts the
# small-cls test checkpoint and runs both examples on it.
#   NYSTROM_BUILD     the build folder holding libnystrom.a and the tools (build)
#   NYSTROM_TESTDATA  the Hugging Face test checkpoints (tests/data/hf)
#   MAKE, CC, CXX     the tools to use (make, cc, c++)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${NYSTROM_BUILD:-build}"
testdata="${NYSTROM_TESTDATA:-tests/data/hf}"
make="${MAKE:-make}"
cc="${CC:-cc}"
cxx="${CXX:-c++}"

prefix="$(mktemp -d "${TMPDIR:-/tmp}/nystrom-prefix-XXXXXX")"
work="$(mktemp -d "${TMPDIR:-/tmp}/nystrom-install-test-XXXXXX")"
trap 'rm -rf "$prefix" "$work"' EXIT

fail() {
  echo "install test: $*" >&2
  exit 1
}

# Runs a command that must succeed, keeping its stdout in $work/out.
run_ok() {
  "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; fail "failed: $*"; }
}

# Fails unless $work/out holds the (extended) regular expression $1.
expect_out() {
  grep -Eq -- "$1" "$work/out" || { cat "$work/out" >&2; fail "expected output matching '$1'"; }
}

echo "install test: installing into $prefix"
$make --no-print-directory -s install PREFIX="$prefix" BUILD="$build"
for f in lib/libnystrom.a lib/pkgconfig/nystrom.pc include/nystrom/nystrom.h include/nystrom/nystrom_c.h; do
  [ -f "$prefix/$f" ] || fail "$f was not installed"
done

# The public headers stand alone: nothing from src/ or anywhere but the prefix.
echo '#include <nystrom/nystrom_c.h>' >"$work/c_header.c"
run_ok "$cc" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$work/c_header.c"
for h in "$prefix"/include/nystrom/*.h; do
  echo "#include <nystrom/$(basename "$h")>" >"$work/header.cpp"
  run_ok "$cxx" -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$work/header.cpp"
done

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
run_ok pkg-config --modversion nystrom
flags="$(pkg-config --cflags --libs nystrom)"
echo "install test: pkg-config --cflags --libs nystrom: $flags"
# shellcheck disable=SC2086  # the flags are words
run_ok "$cc" -std=c99 -Wall -Wextra -Werror tools/examples/example.c $flags -o "$work/example-c"
# shellcheck disable=SC2086
run_ok "$cxx" -std=c++17 -Wall -Wextra -Werror tools/examples/example.cpp $flags -o "$work/example-cpp"

run_ok "$build/nystrom-convert" "$testdata/small-cls" -o "$work/small-cls.nyf"
model="$work/small-cls.nyf"

# The C example: fixed ids, ids from the command line, and a failure.
run_ok "$work/example-c" "$model"
expect_out '^n=12 hidden=128 '
expect_out '^first values:( -?[0-9]+\.[0-9]{6}){4}$'
expect_out '^label=LABEL_[0-2] logit='
run_ok "$work/example-c" "$model" 0 5 6 7 2
expect_out '^n=5 hidden=128 '
if "$work/example-c" "$work/missing.nyf" >"$work/out" 2>"$work/err"; then fail "example-c opened a missing file"; fi
grep -q 'cannot open' "$work/err" || { cat "$work/err" >&2; fail "no 'cannot open' message for a missing file"; }
if "$work/example-c" "$model" 0 5000 2 >"$work/out" 2>"$work/err"; then fail "example-c ran an id outside the vocabulary"; fi
grep -q 'NYSTROM_ERROR_INPUT' "$work/err" || { cat "$work/err" >&2; fail "no input error for an id outside the vocabulary"; }

# The C++ example: a batch of two lengths, mean pooled.
run_ok "$work/example-cpp" "$model"
expect_out '^sequence 0: n=5 hidden=128 mean:( -?[0-9]+\.[0-9]{6}){4} label=LABEL_[0-2]$'
expect_out '^sequence 1: n=10 hidden=128 mean:( -?[0-9]+\.[0-9]{6}){4} label=LABEL_[0-2]$'

echo "install test: passed"
