#!/usr/bin/env bash
# `make test-install`: installs into a scratch prefix (beside files that were
# there before) and checks what is there: the libraries (the shared one
# versioned, exporting only the public API), headers that compile on their
# own, nystrom.pc and nystrom-cxx.pc, the tools and the Python module. Builds
# tools/examples/ with nothing but cc, c++ and pkg-config against the shared
# and the static library, runs them on the converted small-cls checkpoint,
# then uninstalls and checks that exactly what was there before is left; the
# same again through DESTDIR.
#   NYSTROM_BUILD     the build folder holding libnystrom.a and the tools (build)
#   NYSTROM_TESTDATA  the Hugging Face test checkpoints (tests/data/hf)
#   MAKE, CC, CXX     the tools to use (make, cc, c++; CC and CXX may hold words)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${NYSTROM_BUILD:-build}"
testdata="${NYSTROM_TESTDATA:-tests/data/hf}"
make="${MAKE:-make}"
# Compilers as words: CXX="ccache g++" is a command and its argument.
read -ra cc <<<"${CC:-cc}"
read -ra cxx <<<"${CXX:-c++}"

prefix="$(mktemp -d "${TMPDIR:-/tmp}/nystrom-prefix-XXXXXX")"
work="$(mktemp -d "${TMPDIR:-/tmp}/nystrom-install-test-XXXXXX")"
stage="$(mktemp -d "${TMPDIR:-/tmp}/nystrom-stage-XXXXXX")"
trap 'rm -rf "$prefix" "$work" "$stage"' EXIT

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

# What the prefix held before: install must leave it, uninstall too.
mkdir -p "$prefix/lib" "$prefix/share"
echo keep >"$prefix/lib/other-library.txt"
(cd "$prefix" && find . | sort) >"$work/before"

echo "install test: installing into $prefix"
$make --no-print-directory -s install PREFIX="$prefix" BUILD="$build" >"$work/out"
version="$($make --no-print-directory -s version)"
so_real="libnystrom.so.$version"
for f in lib/libnystrom.a "lib/$so_real" lib/pkgconfig/nystrom.pc lib/pkgconfig/nystrom-cxx.pc \
  include/nystrom/nystrom.h include/nystrom/nystrom_c.h bin/nystrom bin/nystrom-convert bin/nystrom-bench \
  lib/python3/dist-packages/nystrom.py share/nystrom/install-manifest; do
  [ -f "$prefix/$f" ] || fail "$f was not installed"
done
[ "$(readlink "$prefix/lib/libnystrom.so.0")" = "$so_real" ] || fail "libnystrom.so.0 is not a link to $so_real"
[ "$(readlink "$prefix/lib/libnystrom.so")" = "libnystrom.so.0" ] || fail "libnystrom.so is not a link to libnystrom.so.0"
run_ok readelf -d "$prefix/lib/$so_real"
expect_out 'SONAME.*\[libnystrom\.so\.0\]'
run_ok readelf -h "$prefix/lib/$so_real"
expect_out 'Type: +DYN'

# Exported: the C API's functions and the C++ API's names, nothing else
# (no internal classes, no instantiated standard-library templates).
nm -D --defined-only "$prefix/lib/$so_real" | awk '{print $3}' | c++filt >"$work/exports"
grep -Ev '^(nystrom_[a-z_0-9]+|nystrom::.*|(typeinfo|typeinfo name|vtable) for nystrom::.*)$' "$work/exports" \
  >"$work/out" && { cat "$work/out" >&2; fail "symbols outside the public API are exported"; }
grep -E '^nystrom::(ops|text|kernels|ThreadPool|Workspace|ModelFile|MappedFile|Weights|Checkpoint)' "$work/exports" \
  >"$work/out" && { cat "$work/out" >&2; fail "internal nystrom symbols are exported"; }
