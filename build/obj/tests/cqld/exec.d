build/obj/tests/cqld/exec.o: tests/cqld/exec.c tests/cqld/exec.h \
 src/buf.h src/cql/cql_proto.h src/cql/../buf.h tests/cqld/cql_lang.h \
 tests/cqld/store.h tests/cqld/value.h
tests/cqld/exec.h:
src/buf.h:
src/cql/cql_proto.h:
src/cql/../buf.h:
tests/cqld/cql_lang.h:
tests/cqld/store.h:
tests/cqld/value.h:
