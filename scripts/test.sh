#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test:
# unit tests (cmocka) and end-to-end tests (pytest with the real Postfix).
#
# Usage: scripts/test.sh [SANITIZE=1]    (extra make variables pass through)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -s "$@" all
make -s "$@" test
