# mk/aws.mk - Amazon Keyspaces support: SigV4 test tool, cqld's SigV4 verifier.
#
#   make sigv4-sign   build/sigv4-sign (tests/tools/sigv4_sign.c), used by
#                     tests/e2e/test_sigv4_crosscheck.py against AWS's Node plugin
#
# src/aws/*.c is already part of the daemon (LIB_SRC in the Makefile).

SIGV4_SIGN := $(BUILD)/sigv4-sign

all: $(SIGV4_SIGN)

.PHONY: sigv4-sign
sigv4-sign: $(SIGV4_SIGN)

$(SIGV4_SIGN): $(BUILD)/obj/tests/tools/sigv4_sign.o $(BUILD)/obj/src/aws/sigv4.o $(BUILD)/obj/src/buf.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# cqld verifies SigV4 answers with the daemon's own signer.
$(CQLD): $(BUILD)/obj/src/aws/sigv4.o
