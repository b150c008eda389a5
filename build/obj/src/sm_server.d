build/obj/src/sm_server.o: src/sm_server.c src/log.h src/lookup_engine.h \
 src/buf.h src/socketmap.h src/netstring.h src/sm_server.h
src/log.h:
src/lookup_engine.h:
src/buf.h:
src/socketmap.h:
src/netstring.h:
src/sm_server.h:
