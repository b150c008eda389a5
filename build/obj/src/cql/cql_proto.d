build/obj/src/cql/cql_proto.o: src/cql/cql_proto.c src/cql/cql_proto.h \
 src/cql/../buf.h
src/cql/cql_proto.h:
src/cql/../buf.h:
