build/obj/src/log.o: src/log.c src/clock.h src/log.h
src/clock.h:
src/log.h:
