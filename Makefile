# postfix-aws-cassandra - build, test and demo.
#
#   make              build/postfix-aws-cassandra and build/cqld
#   make test         unit tests (cmocka) and end-to-end tests (pytest, real Postfix)
#   make unit | e2e   one half of it
#   make demo         cqld with examples/demo.cql and the daemon on 127.0.0.1:9999
#   make SANITIZE=1   everything with AddressSanitizer and UBSan (own build dir)
#
# A plain Makefile driven by pkg-config: the tree is small, every Debian and
# Amazon Linux machine has make, and there is nothing to configure.

VERSION   := $(shell cat VERSION)
CC        ?= cc
PKGS      := libevent libevent_openssl openssl libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS  := $(shell pkg-config --libs $(PKGS)) -levent_extra
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

WARN      := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
             -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
ifeq ($(SANITIZE),1)
BUILD     ?= build-san
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=undefined
HARDEN_LD := -fsanitize=address,undefined
else
BUILD     ?= build
OPT       := -O2 -g -D_FORTIFY_SOURCE=2
HARDEN_LD :=
endif
CFLAGS    ?=
CFLAGS    += -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) -fstack-protector-strong -fPIE \
             -DPAC_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS)
LDFLAGS   += -pie -Wl,-z,relro,-z,now $(HARDEN_LD)

LIB_SRC   := $(filter-out src/main.c,$(wildcard src/*.c src/cql/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CQLD_SRC  := $(wildcard tests/cqld/*.c)
CQLD_OBJ  := $(CQLD_SRC:%.c=$(BUILD)/obj/%.o)
CQLD_LIB  := $(BUILD)/obj/src/buf.o $(BUILD)/obj/src/cql/cql_proto.o
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

DAEMON    := $(BUILD)/postfix-aws-cassandra
CQLD      := $(BUILD)/cqld
PYTHON    ?= /usr/bin/python3

.PHONY: all test unit e2e demo clean deps

all: $(DAEMON) $(CQLD)

deps:
	@scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Itests/cqld -c $< -o $@

$(DAEMON): $(BUILD)/obj/src/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(CQLD): $(CQLD_OBJ) $(CQLD_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Each unit test links the whole library (and cqld's parser, for its tests).
$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJ) $(filter-out $(BUILD)/obj/tests/cqld/cqld.o,$(CQLD_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/cqld -Itests/unit $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

e2e: all
	PAC_BUILD=$(BUILD) $(PYTHON) -m pytest -q tests/e2e

test: unit e2e

demo: all
	@scripts/demo.sh --no-build

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
