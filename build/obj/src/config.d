build/obj/src/config.o: src/config.c src/config.h src/cql/cql_session.h \
 src/cql/cql_conn.h src/cql/cql_proto.h src/cql/../buf.h \
 src/map_registry.h src/search_order.h src/lookup_key.h src/socketmap.h \
 src/buf.h src/log.h
src/config.h:
src/cql/cql_session.h:
src/cql/cql_conn.h:
src/cql/cql_proto.h:
src/cql/../buf.h:
src/map_registry.h:
src/search_order.h:
src/lookup_key.h:
src/socketmap.h:
src/buf.h:
src/log.h:
