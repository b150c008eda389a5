#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test:
#   1. `make test`: unit tests (cmocka), end-to-end tests (pytest with the
#      real Postfix, including the valgrind memcheck run) and the short
#      fuzzing pass (`make fuzz-check`: every seed corpus replayed, each
#      libFuzzer target run for a few seconds);
#   2. `make SANITIZE=1 unit e2e`: the unit and end-to-end tests again, on
#      binaries built with AddressSanitizer and UBSan (build-san/).
#
# Usage: scripts/test.sh [VAR=value ...]   (make variables pass through;
#        with SANITIZE=... given, only that one pass runs)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

vars=("$@")
start=$SECONDS
echo "== make ${vars[*]} test"
make -s "${vars[@]}" all
make -s "${vars[@]}" test
if [[ " ${vars[*]} " != *" SANITIZE="* ]]; then
	echo "== make SANITIZE=1 ${vars[*]} unit e2e"
	make -s SANITIZE=1 "${vars[@]}" all
	make -s SANITIZE=1 "${vars[@]}" unit e2e
fi
echo "== all tests passed in $((SECONDS - start)) s"
