#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test:
#   1. `make test`: unit tests (cmocka), end-to-end tests (pytest with the
#      real Postfix, including the valgrind memcheck run) and the short
#      fuzzing pass (`make fuzz-check`: every seed corpus replayed, each
#      libFuzzer target run for a few seconds);
#   2. `make SANITIZE=1 unit e2e`: the unit and end-to-end tests again, on
#      binaries built with AddressSanitizer and UBSan (build-san/), except
#      the files that exercise no daemon code beyond what the others do
#      (the 60 s soak, packaging, the drivers' suites against cqld, the
#      valgrind run; the two AWS SDK differential suites, whose daemon code
#      under ASan is the credential chain that test_aws_credentials.py and
#      test_aws_sts.py already run there; the Postfix differential suite,
#      whose daemon code under ASan is the search order and the engine that
#      test_search_order.py and the unit tests already run there; the
#      systemd units and the packaged daemon under a real systemd, which
#      runs the package's own binary), to keep CI under 25 minutes. The
#      end-to-end files run three at a time (pytest-xdist, E2E_JOBS).
#
# Usage: scripts/test.sh [VAR=value ...]   (make variables pass through;
#        with SANITIZE=... given, only that one pass runs)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

vars=("$@")
start=$SECONDS
echo "== make ${vars[*]} test"
# Everything is built first on both cores; the tests then run one at a time.
make -s -j2 "${vars[@]}" all unit-build
[[ " ${vars[*]} " == *" SANITIZE="* ]] || make -s -j2 "${vars[@]}" fuzz-build
make -s "${vars[@]}" test
if [[ " ${vars[*]} " != *" SANITIZE="* ]]; then
	echo "== make SANITIZE=1 ${vars[*]} unit e2e"
	make -s -j2 SANITIZE=1 "${vars[@]}" all unit-build
	skip=(test_soak.py test_packaging.py test_cqld_drivers.py test_cqld_python_driver.py
	      test_sigv4_crosscheck.py test_valgrind.py
	      test_aws_sdk_chain.py test_aws_sdk_chain_sts.py test_postfix_oracle.py
	      test_systemd.py test_systemd_units.py test_postfix_tuning.py)
	make -s SANITIZE=1 "${vars[@]}" unit e2e \
		E2E_ARGS="${skip[*]/#/--ignore=tests/e2e/}"
fi
echo "== all tests passed in $((SECONDS - start)) s"
