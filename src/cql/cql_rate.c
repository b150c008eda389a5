/*
 * cql_rate - requests per second to a node, and how many connections
 * that calls for (see cql_rate.h)
 */
#include "cql_rate.h"

/* roll - move the window to the one holding now_ms */
static void roll(struct cql_rate *r, int64_t now_ms)
{
	int64_t age;

	if (r->start_ms == 0 || now_ms < r->start_ms) {
		/* First use, or a clock that went back: start afresh. */
		if (r->start_ms == 0 || now_ms < r->start_ms - CQL_RATE_WINDOW_MS)
			r->cur = r->prev = r->thr_cur = r->thr_prev = 0;
		r->start_ms = now_ms;
		return;
	}
	age = now_ms - r->start_ms;
	if (age < CQL_RATE_WINDOW_MS)
		return;
	if (age < 2 * CQL_RATE_WINDOW_MS) {
		r->prev = r->cur;
		r->thr_prev = r->thr_cur;
		r->start_ms += CQL_RATE_WINDOW_MS;
	} else {
		r->prev = r->thr_prev = 0;
		r->start_ms = now_ms;
	}
	r->cur = r->thr_cur = 0;
}

/* cql_rate_add - count a request */
void cql_rate_add(struct cql_rate *r, int64_t now_ms)
{
	roll(r, now_ms);
	if (r->cur < UINT32_MAX)
		r->cur++;
}

/* cql_rate_throttled - count a throttled answer */
void cql_rate_throttled(struct cql_rate *r, int64_t now_ms)
{
	roll(r, now_ms);
	if (r->thr_cur < UINT32_MAX)
		r->thr_cur++;
}

/* overlap - the share of the last window still inside the sliding one */
static double overlap(const struct cql_rate *r, int64_t now_ms)
{
	return (double)(CQL_RATE_WINDOW_MS - (now_ms - r->start_ms)) / CQL_RATE_WINDOW_MS;
}

/* cql_rate_per_s - the sliding estimate, per second */
double cql_rate_per_s(struct cql_rate *r, int64_t now_ms)
{
	roll(r, now_ms);
	return ((double)r->prev * overlap(r, now_ms) + (double)r->cur) * 1000.0 /
	       CQL_RATE_WINDOW_MS;
}

/* cql_rate_throttles - throttled answers in the sliding window (rounded up) */
uint32_t cql_rate_throttles(struct cql_rate *r, int64_t now_ms)
{
	double n;

	roll(r, now_ms);
	n = (double)r->thr_prev * overlap(r, now_ms);
	return r->thr_cur + (uint32_t)n + (n > (double)(uint32_t)n);
}

/* cql_rate_decide - see the table in cql_rate.h */
enum cql_rate_decision cql_rate_decide(const struct cql_rate_scale *s, double per_s,
				       uint32_t throttles)
{
	double limit = s->limit > 0 ? s->limit : 1;

	if (s->usable < s->slots || s->usable < 1)
		return CQL_RATE_HOLD;	/* one is still opening: see what it does */
	if (s->slots < s->ceiling &&
	    (throttles > 0 || per_s / s->usable >= limit * CQL_RATE_GROW_PCT / 100.0))
		return CQL_RATE_GROW;
	if (s->slots > s->floor && throttles == 0 && s->quiet_ms >= CQL_RATE_QUIET_MS &&
	    per_s / (s->slots - 1) <= limit * CQL_RATE_SHRINK_PCT / 100.0)
		return CQL_RATE_SHRINK;
	return CQL_RATE_HOLD;
}
