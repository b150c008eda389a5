# mk/drivers.mk - the real-driver programs tests/e2e/test_cqld_drivers.py runs
#
#   make gocql-check   build/gocql-check from tests/drivers/gocql/main.go
#
# gocql comes from Debian's golang-github-gocql-gocql-dev (sources under
# /usr/share/gocode/src): the build is GOPATH mode with the module proxy
# off, so nothing is ever downloaded. The Node.js program
# (tests/drivers/node/driver_check.js) needs no build; its node_modules
# come from scripts/install-deps.sh (npm ci against the lock file).

GO          ?= go
GOCODE      ?= /usr/share/gocode
GOCQL_CHECK := $(BUILD)/gocql-check
GO_ENV      := GO111MODULE=off GOFLAGS= GOPROXY=off GOSUMDB=off \
               GOPATH=$(abspath $(BUILD))/gopath:$(GOCODE) \
               GOCACHE=$(abspath $(BUILD))/gocache

.PHONY: gocql-check
gocql-check: $(GOCQL_CHECK)

$(GOCQL_CHECK): tests/drivers/gocql/main.go
	@mkdir -p $(BUILD)/gopath $(BUILD)/gocache
	$(GO_ENV) $(GO) build -o $@ ./tests/drivers/gocql
