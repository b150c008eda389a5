build/obj/src/lookup_key.o: src/lookup_key.c src/lookup_key.h
src/lookup_key.h:
