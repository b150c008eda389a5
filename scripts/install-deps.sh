#!/usr/bin/env bash
# install-deps.sh - install build and test dependencies, idempotently.
#
# Debian 12 (the development and CI machine): apt-get, only what is missing.
# Amazon Linux 2023 / RHEL-like (building the daemon only):
#   dnf install -y gcc make pkgconf-pkg-config libevent-devel openssl-devel \
#       jansson-devel expat-devel systemd-devel libcmocka-devel rpm-build
#
# Usage: scripts/install-deps.sh [--check]   (--check: exit 1 if anything is missing)
set -euo pipefail

DEB_PKGS=(
  build-essential pkg-config
  libevent-dev libssl-dev libjansson-dev libexpat1-dev libsystemd-dev libcmocka-dev
  python3 python3-pytest python3-pytest-xdist python3-cassandra
  postfix postfix-lmdb rpm groff-base man-db systemd iproute2 util-linux procps
  lintian elfutils debugedit
  dbus
  golang-go golang-github-gocql-gocql-dev
  clang libclang-rt-14-dev llvm valgrind hyperfine
  prometheus python3-prometheus-client
  python3-matplotlib
)
DNF_PKGS=(gcc make pkgconf-pkg-config libevent-devel openssl-devel jansson-devel expat-devel
  systemd-devel libcmocka-devel rpm-build)

# Node.js packages for the tests (npm registry, each directory pinned by its
# lock file): tests/drivers/node (the real drivers) and tests/drivers/awssdk
# (the AWS SDK for JavaScript v3's credential chain, the oracle of
# tests/e2e/test_aws_sdk_chain.py). Debian's nodejs/npm only when no node exists.
node_deps() {
  local root; root="$(cd "$(dirname "$0")/.." && pwd)/tests/drivers"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  if ! [ -d "$root/node/node_modules/cassandra-driver" ] ||
     ! [ -d "$root/node/node_modules/aws-sigv4-auth-cassandra-plugin" ]; then
    echo "install-deps: npm ci in tests/drivers/node" >&2
    (cd "$root/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  if ! [ -d "$root/awssdk/node_modules/@aws-sdk/credential-provider-node" ]; then
    echo "install-deps: npm ci in tests/drivers/awssdk" >&2
    (cd "$root/awssdk" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

missing=()
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${DEB_PKGS[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || missing+=("$p")
  done
  if [ "${1:-}" = "--check" ]; then
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "missing: ${missing[*]}" >&2; exit 1
  fi
  [ ${#missing[@]} -eq 0 ] && { node_deps; exit 0; }
  echo "install-deps: installing ${missing[*]}" >&2
  # Postfix must not configure itself: tests use private config directories.
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The postfix package may start a daemon on a real machine; we never need it.
  command -v systemctl >/dev/null 2>&1 && $SUDO systemctl disable --now postfix >/dev/null 2>&1 || true
  node_deps
  exit 0
elif command -v dnf >/dev/null 2>&1; then
  [ "${1:-}" = "--check" ] && { rpm -q "${DNF_PKGS[@]}" >/dev/null; exit $?; }
  $SUDO dnf install -y "${DNF_PKGS[@]}"
else
  echo "install-deps: neither apt-get nor dnf found; install: ${DEB_PKGS[*]}" >&2
  exit 1
fi
