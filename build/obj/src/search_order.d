build/obj/src/search_order.o: src/search_order.c src/search_order.h \
 src/lookup_key.h
src/search_order.h:
src/lookup_key.h:
