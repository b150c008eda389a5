# oracle.mk - the differential suite: Postfix with lmdb: tables as the oracle
#
#   make oracle                          tests/e2e/test_postfix_oracle.py (also in make test)
#   make oracle ORACLE_PHASES=A          phase A alone (default parent_domain_matches_subdomains)
#   make oracle ORACLE_DUMP=/tmp/o       also write what each instance saw to /tmp/o.<phase>.<maps>
#
# The generator seed is fixed in the test (SEED), so a difference reproduces.

ORACLE_PHASES ?= AB
ORACLE_DUMP   ?=

.PHONY: oracle
oracle: all
	PAC_BUILD=$(BUILD) PAC_ORACLE_PHASES=$(ORACLE_PHASES) \
	  $(if $(ORACLE_DUMP),PAC_ORACLE_DUMP=$(ORACLE_DUMP)) \
	  $(PYTHON) -m pytest -q tests/e2e/test_postfix_oracle.py
