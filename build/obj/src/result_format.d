build/obj/src/result_format.o: src/result_format.c src/result_format.h \
 src/buf.h
src/result_format.h:
src/buf.h:
