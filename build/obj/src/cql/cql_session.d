build/obj/src/cql/cql_session.o: src/cql/cql_session.c src/cql/../clock.h \
 src/cql/../log.h src/cql/cql_session.h src/cql/cql_conn.h \
 src/cql/cql_proto.h src/cql/../buf.h
src/cql/../clock.h:
src/cql/../log.h:
src/cql/cql_session.h:
src/cql/cql_conn.h:
src/cql/cql_proto.h:
src/cql/../buf.h:
