# postfix-aws-cassandra - build, test and demo.
#
#   make              build/postfix-aws-cassandra and build/cqld (and mk/*.mk's: the admin program)
#   make test         unit tests (cmocka) and end-to-end tests (pytest, real Postfix)
#   make unit | e2e   one half of it
#   make demo         cqld with examples/demo.cql and the daemon on 127.0.0.1:9999
#   make SANITIZE=1   everything with AddressSanitizer and UBSan (own build dir)
#   make rpm | srpm   the RPM (DIST=.amzn2023 for the dist tag) or the source RPM
#   make deb          the .deb and its -dbgsym (scripts/make-deb.sh)
#
# A plain Makefile driven by pkg-config: the tree is small, every Debian and
# Amazon Linux machine has make, and there is nothing to configure.

VERSION   := $(shell cat VERSION)
CC        ?= cc
PKGS      := libevent libevent_openssl openssl libsystemd jansson expat
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS  := $(shell pkg-config --libs $(PKGS)) -levent_extra
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

WARN      := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
             -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
ifeq ($(SANITIZE),1)
BUILD     ?= build-san
OPT       := -O1 -g -fno-omit-frame-pointer
SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined
HARDEN_LD := -fsanitize=address,undefined
else
BUILD     ?= build
OPT       := -O2 -g -D_FORTIFY_SOURCE=2
SAN       :=
HARDEN_LD :=
endif
# CFLAGS and LDFLAGS are the packager's (rpm's %{optflags} and
# %{build_ldflags}, dpkg-buildflags), from the command line or the
# environment: they replace OPT; what the code needs is appended to them.
CFLAGS    ?= $(OPT)
LDFLAGS   ?=
override CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) $(SAN) -fstack-protector-strong -fPIE \
             -DPAC_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS)
override LDFLAGS += -pie -Wl,-z,relro,-z,now $(HARDEN_LD)

LIB_SRC   := $(filter-out src/main.c,$(wildcard src/*.c src/cql/*.c src/aws/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CQLD_SRC  := $(wildcard tests/cqld/*.c)
CQLD_OBJ  := $(CQLD_SRC:%.c=$(BUILD)/obj/%.o)
CQLD_LIB  := $(BUILD)/obj/src/buf.o $(BUILD)/obj/src/cql/cql_proto.o $(BUILD)/obj/src/cql/cql_response.o
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

DAEMON    := $(BUILD)/postfix-aws-cassandra
CQLD      := $(BUILD)/cqld
PYTHON    ?= /usr/bin/python3

.PHONY: all test unit unit-build e2e demo clean deps install rpm srpm deb dist

PREFIX    ?= /usr
ENVDIR    ?= /etc/sysconfig
UNITDIR   ?= /usr/lib/systemd/system
DOCDIR    ?= $(PREFIX)/share/doc/postfix-aws-cassandra
MONDIR    ?= $(PREFIX)/share/postfix-aws-cassandra/monitoring
TARNAME   := postfix-aws-cassandra-$(VERSION)

all: $(DAEMON) $(CQLD)

deps:
	@scripts/install-deps.sh

# The daemon's sources see only src/ (-Isrc in CFLAGS); cqld's also its own
# directory, for the headers the unit tests share with it.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/cqld/%.o: tests/cqld/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Itests/cqld -c $< -o $@

$(DAEMON): $(BUILD)/obj/src/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(CQLD): $(CQLD_OBJ) $(CQLD_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Each unit test links the whole library (and cqld's parser, for its tests;
# not the server: cqld.c and its cqld_*.c parts).
$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJ) $(filter-out $(BUILD)/obj/tests/cqld/cqld%.o,$(CQLD_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/cqld -Itests/unit $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# Build the unit tests without running them (scripts/test.sh builds in parallel first).
unit-build: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# The end-to-end files run in parallel (pytest-xdist), one file per worker at
# a time so that a file's shared Postfix instance is set up once; most of a
# test's time is spent waiting (timeouts, retries, Postfix), not computing.
# E2E_JOBS=0 runs them one at a time in this process.
E2E_ARGS  ?=
E2E_JOBS  ?= 3
E2E_PAR    = $(if $(filter-out 0,$(E2E_JOBS)),-n $(E2E_JOBS) --dist loadfile)
e2e: all
	PAC_BUILD=$(BUILD) $(PYTHON) -m pytest -q --durations=12 $(E2E_PAR) $(E2E_ARGS) tests/e2e

test: unit e2e

demo: all
	@scripts/demo.sh --no-build

# Files of the installed daemon (used by the RPM and the .deb).
install: $(DAEMON)
	install -D -m 0755 $(DAEMON) $(DESTDIR)$(PREFIX)/sbin/postfix-aws-cassandra
	install -D -m 0644 packaging/systemd/postfix-aws-cassandra.service $(DESTDIR)$(UNITDIR)/postfix-aws-cassandra.service
	install -D -m 0644 packaging/sysusers/postfix-aws-cassandra.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/postfix-aws-cassandra.conf
	install -D -m 0644 packaging/systemd/postfix-aws-cassandra.socket $(DESTDIR)$(UNITDIR)/postfix-aws-cassandra.socket
	install -D -m 0644 packaging/systemd/unix-socket.conf $(DESTDIR)$(PREFIX)/share/postfix-aws-cassandra/systemd/unix-socket.conf
	install -D -m 0644 man/postfix-aws-cassandra.8 $(DESTDIR)$(PREFIX)/share/man/man8/postfix-aws-cassandra.8
	gzip -9nf $(DESTDIR)$(PREFIX)/share/man/man8/postfix-aws-cassandra.8
	install -D -m 0640 packaging/etc/postfix-aws-cassandra.env $(DESTDIR)$(ENVDIR)/postfix-aws-cassandra
	install -D -m 0644 packaging/etc/postfix-aws-cassandra.conf $(DESTDIR)/etc/postfix-aws-cassandra/postfix-aws-cassandra.conf
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0644 packaging/schema/keyspaces.cql $(DESTDIR)$(DOCDIR)/schema-keyspaces.cql
	install -D -m 0644 packaging/schema/cassandra.cql $(DESTDIR)$(DOCDIR)/schema-cassandra.cql
	install -D -m 0644 packaging/postfix/main.cf.snippet $(DESTDIR)$(DOCDIR)/postfix-main.cf.snippet
	install -D -m 0644 -t $(DESTDIR)$(MONDIR) packaging/monitoring/postfix-aws-cassandra.rules.yml \
		packaging/monitoring/grafana-dashboard.json

# The source tarball is what git has committed (HEAD), nothing else; the
# spec and the sysusers file the RPM's %pre embeds come from HEAD too.
RPM_SPEC  := $(BUILD)/rpm/SPECS/postfix-aws-cassandra.spec
dist:
	@mkdir -p $(BUILD)/rpm/SOURCES $(BUILD)/rpm/SPECS
	git archive --format=tar.gz --prefix=$(TARNAME)/ -o $(BUILD)/rpm/SOURCES/$(TARNAME).tar.gz HEAD
	git show HEAD:packaging/sysusers/postfix-aws-cassandra.conf > $(BUILD)/rpm/SOURCES/postfix-aws-cassandra.sysusers
	git show HEAD:packaging/rpm/postfix-aws-cassandra.spec | sed 's/@VERSION@/$(VERSION)/' > $(RPM_SPEC)

# On Debian the BuildRequires are Debian packages rpm cannot see: --nodeps.
# DIST is the release's dist tag (DIST=.amzn2023); unset, rpm's own %{?dist}
# (.amzn2023 on Amazon Linux 2023, none on Debian).
# RPMBUILD_ARGS: more rpmbuild options (RPMBUILD_ARGS="--with debuginfo").
DIST      ?=
RPMBUILD_ARGS ?=
RPMBUILD_FLAGS := $(if $(wildcard /etc/debian_version),--nodeps,) \
		  --define "_topdir $(abspath $(BUILD))/rpm" $(if $(DIST),--define "dist $(DIST)") \
		  $(RPMBUILD_ARGS)
rpm: dist
	rpmbuild -bb $(RPMBUILD_FLAGS) $(RPM_SPEC)
	@find $(BUILD)/rpm/RPMS -name '*.rpm' -print

# The source RPM, for `rpmbuild --rebuild` on an Amazon Linux build host.
srpm: dist
	rpmbuild -bs $(RPMBUILD_FLAGS) $(RPM_SPEC)
	@find $(BUILD)/rpm/SRPMS -name '*.src.rpm' -print

DEB_ARCH  := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_ROOT  := $(BUILD)/deb/root
deb: $(DAEMON)
	rm -rf $(BUILD)/deb && mkdir -p $(DEB_ROOT)
	$(MAKE) -s install DESTDIR=$(abspath $(DEB_ROOT)) ENVDIR=/etc/default
	scripts/make-deb.sh $(BUILD) $(VERSION) $(DEB_ARCH)

clean:
	rm -rf build build-san build-fuzz

# Further targets (fuzz, bench, soak, ...) live in their own fragments.
include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
