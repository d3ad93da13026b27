#!/usr/bin/env bash
# Builds the Debian package of Lienthong (deploy/debian/package.cmake) and
# checks it with lintian: a Release build in ./build-package (or
# $PACKAGE_BUILD_DIR) with Debian's hardening flags (dpkg-buildflags),
# just the two shipped binaries, their man pages (help2man), then
# `cpack -G DEB` and `lintian` on the .deb. Fails when lintian reports an
# error or a warning that deploy/debian/lintian-overrides does not excuse.
# Prints the path of the package.
#
#   scripts/package.sh [--out DIR]    (--out: also copy the .deb into DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${PACKAGE_BUILD_DIR:-build-package}
out=
case "${1:-}" in
  --out) out=${2:?--out needs a folder} ;;
  "") ;;
  *) echo "usage: scripts/package.sh [--out DIR]" >&2; exit 2 ;;
esac

for tool in cpack dpkg-buildflags dpkg-shlibdeps help2man lintian fakeroot; do
  if ! command -v "$tool" >/dev/null; then
    echo "package: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
done

# Debian's hardening: fortify, stack protector, PIE, full RELRO, bindnow.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
ldflags="$(dpkg-buildflags --get LDFLAGS)"

if [ ! -f "$build_dir/build.ninja" ]; then
  CXXFLAGS="$cxxflags" LDFLAGS="$ldflags" \
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DLIENTHONG_PACKAGE=ON
fi
cmake --build "$build_dir" -j "$(nproc)" --target lienthong-gateway lienthong \
  lienthong-gateway-man lienthong-man lienthong-changelog

rm -f "$build_dir"/lienthong_*.deb
(cd "$build_dir" && fakeroot cpack -G DEB >/dev/null)
deb=$(ls "$build_dir"/lienthong_*.deb)

# --fail-on warning: errors and warnings fail; info, pedantic and
# overridden tags are printed only.
lintian --fail-on error,warning --info --display-info "$deb"
if [ -n "$out" ]; then
  mkdir -p "$out"
  cp "$deb" "$out"/
  deb="$out/$(basename "$deb")"
fi
echo "$deb"
