build/obj/src/buf.o: src/buf.c src/buf.h
src/buf.h:
