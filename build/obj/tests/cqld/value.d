build/obj/tests/cqld/value.o: tests/cqld/value.c src/cql/cql_proto.h \
 src/cql/../buf.h tests/cqld/value.h src/buf.h tests/cqld/cql_lang.h
src/cql/cql_proto.h:
src/cql/../buf.h:
tests/cqld/value.h:
src/buf.h:
tests/cqld/cql_lang.h:
