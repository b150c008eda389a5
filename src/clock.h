/*
 * clock - monotonic and wall time in milliseconds
 *
 * SYNOPSIS
 *	#include "clock.h"
 *
 * DESCRIPTION
 *	clock_now_ms() is the one monotonic clock of the daemon; durations
 *	are int64_t milliseconds, clock_timeval() turns one into a timeout. A unit test
 *	may replace it with clock_set_hook(), so time-dependent policy
 *	(TTLs, stale windows, refresh-ahead) is tested at exact instants.
 */
#ifndef PAC_CLOCK_H
#define PAC_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

typedef int64_t (*clock_hook_fn)(void);

int64_t clock_now_ms(void);	/* CLOCK_MONOTONIC, or the hook's time */
int64_t clock_now_us(void);	/* the same clock in microseconds: latencies */
int64_t clock_coarse_ms(void);	/* the same clock at tick resolution (~4 ms), cheaper */

/* clock_set_hook - tests only: read time from fn (NULL: the real clock) */
void clock_set_hook(clock_hook_fn fn);

/* clock_timeval - ms (>= 0) as the struct timeval libevent's timers take */
struct timeval clock_timeval(int64_t ms);

#endif
