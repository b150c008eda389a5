build/obj/tests/cqld/cql_lang.o: tests/cqld/cql_lang.c \
 tests/cqld/cql_lang.h src/cql/cql_proto.h src/cql/../buf.h
tests/cqld/cql_lang.h:
src/cql/cql_proto.h:
src/cql/../buf.h:
