build/obj/tests/cqld/store.o: tests/cqld/store.c src/cql/cql_proto.h \
 src/cql/../buf.h tests/cqld/store.h tests/cqld/cql_lang.h \
 tests/cqld/value.h src/buf.h
src/cql/cql_proto.h:
src/cql/../buf.h:
tests/cqld/store.h:
tests/cqld/cql_lang.h:
tests/cqld/value.h:
src/buf.h:
