/*
 * clock - monotonic time in milliseconds (see clock.h)
 */
#include <time.h>

#include "clock.h"

static clock_hook_fn clock_hook;	/* set by unit tests only */

/* clock_set_hook - read time from fn from now on (NULL: the real clock) */
void clock_set_hook(clock_hook_fn fn)
{
	clock_hook = fn;
}

/* read_ms - one of the monotonic clocks in milliseconds, or the hook's time */
static int64_t read_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_hook != NULL)
		return clock_hook();
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* clock_now_ms - monotonic milliseconds, never goes backwards */
int64_t clock_now_ms(void)
{
	return read_ms(CLOCK_MONOTONIC);
}

/*
 * clock_coarse_ms - monotonic milliseconds at the kernel tick's
 * resolution (CLOCK_MONOTONIC_COARSE: no hardware counter read), for
 * what is stamped on every request
 */
int64_t clock_coarse_ms(void)
{
	return read_ms(CLOCK_MONOTONIC_COARSE);
}

/* clock_now_us - monotonic microseconds, for durations (the hook's ms * 1000) */
int64_t clock_now_us(void)
{
	struct timespec ts;

	if (clock_hook != NULL)
		return clock_hook() * 1000;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* clock_timeval - milliseconds as seconds and microseconds */
struct timeval clock_timeval(int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}
