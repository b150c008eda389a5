build/obj/src/socketmap.o: src/socketmap.c src/netstring.h src/buf.h \
 src/socketmap.h
src/netstring.h:
src/buf.h:
src/socketmap.h:
