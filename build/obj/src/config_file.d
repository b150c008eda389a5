build/obj/src/config_file.o: src/config_file.c src/config_file.h \
 src/map_registry.h src/search_order.h src/lookup_key.h src/socketmap.h \
 src/buf.h src/result_format.h
src/config_file.h:
src/map_registry.h:
src/search_order.h:
src/lookup_key.h:
src/socketmap.h:
src/buf.h:
src/result_format.h:
