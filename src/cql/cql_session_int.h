/*
 * cql_session_int - the session's state, for the files of the session
 *
 * SYNOPSIS
 *	#include "cql/cql_session_int.h"
 *
 * DESCRIPTION
 *	struct cql_session, shared by the facade's reads (cql_session.c)
 *	and its state for metrics and logs (cql_session_info.c). Nothing
 *	outside the session includes it: cql_session.h is the interface.
 */
#ifndef PAC_CQL_SESSION_INT_H
#define PAC_CQL_SESSION_INT_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "log.h"
#include "cql_backoff.h"
#include "cql_discovery.h"
#include "cql_pool.h"
#include "cql_session_types.h"
#include "cql_startq.h"
#include "cql_stmt.h"

struct event_base;
struct exec;

struct cql_session {
	struct cql_session_config cfg;	/* the pool and discovery point here */
	struct event_base *base;
	struct cql_pool pool;
	struct cql_stmts stmts;
	struct cql_discovery disc;

	struct timeval deadline_tv_storage;
	const struct timeval *deadline_tv;	/* lookup deadline, a common timeout */
	struct log_limit paging_log;

	struct cql_backoff_policy backoff;	/* after throttled answers */
	uint32_t seed;				/* the backoff's jitter */
	LIST_HEAD(, exec) waiting;		/* reads waiting out a backoff */
	unsigned long long throttle_retries;
	struct log_limit throttle_log;
	struct cql_startq startq;		/* reads waiting for the first connection */
};

#endif