for f in $(grep -oE 'NYSTROM_API [a-z_ *]+ \**(nystrom_[a-z_0-9]+)\(' include/nystrom/nystrom_c.h |
  grep -oE 'nystrom_[a-z_0-9]+\($' | tr -d '('); do
  grep -qx "$f" "$work/exports" || fail "$f is declared in nystrom_c.h but not exported"
done
for s in 'nystrom::version()' 'nystrom::Model::open(' 'nystrom::Session::run(' 'nystrom::Session::Session(nystrom::Session&&)' \
  'nystrom::Tokenizer::encode(' 'nystrom::pool_embedding(' 'typeinfo for nystrom::Error'; do
  grep -qF "$s" "$work/exports" || fail "$s is not exported"
done

# The public headers stand alone: nothing from src/ or anywhere but the prefix.
echo '#include <nystrom/nystrom_c.h>' >"$work/c_header.c"
run_ok "${cc[@]}" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$work/c_header.c"
for h in "$prefix"/include/nystrom/*.h; do
  echo "#include <nystrom/$(basename "$h")>" >"$work/header.cpp"
  run_ok "${cxx[@]}" -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$work/header.cpp"
done

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
run_ok pkg-config --modversion nystrom
expect_out "^$version\$"
cflags_c="$(pkg-config --cflags --libs nystrom)"
static_c="$(pkg-config --static --cflags --libs nystrom)"
flags_cxx="$(pkg-config --cflags --libs nystrom-cxx)"
static_cxx="$(pkg-config --static --cflags --libs nystrom-cxx)"
echo "install test: pkg-config nystrom: $cflags_c; --static: $static_c; nystrom-cxx: $flags_cxx"
case "$cflags_c" in *c++*|*stdc++*) fail "C users get C++ flags: $cflags_c" ;; esac
case "$static_c" in *-lstdc++*) ;; *) fail "a static C link lacks the C++ runtime: $static_c" ;; esac
case "$flags_cxx" in *-std=c++17*) ;; *) fail "C++ users do not get -std=c++17: $flags_cxx" ;; esac

# The examples against the shared library (found through LD_LIBRARY_PATH
# here: the prefix is not one the loader searches) and the static one.
# shellcheck disable=SC2086  # the flags are words
run_ok "${cc[@]}" -std=c99 -Wall -Wextra -Werror tools/examples/example.c $cflags_c -o "$work/example-c"
# shellcheck disable=SC2086
run_ok "${cxx[@]}" -Wall -Wextra -Werror tools/examples/example.cpp $flags_cxx -o "$work/example-cpp"
# shellcheck disable=SC2086
run_ok "${cc[@]}" -static -std=c99 -Wall -Wextra -Werror tools/examples/example.c $static_c -o "$work/example-c-static"
# shellcheck disable=SC2086
run_ok "${cxx[@]}" -static -Wall -Wextra -Werror tools/examples/example.cpp $static_cxx -o "$work/example-cpp-static"
for e in example-c example-cpp; do
  run_ok readelf -d "$work/$e"
  expect_out 'NEEDED.*\[libnystrom\.so\.0\]'
  run_ok readelf -d "$work/$e-static"
  grep -q 'libnystrom' "$work/out" && fail "$e-static depends on the shared library"
done

# The installed converter makes the model the examples read.
run_ok "$prefix/bin/nystrom-convert" "$testdata/small-cls" -o "$work/small-cls.nyf"
model="$work/small-cls.nyf"
for tool in nystrom nystrom-convert nystrom-bench; do
  run_ok "$prefix/bin/$tool" --version
  expect_out "^$tool $version\$"
done

for variant in "" -static; do
  export LD_LIBRARY_PATH="$prefix/lib"
  ex="$work/example-c$variant"
  # The C example: fixed ids, ids from the command line, and a failure.
  run_ok "$ex" "$model"
  expect_out "^nystrom $version\$"
  expect_out '^n=12 hidden=128 '
  expect_out '^first values:( -?[0-9]+\.[0-9]{6}){4}$'
  expect_out '^label=LABEL_[0-2] logit='
  cp "$work/out" "$work/c-out$variant"
  run_ok "$ex" "$model" 0 5 6 7 2
  expect_out '^n=5 hidden=128 '
  if "$ex" "$work/missing.nyf" >"$work/out" 2>"$work/err"; then fail "$ex opened a missing file"; fi
  grep -q 'cannot open' "$work/err" || { cat "$work/err" >&2; fail "no 'cannot open' message for a missing file"; }
  if "$ex" "$model" 0 5000 2 >"$work/out" 2>"$work/err"; then fail "$ex ran an id outside the vocabulary"; fi
  grep -q 'NYSTROM_ERROR_INPUT' "$work/err" || { cat "$work/err" >&2; fail "no input error for an id outside the vocabulary"; }

  # The C++ example: a batch of two lengths, mean pooled; an Error thrown
  # in the library is caught by type, with its code.
  ex="$work/example-cpp$variant"
  run_ok "$ex" "$model"
  expect_out '^sequence 0: n=5 hidden=128 mean:( -?[0-9]+\.[0-9]{6}){4} label=LABEL_[0-2]$'
  expect_out '^sequence 1: n=10 hidden=128 mean:( -?[0-9]+\.[0-9]{6}){4} label=LABEL_[0-2]$'
  cp "$work/out" "$work/cpp-out$variant"
  if "$ex" "$work/missing.nyf" >"$work/out" 2>"$work/err"; then fail "$ex opened a missing file"; fi
  grep -q 'cannot open.*(code 2)$' "$work/err" || { cat "$work/err" >&2; fail "no Error with code 2 (Io) for a missing file"; }
  unset LD_LIBRARY_PATH
done
cmp -s "$work/c-out" "$work/c-out-static" || fail "the C example prints other numbers with the static library"
cmp -s "$work/cpp-out" "$work/cpp-out-static" || fail "the C++ example prints other numbers with the static library"

# The Python module finds the installed library by itself.
python="${PYTHON:-/usr/bin/python3}"
run_ok env -u NYSTROM_LIBRARY PYTHONPATH="$prefix/lib/python3/dist-packages" "$python" -c \
  'import sys, nystrom; m = nystrom.Model(sys.argv[1]); print(nystrom.library_path); print(nystrom.version()); print(m.run([0, 5, 6, 2])["logits"] is not None)' \
  "$model"
expect_out "^$prefix/lib/libnystrom\\.so\\.0\$"
expect_out "^$version\$"
expect_out '^True$'

# Uninstall: exactly the files and folders that were there before.
$make --no-print-directory -s uninstall PREFIX="$prefix" >"$work/out"
(cd "$prefix" && find . | sort) >"$work/after"
diff "$work/before" "$work/after" >&2 || fail "uninstall did not leave the prefix as it was"
if $make --no-print-directory -s uninstall PREFIX="$prefix" >"$work/out" 2>"$work/err"; then
  fail "a second uninstall succeeded with nothing installed"
fi

# A staged install (DESTDIR): files under the stage, the final prefix in
# nystrom.pc and the Python module; uninstall from the stage leaves nothing.
$make --no-print-directory -s install DESTDIR="$stage" PREFIX=/opt/nystrom-test BUILD="$build" >"$work/out"
[ -f "$stage/opt/nystrom-test/lib/$so_real" ] || fail "DESTDIR install put nothing under the stage"
grep -qx 'prefix=/opt/nystrom-test' "$stage/opt/nystrom-test/lib/pkgconfig/nystrom.pc" || fail "nystrom.pc names the stage"
grep -q '"/opt/nystrom-test/lib"' "$stage/opt/nystrom-test/lib/python3/dist-packages/nystrom.py" ||
  fail "nystrom.py does not name the installed library folder"
$make --no-print-directory -s uninstall DESTDIR="$stage" PREFIX=/opt/nystrom-test >"$work/out"
[ -z "$(ls -A "$stage")" ] || { find "$stage" >&2; fail "uninstall from DESTDIR left files"; }

echo "install test: passed"
