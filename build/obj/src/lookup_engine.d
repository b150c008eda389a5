build/obj/src/lookup_engine.o: src/lookup_engine.c src/cache.h \
 src/clock.h src/cql/cql_session.h src/cql/cql_conn.h src/cql/cql_proto.h \
 src/cql/../buf.h src/log.h src/lookup_engine.h src/buf.h src/socketmap.h \
 src/lookup_key.h src/map_registry.h src/search_order.h \
 src/result_format.h
src/cache.h:
src/clock.h:
src/cql/cql_session.h:
src/cql/cql_conn.h:
src/cql/cql_proto.h:
src/cql/../buf.h:
src/log.h:
src/lookup_engine.h:
src/buf.h:
src/socketmap.h:
src/lookup_key.h:
src/map_registry.h:
src/search_order.h:
src/result_format.h:
