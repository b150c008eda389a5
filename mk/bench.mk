# bench.mk - `make bench`: the five benchmark scenarios of bench/README.md.
#
#   make bench              build the tools and run bench/run.py (under 10 minutes)
#   make bench-tools        only build build/smload, build/sm-echo, build/cqlbench,
#                           build/bare-server, build/oracle-server
#   make bench BENCH_ARGS="--only 1,5 --quick"   a subset, shorter runs
#
# Never part of `make test`: the figures are reported, not asserted.

SMLOAD      := $(BUILD)/smload
SM_ECHO     := $(BUILD)/sm-echo
CQLBENCH    := $(BUILD)/cqlbench
BARE_SERVER := $(BUILD)/bare-server
ORACLE_SERVER := $(BUILD)/oracle-server
BARE_OBJ    := bench/bare_loop.c $(BUILD)/obj/src/netstring.o $(BUILD)/obj/src/buf.o
BENCH_ARGS  ?=

.PHONY: bench bench-tools

bench-tools: $(SMLOAD) $(SM_ECHO) $(CQLBENCH) $(BARE_SERVER) $(ORACLE_SERVER)

# The bare-epoll baselines: no libevent, one read and one write per batch.
$(BARE_SERVER): bench/bare_server.c $(BARE_OBJ) bench/bare_loop.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^)

$(ORACLE_SERVER): bench/oracle_server.c $(BARE_OBJ) bench/bare_loop.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^)

$(SMLOAD): bench/smload.c $(BUILD)/obj/src/netstring.o $(BUILD)/obj/src/buf.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lm

$(SM_ECHO): bench/echo_server.c $(BUILD)/obj/src/netstring.o $(BUILD)/obj/src/buf.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# cqlbench links the daemon's library objects, as the daemon does.
$(CQLBENCH): bench/cqlbench.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench: all bench-tools
	PAC_BUILD=$(BUILD) $(PYTHON) bench/run.py $(BENCH_ARGS)

# gocql's side of scenario 3, built offline from Debian's golang-github-gocql-gocql-dev.
# Optional: without Go the comparison is skipped and the results say so.
GOCQLBENCH  := $(BUILD)/gocqlbench
GOCQL_PATH  ?= /usr/share/gocode
bench-tools: $(GOCQLBENCH)
$(GOCQLBENCH): bench/gocql/main.go
	@mkdir -p $(dir $@)
	@gp=$$(mktemp -d) && \
	GO111MODULE=off GOPATH=$$gp:$(GOCQL_PATH) GOPROXY=off GOFLAGS= GOCACHE=$$gp/cache \
		go build -o $@ ./bench/gocql || echo "bench: gocql benchmark not built (Go or gocql missing)"; \
	rm -rf $$gp
