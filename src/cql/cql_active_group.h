/*
 * cql_active_group - which host group serves reads: failover and failback
 *
 * SYNOPSIS
 *	#include "cql/cql_active_group.h"
 *
 *	void cql_active_init(struct cql_active_group *a, size_t ngroups,
 *			     int holddown_ms);
 *	void cql_active_health(struct cql_active_group *a, size_t i,
 *			       enum cql_group_health h);
 *	void cql_active_read(struct cql_active_group *a, size_t i, int ok,
 *			     int64_t now);
 *	enum cql_switch cql_active_decide(struct cql_active_group *a,
 *					  int64_t now);
 *
 * DESCRIPTION
 *	Group 0 is the primary (CASSANDRA_HOSTS), groups 1.. the standby
 *	groups in the order they were written. Reads go to the active group.
 *
 *	A group can serve when it is UP (a usable connection) and its last
 *	CQL_FAILOVER_FAILED_READS reads have not all failed for want of the
 *	database (timeout, lost connection, Unavailable, ...). The active
 *	group fails when it is DOWN (every node failed, none up) or its reads
 *	fail so; reads then move to the first other group that can serve
 *	(failover). A group still connecting is not failing: a primary that
 *	is slower to connect than a standby keeps its place.
 *
 *	A group before the active one gets reads back (failback) once it
 *	has been "proven" for holddown_ms: UP, with every read sent to it
 *	(the I/O layer copies a read to it now and then, cql_active_probe)
 *	answered since. A failed read or a lost last connection restarts the
 *	hold-down, so a flapping region does not bounce traffic.
 *
 *	A pure state machine: time comes in as an argument; no clock, no I/O.
 */
#ifndef PAC_CQL_ACTIVE_GROUP_H
#define PAC_CQL_ACTIVE_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "cql_groups.h"

#define CQL_FAILOVER_FAILED_READS	3	/* reads failing in a row: the group fails */
#define CQL_ACTIVE_NEVER		(-1)	/* proven_ms: not since its last failure */

enum cql_group_health {
	CQL_GROUP_CONNECTING,	/* no usable connection yet, not every node failed */
	CQL_GROUP_UP,		/* a usable connection */
	CQL_GROUP_DOWN,		/* every node failed, none up */
};

enum cql_switch {
	CQL_SWITCH_NONE,
	CQL_SWITCH_FAILOVER,	/* the active group failed: a later (or earlier) one serves */
	CQL_SWITCH_FAILBACK,	/* an earlier group served through its hold-down */
};

struct cql_group_track {
	enum cql_group_health health;
	unsigned failed_reads;		/* in a row, since its last answer */
	int64_t proven_ms;		/* serving since (ms), or CQL_ACTIVE_NEVER */
};

struct cql_active_group {
	size_t ngroups;
	size_t active;
	size_t previous;		/* the group before the last switch */
	int holddown_ms;
	unsigned switches;		/* failovers and failbacks so far */
	struct cql_group_track g[CQL_MAX_GROUPS];
};

/* cql_active_init - ngroups groups (1 to CQL_MAX_GROUPS), the primary active */
void cql_active_init(struct cql_active_group *a, size_t ngroups, int holddown_ms);
/* cql_active_health - group i's connections now; leaving UP ends its proof */
void cql_active_health(struct cql_active_group *a, size_t i, enum cql_group_health h);
/* cql_active_read - a read on group i answered (ok) or failed for want of the database */
void cql_active_read(struct cql_active_group *a, size_t i, int ok, int64_t now);
/* cql_active_can_serve - group i is UP and its reads are not failing */
int cql_active_can_serve(const struct cql_active_group *a, size_t i);
/*
 * cql_active_probe - group i should get a copy of a read: it is UP, not
 * active, and either before the active one (its hold-down needs answers)
 * or not yet proven (a standby shows once that it can read)
 */
int cql_active_probe(const struct cql_active_group *a, size_t i);
/* cql_active_next - the first group other than the active one that can serve; -1: none */
int cql_active_next(const struct cql_active_group *a);
/* cql_active_decide - switch if due (a->active is then the new group) */
enum cql_switch cql_active_decide(struct cql_active_group *a, int64_t now);

#endif
