build/obj/src/main.o: src/main.c src/cache.h src/clock.h src/config.h \
 src/cql/cql_session.h src/cql/cql_conn.h src/cql/cql_proto.h \
 src/cql/../buf.h src/map_registry.h src/search_order.h src/lookup_key.h \
 src/socketmap.h src/buf.h src/config_file.h src/log.h \
 src/lookup_engine.h src/sm_server.h
src/cache.h:
src/clock.h:
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
src/config_file.h:
src/log.h:
src/lookup_engine.h:
src/sm_server.h:
