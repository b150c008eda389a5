/*
 * cql_backoff - when to retry a throttled read (pure)
 *
 * SYNOPSIS
 *	#include "cql/cql_backoff.h"
 *
 * DESCRIPTION
 *	Amazon Keyspaces refuses requests over a connection's rate or a
 *	table's capacity with a ReadTimeout or WriteTimeout, and AWS asks
 *	clients to retry them with exponential backoff and jitter
 *	(Keyspaces developer guide, "Troubleshooting capacity management";
 *	AWS's retry helpers for the Java driver, AmazonKeyspacesRetryPolicy
 *	and its exponential variant). The schedule is "full jitter" as the
 *	AWS Architecture Blog's "Exponential Backoff And Jitter" defines it:
 *	attempt n waits a uniform random time in [0, min(cap, base * 2^n)].
 *
 *	cql_backoff_delay() also keeps a read inside its lookup deadline: a
 *	retry is worth sending only if min_left_ms remain after the wait for
 *	its answer, so the wait is cut to fit, and no retry is made once the
 *	deadline is that close (then the caller answers with the failure it
 *	has, which the lookup engine turns into TEMP).
 *
 *	The random numbers come from a caller-held xorshift32 state, so a
 *	schedule is reproducible from its seed (tests/unit/test_cql_backoff.c).
 *	No I/O, no clock.
 */
#ifndef PAC_CQL_BACKOFF_H
#define PAC_CQL_BACKOFF_H

#include <stdint.h>

struct cql_backoff_policy {
	int base_ms;		/* the first retry waits up to this */
	int cap_ms;		/* no wait is longer */
	int max_attempts;	/* retries of one read, at most */
	int min_left_ms;	/* time a retry needs before the deadline */
};

/*
 * cql_backoff_delay - the wait before retry number attempt (0: the first)
 * of a read with left_ms before its deadline: >= 0 milliseconds, or -1
 * when no retry should be made. *seed is the random state (never 0;
 * advanced).
 */
int cql_backoff_delay(const struct cql_backoff_policy *p, int attempt, int64_t left_ms,
		      uint32_t *seed);

/* cql_backoff_random - the next xorshift32 number of *seed (0 is taken as 1) */
uint32_t cql_backoff_random(uint32_t *seed);

#endif
