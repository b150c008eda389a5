# mk/admin.mk - the admin program, postfix-aws-cassandra-admin (src/tool/)
#
#   make              also builds build/postfix-aws-cassandra-admin
#   make install      installs it to $(PREFIX)/sbin with its man page
#
# It links the daemon's library (CQL client, configuration, AWS
# credentials) and its own sources under src/tool/.

ADMIN_SRC := $(wildcard src/tool/*.c)
ADMIN_OBJ := $(ADMIN_SRC:%.c=$(BUILD)/obj/%.o)
ADMIN     := $(BUILD)/postfix-aws-cassandra-admin

all: $(ADMIN)

$(ADMIN): $(ADMIN_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The source parser's unit test links its module.
$(BUILD)/tests/test_table_source: $(BUILD)/obj/src/tool/table_source.o

install: install-admin
.PHONY: install-admin
install-admin: $(ADMIN)
	install -D -m 0755 $(ADMIN) $(DESTDIR)$(PREFIX)/sbin/postfix-aws-cassandra-admin
	install -D -m 0644 man/postfix-aws-cassandra-admin.8 $(DESTDIR)$(PREFIX)/share/man/man8/postfix-aws-cassandra-admin.8
	gzip -9nf $(DESTDIR)$(PREFIX)/share/man/man8/postfix-aws-cassandra-admin.8
