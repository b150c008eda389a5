build/obj/src/map_registry.o: src/map_registry.c src/map_registry.h \
 src/search_order.h src/lookup_key.h src/socketmap.h src/buf.h \
 src/result_format.h
src/map_registry.h:
src/search_order.h:
src/lookup_key.h:
src/socketmap.h:
src/buf.h:
src/result_format.h:
