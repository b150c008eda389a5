#!/usr/bin/env bash
# install-deps.sh - install build and test dependencies, idempotently.
#
# Debian 12 (the development and CI machine): apt-get, only what is missing.
# Amazon Linux 2023 / RHEL-like (building the daemon only):
#   dnf install -y gcc make pkgconf-pkg-config libevent-devel openssl-devel \
#       jansson-devel systemd-devel libcmocka-devel rpm-build
#
# Usage: scripts/install-deps.sh [--check]   (--check: exit 1 if anything is missing)
set -euo pipefail

DEB_PKGS=(
  build-essential pkg-config
  libevent-dev libssl-dev libjansson-dev libsystemd-dev libcmocka-dev
  python3 python3-pytest python3-cassandra
  postfix rpm groff-base man-db systemd
)
DNF_PKGS=(gcc make pkgconf-pkg-config libevent-devel openssl-devel jansson-devel
  systemd-devel libcmocka-devel rpm-build)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${DEB_PKGS[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || missing+=("$p")
  done
  if [ "${1:-}" = "--check" ]; then
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "missing: ${missing[*]}" >&2; exit 1
  fi
  [ ${#missing[@]} -eq 0 ] && exit 0
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  # Postfix must not configure itself: tests use private config directories.
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The postfix package may start a daemon on a real machine; we never need it.
  command -v systemctl >/dev/null 2>&1 && $SUDO systemctl disable --now postfix >/dev/null 2>&1 || true
  exit 0
elif command -v dnf >/dev/null 2>&1; then
  [ "${1:-}" = "--check" ] && { rpm -q "${DNF_PKGS[@]}" >/dev/null; exit $?; }
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO dnf install -y "${DNF_PKGS[@]}"
else
  echo "install-deps: neither apt-get nor dnf found; install: ${DEB_PKGS[*]}" >&2
  exit 1
fi
