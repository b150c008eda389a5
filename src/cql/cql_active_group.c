/*
 * cql_active_group - which host group serves reads: failover and failback
 *
 * DESCRIPTION
 *	See cql_active_group.h. Failover has no hold-down: the group that
 *	reads go to cannot answer them, and every moment spent there is a
 *	TEMP. Failback has one, because the group that serves now does.
 */
#include <string.h>

#include "cql_active_group.h"

/* cql_active_init - every group connecting, the primary active */
void cql_active_init(struct cql_active_group *a, size_t ngroups, int holddown_ms)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	a->ngroups = ngroups < 1 ? 1 : ngroups > CQL_MAX_GROUPS ? CQL_MAX_GROUPS : ngroups;
	a->holddown_ms = holddown_ms < 0 ? 0 : holddown_ms;
	for (i = 0; i < CQL_MAX_GROUPS; i++) {
		a->g[i].health = CQL_GROUP_CONNECTING;
		a->g[i].proven_ms = CQL_ACTIVE_NEVER;
	}
}

/* cql_active_health - group i's connections now */
void cql_active_health(struct cql_active_group *a, size_t i, enum cql_group_health h)
{
	struct cql_group_track *t;

	if (i >= a->ngroups)
		return;
	t = &a->g[i];
	if (h != CQL_GROUP_UP)
		t->proven_ms = CQL_ACTIVE_NEVER;
	else if (t->health != CQL_GROUP_UP)
		t->failed_reads = 0;	/* reconnected: its reads get a fresh start */
	t->health = h;
}

/* cql_active_read - a read on group i answered, or failed for want of the database */
void cql_active_read(struct cql_active_group *a, size_t i, int ok, int64_t now)
{
	struct cql_group_track *t;

	if (i >= a->ngroups)
		return;
	t = &a->g[i];
	if (ok) {
		t->failed_reads = 0;
		if (t->proven_ms == CQL_ACTIVE_NEVER && t->health == CQL_GROUP_UP)
			t->proven_ms = now;
	} else {
		if (t->failed_reads < CQL_FAILOVER_FAILED_READS)
			t->failed_reads++;
		t->proven_ms = CQL_ACTIVE_NEVER;
	}
}

/* cql_active_can_serve - UP, and its reads are not failing */
int cql_active_can_serve(const struct cql_active_group *a, size_t i)
{
	return i < a->ngroups && a->g[i].health == CQL_GROUP_UP &&
	       a->g[i].failed_reads < CQL_FAILOVER_FAILED_READS;
}

/* cql_active_probe - group i should get a copy of a read */
int cql_active_probe(const struct cql_active_group *a, size_t i)
{
	return i < a->ngroups && i != a->active && a->g[i].health == CQL_GROUP_UP &&
	       (i < a->active || a->g[i].proven_ms == CQL_ACTIVE_NEVER);
}

/* cql_active_next - the first other group that can serve, or -1 */
int cql_active_next(const struct cql_active_group *a)
{
	size_t i;

	for (i = 0; i < a->ngroups; i++)
		if (i != a->active && cql_active_can_serve(a, i))
			return (int)i;
	return -1;
}

/* failing - the active group cannot serve: all down, or its reads failing */
static int failing(const struct cql_active_group *a)
{
	const struct cql_group_track *t = &a->g[a->active];

	return t->health == CQL_GROUP_DOWN ||
	       (t->health == CQL_GROUP_UP && t->failed_reads >= CQL_FAILOVER_FAILED_READS);
}

/* switch_to - make group i active */
static enum cql_switch switch_to(struct cql_active_group *a, size_t i, enum cql_switch why)
{
	a->previous = a->active;
	a->active = i;
	a->switches++;
	return why;
}

/* cql_active_decide - fail over, fail back, or stay */
enum cql_switch cql_active_decide(struct cql_active_group *a, int64_t now)
{
	int next;
	size_t i;

	if (failing(a)) {
		if ((next = cql_active_next(a)) < 0)
			return CQL_SWITCH_NONE;	/* nowhere better: reads say TEMP */
		return switch_to(a, (size_t)next, CQL_SWITCH_FAILOVER);
	}
	for (i = 0; i < a->active; i++)
		if (cql_active_can_serve(a, i) && a->g[i].proven_ms != CQL_ACTIVE_NEVER &&
		    now - a->g[i].proven_ms >= a->holddown_ms)
			return switch_to(a, i, CQL_SWITCH_FAILBACK);
	return CQL_SWITCH_NONE;
}
