# fuzz.mk - libFuzzer targets for the pure codecs (fuzz/fuzz_<target>.c)
#
#   make fuzz                 build with clang into build-fuzz/ and run every
#                             target for FUZZ_SECONDS (default 60); new inputs
#                             go to build-fuzz/corpus/<target>/, crashes to
#                             build-fuzz/artifacts/
#   make fuzz FUZZ_TARGETS=cql_frame FUZZ_SECONDS=600     one target, longer
#   make fuzz-check           what `make test` runs: replay every committed
#                             corpus (fuzz/corpus/<target>/), then fuzz each
#                             target for FUZZ_CHECK_SECONDS (default 5)
#   make fuzz-corpus          rewrite the seed corpora (fuzz/make_corpus.py)
#
# Each target links only the pure modules it exercises, built with
# -fsanitize=fuzzer-no-link,address,undefined so coverage reaches them.

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 5
FUZZ_BUILD         := build-fuzz
FUZZ_SAN           := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS        := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
                      -Wall -Wextra -Isrc $(FUZZ_SAN)
FUZZ_ALL           := $(sort $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_TARGETS       ?= $(FUZZ_ALL)

# The pure modules, linked into every target.
FUZZ_LIB_SRC := src/buf.c src/netstring.c src/socketmap.c src/lookup_key.c src/config_value.c \
                src/result_format.c src/result_rows.c src/search_order.c src/map_registry.c \
                src/config_file.c src/extension.c src/cql/cql_proto.c src/cql/cql_response.c \
                src/cql/cql_pages.c src/cql/cql_hosts.c src/env_file.c src/proc_stats.c \
                src/cql/cql_groups.c
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIBS    := $(PKG_LIBS)
FUZZ_INC     := $(PKG_CFLAGS)

# The settings table reaches the host and listen parsers, hence the CQL client.
FUZZ_EXTRA_config_env  := src/config.c src/listen_spec.c src/log.c src/clock.c \
                          $(filter-out $(FUZZ_LIB_SRC),$(wildcard src/cql/*.c)) \
                          $(wildcard src/aws/*.c)
FUZZ_OBJ_config_env    := $(FUZZ_EXTRA_config_env:%.c=$(FUZZ_BUILD)/obj/%.o)

# Targets needing more than the pure modules. The credential parsers share
# aws_base.c (time parsing, wiping) with the providers on libevent.
FUZZ_EXTRA_sigv4       := src/aws/sigv4.c
FUZZ_EXTRA_cred_parse  := $(wildcard src/aws/*.c) src/cql/cql_tls.c src/log.c src/clock.c
FUZZ_EXTRA_sts_xml     := $(FUZZ_EXTRA_cred_parse)
FUZZ_OBJ_sigv4         := $(FUZZ_EXTRA_sigv4:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_EXTRA_change_set  := src/change_set.c
FUZZ_OBJ_change_set    := $(FUZZ_EXTRA_change_set:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_EXTRA_table_source := src/tool/table_source.c
FUZZ_OBJ_table_source  := $(FUZZ_EXTRA_table_source:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_OBJ_cred_parse    := $(FUZZ_EXTRA_cred_parse:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_OBJ_sts_xml       := $(FUZZ_OBJ_cred_parse)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-check fuzz-build fuzz-corpus

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INC) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

.SECONDEXPANSION:
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJ) $$(FUZZ_OBJ_$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INC) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)

# Replay the committed seeds (a crash there is a regression), then fuzz each
# target briefly from them; new inputs go to a scratch directory, never into
# fuzz/corpus/.
fuzz-check: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		w=$(FUZZ_BUILD)/check/$$t; rm -rf $$w; mkdir -p $$w $(FUZZ_BUILD)/artifacts; \
		$(FUZZ_BUILD)/fuzz_$$t -runs=0 fuzz/corpus/$$t > $$w.replay.log 2>&1 || \
			{ tail -40 $$w.replay.log; echo "fuzz-check: $$t: a seed fails"; exit 1; }; \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_CHECK_SECONDS) -timeout=10 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
			$$w fuzz/corpus/$$t > $$w.log 2>&1 || \
			{ tail -60 $$w.log; echo "fuzz-check: $$t: crash (see $(FUZZ_BUILD)/artifacts/)"; exit 1; }; \
		echo "fuzz-check: $$t: $$(ls fuzz/corpus/$$t | wc -l) seeds replayed," \
		     "$$(sed -n 's/^stat::number_of_executed_units: *//p' $$w.log) executions in $(FUZZ_CHECK_SECONDS) s"; \
	done

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts; \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
			$(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t > $(FUZZ_BUILD)/$$t.log 2>&1 || \
			{ tail -60 $(FUZZ_BUILD)/$$t.log; echo "fuzz: $$t: crash"; exit 1; }; \
		echo "fuzz: $$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/$$t.log) executions in $(FUZZ_SECONDS) s," \
		     "corpus $$(ls $(FUZZ_BUILD)/corpus/$$t | wc -l) inputs"; \
	done

fuzz-corpus:
	$(PYTHON) fuzz/make_corpus.py

# The README's test command runs the short fuzzing pass too.
test: fuzz-check

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
