#!/usr/bin/env bash
# Makes sure the packages that building and testing need are present
# (Debian/Ubuntu names). Takes one or more groups and checks them all, so that
# one apt-get call installs everything missing (`make deps` runs it once,
# before anything builds: two apt-gets at once would fight over dpkg's lock).
# As root it installs what is missing; otherwise it names the packages in one
# line and fails.
#   native    what the native tests need: doctest, SentencePiece's
#             spm_train, spm_encode and spm_decode, which the tokenizer tests
#             compare against, and Debian's python3 for the Python module's
#   aarch64   what `make test-aarch64` needs on an x86 host: the aarch64 cross
#             compiler and qemu-user to run its binaries
#   clang     what `make test-tsan` and `make fuzz` need: clang++ and its
#             sanitizer and libFuzzer runtimes
#   install   what `make test-install` needs: pkg-config, binutils' readelf,
#             nm and c++filt (the shared library's table), the static C
#             and C++ libraries (a -static link of the examples)
set -euo pipefail
[ $# -gt 0 ] || set -- native
missing=()
for group in "$@"; do
  case "$group" in
    native)
      [ -f /usr/include/doctest/doctest.h ] || missing+=(doctest-dev)
      { command -v spm_train && command -v spm_encode && command -v spm_decode; } >/dev/null || missing+=(sentencepiece)
      [ -x /usr/bin/python3 ] || missing+=(python3)
      ;;
    aarch64)
      command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
      command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
      ;;
    clang)
      # The runtimes ship apart from the compiler (Debian 12: clang 14 and
      # libclang-rt-14-dev), so look for libFuzzer's beside the compiler found.
      if ! command -v clang++ >/dev/null; then
        missing+=(clang libclang-rt-14-dev)
      else
        rt="$(clang++ -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a"
        [ -f "$rt" ] || missing+=("libclang-rt-$(clang++ -dumpversion | cut -d. -f1)-dev")
      fi
      ;;
    install)
      command -v pkg-config >/dev/null || missing+=(pkg-config)
      { command -v readelf && command -v nm && command -v c++filt; } >/dev/null || missing+=(binutils)
      [ -f "$(gcc -print-file-name=libc.a)" ] || missing+=(libc6-dev)
      ;;
    *)
      echo "usage: $0 [native|aarch64|clang|install]..." >&2
      exit 2
      ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ -n "${NYSTROM_DEPS_RECHECK:-}" ]; then
  echo "build and test dependencies still missing after installing them: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing build and test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; } ||
    { echo "could not install build and test dependencies: ${missing[*]} (apt-get install failed)" >&2; exit 1; }
  # Look again: what the packages were to provide must now be there.
  NYSTROM_DEPS_RECHECK=1 exec bash "$0" "$@"
else
  echo "missing build and test dependencies; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
