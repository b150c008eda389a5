/*
 * clock - monotonic time in milliseconds (see clock.h)
 */
#include <time.h>

#include "clock.h"

/* clock_now_ms - monotonic milliseconds, never goes backwards */
int64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
