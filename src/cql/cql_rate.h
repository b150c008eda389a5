/*
 * cql_rate - requests per second to a node, and how many connections
 * that calls for (pure)
 *
 * SYNOPSIS
 *	#include "cql/cql_rate.h"
 *
 * DESCRIPTION
 *	Amazon Keyspaces serves at most 3000 CQL requests per second on one
 *	connection ("Quotas for Amazon Keyspaces"; past it requests are
 *	throttled, CloudWatch's PerConnectionRequestRateExceeded), and AWS's
 *	answer is more connections per endpoint address ("How to configure
 *	connections in Amazon Keyspaces"). So the pool measures the rate of
 *	requests sent to each node and asks cql_rate_decide() whether the
 *	node needs another connection, or can give one back.
 *
 *	The rate is a sliding window of CQL_RATE_WINDOW_MS made of two fixed
 *	halves, the last whole window weighted by how much of it still
 *	overlaps (as rate limiters commonly estimate it): cheap, and smooth
 *	enough to see a sustained rate within a second. Throttled answers
 *	are counted in the same window: one throttled answer means the
 *	server's limit is lower than the configured one, so it also asks for
 *	a connection.
 *
 *	  grow    a usable connection carries >= CQL_RATE_GROW_PCT % of the
 *	          limit, or the node throttled a request in the window, and
 *	          the node has fewer than the ceiling
 *	  shrink  the rate would fit in one connection fewer at most
 *	          CQL_RATE_SHRINK_PCT % of the limit each, nothing was
 *	          throttled and nothing added for CQL_RATE_QUIET_MS (the
 *	          server's limit may be lower than the one configured), and
 *	          the node has more than the floor
 *	  hold    otherwise, and while a connection added is not yet usable
 *
 *	The two thresholds are far apart so that a node does not flap
 *	between n and n+1 connections. No I/O, no clock: the caller passes
 *	the time (tests/unit/test_cql_rate.c).
 */
#ifndef PAC_CQL_RATE_H
#define PAC_CQL_RATE_H

#include <stdint.h>

#define CQL_RATE_WINDOW_MS	1000	/* the rate's window */
#define CQL_RATE_GROW_PCT	80	/* % of the limit on one connection: add one */
#define CQL_RATE_SHRINK_PCT	40	/* % of the limit with one fewer: drop one */
#define CQL_RATE_QUIET_MS	60000	/* no growth or throttle that long before a drop */

struct cql_rate {
	int64_t start_ms;		/* start of the current window; 0: none yet */
	uint32_t cur, prev;		/* requests in the current and last window */
	uint32_t thr_cur, thr_prev;	/* throttled answers, likewise */
};

enum cql_rate_decision {
	CQL_RATE_HOLD = 0,
	CQL_RATE_GROW,
	CQL_RATE_SHRINK,
};

struct cql_rate_scale {
	int slots;			/* connections the node has or is opening */
	int usable;			/* of which serve */
	int floor;			/* CASSANDRA_CONNECTIONS_PER_HOST */
	int ceiling;			/* CASSANDRA_CONNECTIONS_PER_HOST_MAX */
	int limit;			/* CASSANDRA_CONNECTION_RATE_LIMIT, requests/s */
	int64_t quiet_ms;		/* since the last growth or throttled answer */
};

/* cql_rate_add - one request sent at now_ms */
void cql_rate_add(struct cql_rate *r, int64_t now_ms);
/* cql_rate_throttled - one throttled answer at now_ms */
void cql_rate_throttled(struct cql_rate *r, int64_t now_ms);
/* cql_rate_per_s - requests per second over the last window */
double cql_rate_per_s(struct cql_rate *r, int64_t now_ms);
/* cql_rate_throttles - throttled answers over the last window */
uint32_t cql_rate_throttles(struct cql_rate *r, int64_t now_ms);
/* cql_rate_decide - grow, shrink or hold the node's connections */
enum cql_rate_decision cql_rate_decide(const struct cql_rate_scale *s, double per_s,
				       uint32_t throttles);

#endif
