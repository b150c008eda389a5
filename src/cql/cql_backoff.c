/*
 * cql_backoff - when to retry a throttled read (see cql_backoff.h)
 */
#include "cql_backoff.h"

#define CQL_BACKOFF_MAX_SHIFT	20	/* base * 2^20 is past any cap */

/* cql_backoff_random - xorshift32 (Marsaglia, "Xorshift RNGs", 2003) */
uint32_t cql_backoff_random(uint32_t *seed)
{
	uint32_t x = *seed ? *seed : 1;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*seed = x;
	return x;
}

/* cql_backoff_delay - full jitter under an exponential bound, cut to the deadline */
int cql_backoff_delay(const struct cql_backoff_policy *p, int attempt, int64_t left_ms,
		      uint32_t *seed)
{
	int64_t bound, room = left_ms - p->min_left_ms;
	int64_t delay;

	if (attempt < 0 || attempt >= p->max_attempts || room < 0 || p->base_ms < 1)
		return -1;
	bound = (int64_t)p->base_ms << (attempt < CQL_BACKOFF_MAX_SHIFT ? attempt
								: CQL_BACKOFF_MAX_SHIFT);
	if (bound > p->cap_ms)
		bound = p->cap_ms;
	delay = (int64_t)(cql_backoff_random(seed) % (uint64_t)(bound + 1));
	return (int)(delay < room ? delay : room);
}
