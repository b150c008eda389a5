/*
 * cql_failover - the CQL client with standby host groups (region failover)
 *
 * SYNOPSIS
 *	#include "cql/cql_failover.h"
 *
 * DESCRIPTION
 *	The client the daemon talks to: one CQL session (cql_session.h) per
 *	host group, the primary (CASSANDRA_HOSTS) and the standby groups of
 *	CASSANDRA_FAILOVER_HOSTS or AWS_FAILOVER_REGIONS (cql_groups.h), each
 *	connected all the time and, with SigV4, signing for its own region.
 *	Which group reads go to is decided by cql_active_group.h from the
 *	groups' connections and the outcome of reads; a switch is logged
 *	once.
 *
 *	A statement is registered with every group; the primary's handle
 *	is the one callers keep. A read that fails on its group for want of
 *	the database (timeout, lost connection, Unavailable, ...) is tried
 *	once more on another group that can serve, within the lookup
 *	deadline, else it answers as it failed: never a "no row" that no
 *	database said. While a standby serves, a read is copied now and then
 *	(CQL_FAILOVER_PROBE_MS) to the primary to prove it for the failback
 *	hold-down.
 *
 *	With no standby group it is the primary session and nothing else.
 */
#ifndef PAC_CQL_FAILOVER_H
#define PAC_CQL_FAILOVER_H

#include <stddef.h>

#include "cql_auth_sigv4.h"
#include "cql_groups.h"
#include "cql_session.h"

struct event_base;
struct evdns_base;
struct cql_failover;

#define CQL_FAILOVER_PROBE_MS	1000	/* a read copied to a group being proven */
#define CQL_FAILOVER_TICK_MS	250	/* groups' connections looked at */

/* How the groups are made. */
struct cql_failover_config {
	const struct cql_session_config *primary;	/* its auth is the standbys' too, */
	const char *primary_region;			/* unless sigv4 is set: "" if none */
	const struct cql_group_spec *standby;
	size_t nstandby;
	int holddown_ms;		/* CASSANDRA_FAILBACK_HOLDDOWN_MS */
	cql_sigv4_creds_fn sigv4;	/* non-NULL: each standby signs for its region */
	void *sigv4_arg;
};

/*
 * cql_failover_new - the groups' sessions, not yet connecting; free with
 * cql_failover_free (the sessions first: their reads answer at once)
 */
struct cql_failover *cql_failover_new(struct event_base *base, struct evdns_base *dns,
				      const struct cql_failover_config *cfg);
void cql_failover_free(struct cql_failover *f);

/*
 * Statements: cql_failover_add registers one with every group and gives
 * the primary's handle; cql_failover_stmt_state is its state in the group
 * reads go to now; cql_failover_keep_only retires, in every group, those
 * not listed (as cql_session_keep_only).
 */
struct cql_stmt *cql_failover_add(struct cql_failover *f, const char *cql);
enum cql_stmt_state cql_failover_stmt_state(const struct cql_failover *f,
					    const struct cql_stmt *st,
					    const struct cql_error **err);
void cql_failover_keep_only(struct cql_failover *f, struct cql_stmt *const *keep, size_t n);
/* cql_failover_add_aux - cql_session_add_aux in every group (never retired) */
struct cql_stmt *cql_failover_add_aux(struct cql_failover *f, const char *cql);
/* cql_failover_stop_waiting - cql_session_stop_waiting in every group */
void cql_failover_stop_waiting(struct cql_failover *f);
/* cql_failover_startup_waits - cql_session_startup_waits summed over every group */
unsigned long long cql_failover_startup_waits(const struct cql_failover *f);
/* cql_failover_throttled - cql_session_throttled summed over every group */
void cql_failover_throttled(const struct cql_failover *f, unsigned long long *answers,
			    unsigned long long *retries);
/* cql_failover_stmt_state_in - its state in group g (--check reports each group) */
enum cql_stmt_state cql_failover_stmt_state_in(const struct cql_failover *f, size_t g,
					       const struct cql_stmt *st,
					       const struct cql_error **err);

/* cql_failover_execute - cql_session_execute on the active group (see above) */
int cql_failover_execute(struct cql_failover *f, struct cql_stmt *st,
			 const struct cql_value *vals, size_t nvals,
			 cql_result_fn cb, void *arg, enum cql_status *why);

/* cql_failover_start - every group begins connecting */
void cql_failover_start(struct cql_failover *f);
/* cql_failover_retry_now - end every node's backoff, in every group */
void cql_failover_retry_now(struct cql_failover *f);

/* cql_failover_is_ready - some group can take a read now */
int cql_failover_is_ready(const struct cql_failover *f);
/* cql_failover_all_failed - every group's nodes all failed */
int cql_failover_all_failed(const struct cql_failover *f);
/* cql_failover_settled - every group is up or has failed (none still connecting) */
int cql_failover_settled(const struct cql_failover *f);
/* cql_failover_state - one line: the active group and each group's state */
const char *cql_failover_state(struct cql_failover *f);
/* cql_failover_host_info - node i over every group; -1 past the last */
int cql_failover_host_info(const struct cql_failover *f, size_t i, const char **label,
			   int *up, int *conns);

/* cql_failover_groups - how many groups (1: no failover) */
size_t cql_failover_groups(const struct cql_failover *f);
/* cql_failover_active - the group reads go to: 0 primary, 1.. standby */
size_t cql_failover_active(const struct cql_failover *f);
/* cql_failover_switches - failovers and failbacks so far */
unsigned cql_failover_switches(const struct cql_failover *f);
/*
 * cql_failover_group - group i's region ("" if none), session state line
 * and whether it is up; -1 past the last
 */
int cql_failover_group(const struct cql_failover *f, size_t i, const char **region,
		       const char **state, int *up);

#endif
