# soak.mk - `make soak`: mail flow and lookups while cqld nodes fail at random.
#
#   make soak                      600 seconds (tests/e2e/test_soak.py)
#   make soak SOAK_SECONDS=1800    longer
#   make soak SOAK_SEED=1234       replay the fault sequence of an earlier run
#
# Not part of CI: the test suite runs the same test for 60 seconds.
# Needs root (a private Postfix instance) like the other mail-flow tests.

SOAK_SECONDS ?= 600
SOAK_SEED    ?=

.PHONY: soak

soak: all
	SOAK_SECONDS=$(SOAK_SECONDS) $(if $(SOAK_SEED),SOAK_SEED=$(SOAK_SEED)) \
	PAC_BUILD=$(BUILD) $(PYTHON) -m pytest -q -s tests/e2e/test_soak.py
