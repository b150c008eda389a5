build/obj/src/cache.o: src/cache.c src/cache.h
src/cache.h:
