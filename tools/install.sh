#!/usr/bin/env bash
# `make install` and `make uninstall` (see the Makefile for the variables).
# install copies each file and records it, and each folder it had to make,
# in PREFIX/share/nystrom/install-manifest; uninstall removes exactly those
# files, then those folders that are empty, then the list itself.
#   install.sh install     DESTDIR PREFIX PYTHONDIR VERSION SO_REAL SO_NAME BUILD
#   install.sh uninstall   DESTDIR PREFIX
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PREFIX:?}"
destdir="${DESTDIR:-}"
manifest_rel="$PREFIX/share/nystrom/install-manifest"
manifest="$destdir$manifest_rel"

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

uninstall() {
  [ -f "$manifest" ] || fail "$manifest: no such file (nothing installed into $PREFIX, or installed by another version)"
  local kind path dirs=()
  while read -r kind path; do
    case "$kind" in
      f) rm -f -- "$destdir$path" ;;
      d) dirs+=("$path") ;;
      *) fail "$manifest: unexpected line '$kind $path'" ;;
    esac
  done <"$manifest"
  rm -f -- "$manifest"
  # Deepest first: they were recorded parent before child.
  local i
  for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
    rmdir -- "$destdir${dirs[i]}" 2>/dev/null || true
  done
  echo "uninstalled nystrom from $destdir$PREFIX"
}

# Folders made by this install or a previous one (so reinstalling keeps
# them on the list), and the files written, in order.
made_dirs=()
files=()

make_dir() {  # $1: the folder, without DESTDIR
  local dir="$1" parent
  [ -d "$destdir$dir" ] && return 0
  parent="$(dirname "$dir")"
  [ "$parent" != "$dir" ] && make_dir "$parent"
  mkdir -- "$destdir$dir"
  made_dirs+=("$dir")
}

put() {  # $1 mode, $2 source, $3 destination without DESTDIR
  make_dir "$(dirname "$3")"
  install -m "$1" -- "$2" "$destdir$3"
  files+=("$3")
}

link() {  # $1 target (relative), $2 the link without DESTDIR
  make_dir "$(dirname "$2")"
  ln -sfn -- "$1" "$destdir$2"
  files+=("$2")
}

# A file made from a template: @PREFIX@, @VERSION@ and @LIBDIR@ filled in.
put_filled() {  # $1 mode, $2 template, $3 destination without DESTDIR
  local tmp
  tmp="$(mktemp)"
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@VERSION@|$VERSION|g" -e "s|@LIBDIR@|$PREFIX/lib|g" "$2" >"$tmp"
  put "$1" "$tmp" "$3"
  rm -f "$tmp"
}

install_all() {
  : "${PYTHONDIR:?}" "${VERSION:?}" "${SO_REAL:?}" "${SO_NAME:?}" "${BUILD:?}"
  if [ -f "$manifest" ]; then
    local kind path
    while read -r kind path; do [ "$kind" = d ] && made_dirs+=("$path"); done <"$manifest"
  fi
  local lib="$PREFIX/lib" tool h
  put 644 "$BUILD/libnystrom.a" "$lib/libnystrom.a"
  put 755 "$BUILD/$SO_REAL" "$lib/$SO_REAL"
  link "$SO_REAL" "$lib/$SO_NAME"
  link "$SO_NAME" "$lib/libnystrom.so"
  for h in include/nystrom/*.h; do put 644 "$h" "$PREFIX/$h"; done
  put_filled 644 tools/nystrom.pc.in "$lib/pkgconfig/nystrom.pc"
  put_filled 644 tools/nystrom-cxx.pc.in "$lib/pkgconfig/nystrom-cxx.pc"
  for tool in nystrom nystrom-convert nystrom-bench; do put 755 "$BUILD/$tool" "$PREFIX/bin/$tool"; done
  put_filled 644 python/nystrom.py "$PYTHONDIR/nystrom.py"
  make_dir "$(dirname "$manifest_rel")"
  {
    for path in "${made_dirs[@]}"; do echo "d $path"; done
    for path in "${files[@]}"; do echo "f $path"; done
  } >"$manifest"
  echo "installed nystrom $VERSION into $destdir$PREFIX (${#files[@]} files, listed in $manifest_rel)"
}

case "${1:-}" in
  install) install_all ;;
  uninstall) uninstall ;;
  *) fail "usage: install.sh install|uninstall" ;;
esac
