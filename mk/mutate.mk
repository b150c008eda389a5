# mutate.mk - `make mutate`: a kept mutation score over the code that decides answers
#
#   make mutate                          every mutant of tests/mutants.txt (-j2: two scratch trees)
#   make mutate MUTANTS=key-fold-Z,...   only these ids
#
# scripts/mutate.py applies each one-line mutant in a scratch copy of the
# tree (never here), rebuilds, runs the tests the list names for it and
# reports killed / survived / equivalent; it fails under 95% killed of the
# non-equivalent mutants, and on a stale entry. Not part of `make test`.

MUTANTS   ?=

.PHONY: mutate
mutate: all
	$(PYTHON) scripts/mutate.py -j2 $(if $(MUTANTS),--only $(MUTANTS))
