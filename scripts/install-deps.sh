#!/usr/bin/env bash
# Installs the Debian 12 packages Lienthong needs to build, test and run its
# demo. Non-interactive; run as root. Installs only what is missing, so a second
# run is quick and needs no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates openssl
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev libabsl-dev
  libssl-dev libcurl4-openssl-dev libpugixml-dev libyaml-cpp-dev libicu-dev
  libsqlite3-dev sqlite3 libpq-dev libcpp-httplib-dev libcli11-dev libevent-dev
  libgtest-dev libgmock-dev procps curl
  libgoogle-perftools-dev     # tcmalloc_minimal, the gateway's allocator
  testssl.sh                  # the TLS scan in the test suite
  clang libclang-rt-14-dev    # scripts/fuzz.sh: libFuzzer, ASan, UBSan
  # Checks of deploy/ (tests/deploy) and the Debian package (scripts/package.sh).
  yamllint lintian systemd help2man haproxy dpkg-dev fakeroot file logrotate
  # The PostgreSQL store's tests (a throwaway server: initdb, pg_ctl); they
  # skip without it. The quick-start demo does not need it.
  postgresql-15
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm, for the interop clients below: Debian's, unless a Node.js of another
# origin that brings its own npm is installed (NodeSource's nodejs conflicts
# with Debian's npm package).
if ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

# The independent clients of the interop tests (buf curl, grpc-js), from
# npm into tests/interop/node_modules; tests that need them skip, saying so,
# when this could not run (no npm, no network).
install_npm_clients() {
  local dir=tests/interop
  if [ -x "$dir/node_modules/.bin/buf" ] && [ -d "$dir/node_modules/@grpc/grpc-js" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "install-deps: npm missing: interop tests (buf curl, grpc-js) will skip" >&2
    return 0
  fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "install-deps: npm ci in $dir failed: interop tests will skip" >&2
}
cd "$(dirname "$0")/.."

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  install_npm_clients
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or install them yourself)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_npm_clients
