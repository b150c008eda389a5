build/obj/src/netstring.o: src/netstring.c src/netstring.h src/buf.h
src/netstring.h:
src/buf.h:
