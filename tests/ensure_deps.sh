#!/usr/bin/env bash
# Makes sure the packages the tests need are present (Debian/Ubuntu names).
# As root it installs what is missing; otherwise it prints the exact command.
#   ensure_deps.sh           what the native tests need: doctest, and
#                            SentencePiece's spm_train, spm_encode and
#                            spm_decode, which the tokenizer tests compare
#                            against
#   ensure_deps.sh aarch64   what `make test-aarch64` needs: the aarch64 cross
#                            compiler and qemu-user to run its binaries
#   ensure_deps.sh clang     what `make test-tsan` and `make fuzz` need: clang++
#                            and its sanitizer and libFuzzer runtimes
#   ensure_deps.sh install   what `make test-install` needs: pkg-config
set -euo pipefail
missing=()
case "${1:-native}" in
  native)
    [ -f /usr/include/doctest/doctest.h ] || missing+=(doctest-dev)
    { command -v spm_train && command -v spm_encode && command -v spm_decode; } >/dev/null || missing+=(sentencepiece)
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
    ;;
  *)
    echo "usage: $0 [native|aarch64|clang|install]" >&2
    exit 2
    ;;
esac
[ ${#missing[@]} -eq 0 ] && exit 0
if [ -n "${NYSTROM_DEPS_RECHECK:-}" ]; then
  echo "test dependencies still missing after installing them: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; } ||
    { echo "could not install test dependencies: ${missing[*]} (apt-get install failed)" >&2; exit 1; }
  # Look again: what the packages were to provide must now be there.
  NYSTROM_DEPS_RECHECK=1 exec bash "$0" "$@"
else
  echo "missing test dependencies; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
