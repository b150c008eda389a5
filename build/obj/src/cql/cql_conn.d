build/obj/src/cql/cql_conn.o: src/cql/cql_conn.c src/cql/../clock.h \
 src/cql/../log.h src/cql/cql_conn.h src/cql/cql_proto.h src/cql/../buf.h
src/cql/../clock.h:
src/cql/../log.h:
src/cql/cql_conn.h:
src/cql/cql_proto.h:
src/cql/../buf.h:
