/*
 * cql_session_info - what a CQL session tells about its state
 *
 * DESCRIPTION
 *	See cql_session.h: the nodes up, the state line, the counters the
 *	metrics show, and whether every node failed.
 */
#include "cql_session.h"
#include "cql_session_int.h"

/* cql_session_is_ready - a connection serves */
int cql_session_is_ready(const struct cql_session *s)
{
	return cql_pool_first_usable((struct cql_pool *)&s->pool) != NULL;
}

/* cql_session_hosts_up - nodes with a usable connection, and all nodes */
void cql_session_hosts_up(const struct cql_session *s, size_t *up, size_t *known)
{
	cql_pool_hosts_up(&s->pool, up, known);
}

/* cql_session_host_info - for metrics */
int cql_session_host_info(const struct cql_session *s, size_t i, const char **label,
			  int *up, int *conns)
{
	if (i >= s->pool.nhosts)
		return -1;
	*label = s->pool.hosts[i]->label;
	*up = cql_pool_host_up(&s->pool, s->pool.hosts[i]);
	*conns = cql_pool_host_conns(&s->pool, s->pool.hosts[i]);
	return 0;
}

/* cql_session_state - one line for logs and status */
const char *cql_session_state(const struct cql_session *s)
{
	return s->pool.state_text;
}

/* cql_session_throttled - throttled answers, and the retries they caused */
void cql_session_throttled(const struct cql_session *s, unsigned long long *answers,
			   unsigned long long *retries)
{
	*answers = s->pool.throttled;
	*retries = s->throttle_retries;
}

/* cql_session_failures - failed connection attempts (and lost connections) */
unsigned cql_session_failures(const struct cql_session *s)
{
	return s->pool.failures;
}

/*
 * cql_session_all_failed - every name resolved (or failed to), and every
 * node known has failed with none up: waiting longer will not help a
 * one-shot command.
 */
int cql_session_all_failed(const struct cql_session *s)
{
	return !cql_discovery_resolving(&s->disc) && cql_pool_all_failed(&s->pool);
}

/* cql_session_startup_waits - reads that waited for the first connection, then were sent */
unsigned long long cql_session_startup_waits(const struct cql_session *s)
{
	return s->startq.sent;
}
