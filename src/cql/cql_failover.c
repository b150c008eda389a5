/*
 * cql_failover - the CQL client with standby host groups (region failover)
 *
 * DESCRIPTION
 *	See cql_failover.h. The decisions are cql_active_group's; this file
 *	feeds it (each group's connections every CQL_FAILOVER_TICK_MS and at
 *	each read, each read's outcome), routes reads and logs the switches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "cql_active_group.h"
#include "cql_failover.h"

#define FO_STATE_MAX		2048	/* bytes in the state line, with its NUL */
#define FO_NAME_MAX		32	/* "standby group N", with its NUL */
#define FO_EXEC_MAX_VALUES	8	/* bound values in one read (as the session) */
#define FO_PROBE_KEY_MAX	1024	/* bytes of the last read's key kept for probes */
#define FO_WHY_MAX		128	/* bytes of a group's last read failure, with its NUL */

/* One statement in every group: st[0] is the handle callers keep. */
struct fo_twin {
	struct cql_stmt *st[CQL_MAX_GROUPS];
};

struct cql_failover {
	struct event_base *base;
	size_t n;
	struct cql_session *s[CQL_MAX_GROUPS];
	struct cql_auth *auth[CQL_MAX_GROUPS];	/* owned: a standby's SigV4 */
	char region[CQL_MAX_GROUPS][CQL_REGION_MAX];
	struct cql_active_group fsm;
	struct fo_twin *twins;
	size_t ntwins, twins_cap;
	struct event *tick;
	int64_t probe_ms[CQL_MAX_GROUPS];	/* last read copied to the group */
	int warned[CQL_MAX_GROUPS];		/* "standby cannot serve" said */
	char why[CQL_MAX_GROUPS][FO_WHY_MAX];	/* its last read failure, for the log */
	int lookup_timeout_ms, request_timeout_ms;
	int stopping;
	long probe_twin;			/* the last read, which the tick copies: -1 none */
	int32_t probe_len;
	uint8_t probe_key[FO_PROBE_KEY_MAX];
	char state[FO_STATE_MAX];
};

/* A read in flight on a group. */
struct fo_read {
	struct cql_failover *f;
	size_t twin;			/* index in f->twins */
	size_t group;			/* where it was last sent */
	int probe;			/* a copy for the group's proof: nobody waits */
	int retried;
	int64_t deadline_ms;		/* the lookup deadline, kept by a retry */
	cql_result_fn cb;
	void *arg;
	size_t nvals;
	struct cql_value vals[FO_EXEC_MAX_VALUES];
	/* copies of the bound values follow */
};

static int fo_send(struct fo_read *r, size_t g, enum cql_status *why);
static void fo_probe(struct cql_failover *f, size_t twin, const struct cql_value *vals,
		     size_t nvals);

/* group_name - "primary group" or "standby group N", for logs */
static const char *group_name(size_t g, char *buf, size_t len)
{
	if (g == 0)
		return "primary group";
	snprintf(buf, len, "standby group %u", (unsigned)g);
	return buf;
}

/* region_of - group g's region for the log, "no region" when none */
static const char *region_of(const struct cql_failover *f, size_t g)
{
	return f->region[g][0] ? f->region[g] : "no region";
}

/* group_health - a session's connections as the state machine sees them */
static enum cql_group_health group_health(const struct cql_session *s)
{
	if (cql_session_is_ready(s))
		return CQL_GROUP_UP;
	return cql_session_all_failed(s) ? CQL_GROUP_DOWN : CQL_GROUP_CONNECTING;
}

/* log_switch - the one line a failover or failback writes */
static void log_switch(struct cql_failover *f, enum cql_switch sw)
{
	char a[FO_NAME_MAX], b[FO_NAME_MAX];
	size_t from = f->fsm.previous, to = f->fsm.active;
	char reads[FO_WHY_MAX + 64];

	/* Connections up but reads failing: the state line would say "up". */
	snprintf(reads, sizeof(reads), "its last %d reads failed: %s", CQL_FAILOVER_FAILED_READS,
		 f->why[from]);
	if (sw == CQL_SWITCH_FAILOVER)
		msg_warn("cql: failover: %s (%s) cannot serve (%s); reads go to %s (%s)",
			 group_name(from, a, sizeof(a)), region_of(f, from),
			 f->fsm.g[from].health == CQL_GROUP_UP ? reads : cql_session_state(f->s[from]),
			 group_name(to, b, sizeof(b)), region_of(f, to));
	else
		msg_info("cql: failback: %s (%s) answered for %d ms; reads go to it again",
			 group_name(to, b, sizeof(b)), region_of(f, to), f->fsm.holddown_ms);
}

/* warn_standby - once each time a standby group is found unable to connect */
static void warn_standby(struct cql_failover *f, size_t g, enum cql_group_health h)
{
	char b[FO_NAME_MAX];

	if (h == CQL_GROUP_UP)
		f->warned[g] = 0;
	if (g == 0 || h != CQL_GROUP_DOWN || f->warned[g] || f->stopping)
		return;
	f->warned[g] = 1;
	msg_warn("cql: %s (%s) cannot serve: %s; a failover could not use it",
		 group_name(g, b, sizeof(b)), region_of(f, g), cql_session_state(f->s[g]));
}

/* fo_update - the groups' connections into the state machine; switch if due */
static void fo_update(struct cql_failover *f)
{
	enum cql_group_health h;
	enum cql_switch sw;
	size_t g;

	if (f->n < 2 || f->stopping)
		return;
	for (g = 0; g < f->n; g++) {
		h = group_health(f->s[g]);
		warn_standby(f, g, h);
		cql_active_health(&f->fsm, g, h);
	}
	if ((sw = cql_active_decide(&f->fsm, clock_now_ms())) != CQL_SWITCH_NONE)
		log_switch(f, sw);
}

/*
 * tick_cb - look at the groups even while no read comes, and copy the
 * last read to a group being proven: with every answer cached, no read
 * would come to prove the primary, and reads would never return to it
 */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cql_failover *f = arg;
	struct cql_value v;

	(void)fd;
	(void)what;
	fo_update(f);
	if (f->probe_twin >= 0) {
		v.p = f->probe_key;
		v.len = f->probe_len;
		fo_probe(f, (size_t)f->probe_twin, &v, 1);
	}
}

/* keep_for_probe - remember a one-key read for the tick's probes */
static void keep_for_probe(struct cql_failover *f, long twin, const struct cql_value *vals,
			   size_t nvals)
{
	if (nvals != 1 || vals[0].len < 0 || vals[0].len > FO_PROBE_KEY_MAX)
		return;
	if (vals[0].len > 0)
		memcpy(f->probe_key, vals[0].p, (size_t)vals[0].len);
	f->probe_len = vals[0].len;
	f->probe_twin = twin;
}

/* group_failure - a read that failed for want of the database (1), answered (0), neither (-1) */
static int group_failure(const struct cql_result *res)
{
	switch (res->status) {
	case CQL_STATUS_OK:
		return 0;
	case CQL_STATUS_TIMEOUT:
	case CQL_STATUS_CONN_LOST:
	case CQL_STATUS_NOT_CONNECTED:
		return 1;
	case CQL_STATUS_SERVER_ERROR:
		return res->err && cql_error_retryable(res->err->code) ? 1 : 0;
	default:
		return -1;
	}
}

/*
 * fo_retry - the read failed for want of the database: once more on
 * another group that can serve, within the lookup deadline; 0 if sent
 */
static int fo_retry(struct fo_read *r)
{
	struct cql_failover *f = r->f;
	int64_t left = r->deadline_ms - clock_now_ms();
	enum cql_status why;
	int next;

	if (r->probe || r->retried || f->stopping ||
	    left < f->request_timeout_ms / 2)
		return -1;
	fo_update(f);
	next = f->fsm.active != r->group && cql_active_can_serve(&f->fsm, f->fsm.active) ?
	       (int)f->fsm.active : cql_active_next(&f->fsm);
	if (next < 0 || (size_t)next == r->group)
		return -1;
	r->retried = 1;
	return fo_send(r, (size_t)next, &why);
}

/* fo_done - a group answered a read */
static void fo_done(const struct cql_result *res, void *arg)
{
	struct fo_read *r = arg;
	struct cql_failover *f = r->f;
	int failed = group_failure(res);

	if (failed >= 0 && !f->stopping)
		cql_active_read(&f->fsm, r->group, !failed, clock_now_ms());
	if (failed == 1)
		snprintf(f->why[r->group], FO_WHY_MAX, "%s: %s", res->host ? res->host : "?",
			 res->err ? cql_error_name(res->err->code) : cql_status_name(res->status));
	if (failed == 1 && fo_retry(r) == 0)
		return;
	if (!r->probe)
		r->cb(res, r->arg);
	free(r);
}

/* fo_send - the read on group g's session */
static int fo_send(struct fo_read *r, size_t g, enum cql_status *why)
{
	struct cql_stmt *st = r->f->twins[r->twin].st[g];

	r->group = g;
	return cql_session_execute_until(r->f->s[g], st, r->vals, r->nvals, r->deadline_ms,
					 fo_done, r, why);
}

/* fo_read_new - a read with copies of the bound values; NULL: out of memory */
static struct fo_read *fo_read_new(struct cql_failover *f, size_t twin,
				   const struct cql_value *vals, size_t nvals)
{
	struct fo_read *r = calloc(1, sizeof(*r) + cql_values_size(vals, nvals));

	if (r == NULL)
		return NULL;
	r->f = f;
	r->twin = twin;
	r->nvals = nvals;
	r->deadline_ms = clock_now_ms() + f->lookup_timeout_ms;
	cql_values_copy(r->vals, vals, nvals, (uint8_t *)(r + 1));
	return r;
}

/*
 * fo_probe - copy the read to the groups being proven, at most once per
 * CQL_FAILOVER_PROBE_MS each; their answers only feed the state machine
 */
static void fo_probe(struct cql_failover *f, size_t twin, const struct cql_value *vals,
		     size_t nvals)
{
	int64_t now = clock_now_ms();
	struct fo_read *r;
	enum cql_status why;
	size_t g;

	for (g = 0; g < f->n; g++) {
		if (!cql_active_probe(&f->fsm, g) || now - f->probe_ms[g] < CQL_FAILOVER_PROBE_MS)
			continue;
		f->probe_ms[g] = now;
		if ((r = fo_read_new(f, twin, vals, nvals)) == NULL)
			return;
		r->probe = 1;
		if (fo_send(r, g, &why) != 0)
			free(r);
	}
}

/* twin_of - the index of the primary handle st in f->twins; -1 if unknown */
static long twin_of(const struct cql_failover *f, const struct cql_stmt *st)
{
	size_t i;

	for (i = 0; i < f->ntwins; i++)
		if (f->twins[i].st[0] == st)
			return (long)i;
	return -1;
}

/* cql_failover_execute - a read on the active group (or any that can serve) */
int cql_failover_execute(struct cql_failover *f, struct cql_stmt *st,
			 const struct cql_value *vals, size_t nvals,
			 cql_result_fn cb, void *arg, enum cql_status *why)
{
	struct fo_read *r;
	long twin;
	int next;
	size_t first;

	if (f->n < 2)
		return cql_session_execute(f->s[0], st, vals, nvals, cb, arg, why);
	if (nvals > FO_EXEC_MAX_VALUES || (twin = twin_of(f, st)) < 0) {
		*why = CQL_STATUS_PROTOCOL;
		return -1;
	}
	fo_update(f);
	if ((r = fo_read_new(f, (size_t)twin, vals, nvals)) == NULL) {
		*why = CQL_STATUS_BUSY;
		return -1;
	}
	r->cb = cb;
	r->arg = arg;
	first = f->fsm.active;
	next = cql_active_next(&f->fsm);
	if (next >= 0 && !cql_session_is_ready(f->s[first])) {
		/* A starting active group would hold the read back: one that serves takes it now. */
		first = (size_t)next;
		next = (int)f->fsm.active;
	}
	if (fo_send(r, first, why) != 0) {
		/* Not sent (no usable connection yet): another group may take it. */
		if (next < 0 || fo_send(r, (size_t)next, why) != 0) {
			/*
			 * A standby that refuses a query the primary prepared is
			 * a standby whose schema is not (yet) the primary's: an
			 * outage to wait out (TEMP), not the map's configuration.
			 */
			if (*why == CQL_STATUS_NOT_PREPARED && r->group != 0 &&
			    cql_stmt_state(st, NULL) != CQL_STMT_FAILED)
				*why = CQL_STATUS_NOT_CONNECTED;
			free(r);
			return -1;
		}
	}
	keep_for_probe(f, twin, vals, nvals);
	fo_probe(f, (size_t)twin, vals, nvals);
	return 0;
}

/* standby_config - group g's session settings: its hosts, its auth */
static int standby_config(struct cql_failover *f, size_t g, const struct cql_failover_config *cfg,
			  struct cql_session_config *sc)
{
	const struct cql_group_spec *gs = &cfg->standby[g - 1];

	*sc = *cfg->primary;
	memcpy(sc->hosts, gs->hosts, sizeof(gs->hosts));
	sc->nhosts = gs->nhosts;
	snprintf(f->region[g], CQL_REGION_MAX, "%s", gs->region);
	if (cfg->sigv4 != NULL) {
		if ((f->auth[g] = cql_auth_sigv4_new(gs->region, cfg->sigv4, cfg->sigv4_arg)) == NULL)
			return -1;
		sc->auth = f->auth[g];
	}
	return 0;
}

/* open_sessions - every group's session; -1 out of memory */
static int open_sessions(struct cql_failover *f, struct evdns_base *dns,
			 const struct cql_failover_config *cfg)
{
	struct cql_session_config sc;
	size_t g;

	for (g = 0; g < f->n; g++) {
		if (g == 0)
			sc = *cfg->primary;
		else if (standby_config(f, g, cfg, &sc) != 0)
			return -1;
		if ((f->s[g] = cql_session_new(f->base, dns, &sc)) == NULL)
			return -1;
	}
	return 0;
}

/* cql_failover_new - the primary's session and one per standby group */
struct cql_failover *cql_failover_new(struct event_base *base, struct evdns_base *dns,
				      const struct cql_failover_config *cfg)
{
	struct cql_failover *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->base = base;
	f->n = 1 + (cfg->nstandby > CQL_MAX_STANDBY ? CQL_MAX_STANDBY : cfg->nstandby);
	f->request_timeout_ms = cfg->primary->request_timeout_ms;
	/* As the session computes it when left at zero. */
	f->lookup_timeout_ms = cfg->primary->lookup_timeout_ms > 0 ? cfg->primary->lookup_timeout_ms :
			       3 * cfg->primary->request_timeout_ms;
	snprintf(f->region[0], CQL_REGION_MAX, "%s", cfg->primary_region ? cfg->primary_region : "");
	cql_active_init(&f->fsm, f->n, cfg->holddown_ms);
	f->probe_twin = -1;
	if (open_sessions(f, dns, cfg) == 0 &&
	    (f->n < 2 || (f->tick = event_new(base, -1, EV_PERSIST, tick_cb, f)) != NULL))
		return f;
	cql_failover_free(f);
	return NULL;
}

/* cql_failover_start - every group begins connecting */
void cql_failover_start(struct cql_failover *f)
{
	struct timeval tv = clock_timeval(CQL_FAILOVER_TICK_MS);
	char b[FO_NAME_MAX];
	size_t g;

	for (g = 0; g < f->n; g++)
		cql_session_start(f->s[g]);
	for (g = 1; g < f->n; g++)
		msg_info("cql: %s (%s) takes reads while the primary group cannot serve; "
			 "failback after %d ms (CASSANDRA_FAILBACK_HOLDDOWN_MS)",
			 group_name(g, b, sizeof(b)), region_of(f, g),
			 f->fsm.holddown_ms);
	if (f->tick && !evtimer_pending(f->tick, NULL))
		evtimer_add(f->tick, &tv);
}

/* cql_failover_retry_now - every group's backoff ends */
void cql_failover_retry_now(struct cql_failover *f)
{
	size_t g;

	for (g = 0; g < f->n; g++)
		cql_session_retry_now(f->s[g]);
}

/*
 * cql_failover_free - the sessions first (their reads answer at once,
 * into f, which must still be there), then the rest
 */
void cql_failover_free(struct cql_failover *f)
{
	size_t g;

	if (f == NULL)
		return;
	f->stopping = 1;
	if (f->tick)
		event_free(f->tick);
	for (g = 0; g < CQL_MAX_GROUPS; g++)
		cql_session_free(f->s[g]);
	for (g = 0; g < CQL_MAX_GROUPS; g++)
		cql_auth_free(f->auth[g]);
	free(f->twins);
	free(f);
}

/* add_twins - a statement in every group (add: the session's kind), the primary's handle */
static struct cql_stmt *add_twins(struct cql_failover *f, const char *cql,
				  struct cql_stmt *(*add)(struct cql_session *, const char *))
{
	struct fo_twin t, *grown;
	size_t g;
	long i;

	memset(&t, 0, sizeof(t));
	for (g = 0; g < f->n; g++)
		if ((t.st[g] = add(f->s[g], cql)) == NULL)
			return NULL;
	if (f->n < 2 || (i = twin_of(f, t.st[0])) >= 0)
		return t.st[0];
	if (f->ntwins == f->twins_cap) {
		size_t cap = f->twins_cap ? 2 * f->twins_cap : 16;

		if ((grown = realloc(f->twins, cap * sizeof(*grown))) == NULL)
			return NULL;
		f->twins = grown;
		f->twins_cap = cap;
	}
	f->twins[f->ntwins++] = t;
	return t.st[0];
}

/* cql_failover_add - the statement in every group */
struct cql_stmt *cql_failover_add(struct cql_failover *f, const char *cql)
{
	return add_twins(f, cql, cql_session_add);
}

/* cql_failover_add_aux - cql_session_add_aux in every group */
struct cql_stmt *cql_failover_add_aux(struct cql_failover *f, const char *cql)
{
	return add_twins(f, cql, cql_session_add_aux);
}

/* cql_failover_throttled - throttled answers and their retries, over every group */
void cql_failover_throttled(const struct cql_failover *f, unsigned long long *answers,
			    unsigned long long *retries)
{
	unsigned long long a, r;
	size_t g;

	*answers = *retries = 0;
	for (g = 0; g < f->n; g++) {
		cql_session_throttled(f->s[g], &a, &r);
		*answers += a;
		*retries += r;
	}
}

/* cql_failover_stop_waiting - stopping: reads waiting for a first connection fail now */
void cql_failover_stop_waiting(struct cql_failover *f)
{
	size_t g;

	for (g = 0; f != NULL && g < f->n; g++)
		cql_session_stop_waiting(f->s[g]);
}

/* cql_failover_startup_waits - reads that waited for a group's first connection */
unsigned long long cql_failover_startup_waits(const struct cql_failover *f)
{
	unsigned long long n = 0;
	size_t g;

	for (g = 0; g < f->n; g++)
		n += cql_session_startup_waits(f->s[g]);
	return n;
}

/* cql_failover_keep_only - every group keeps the twins of keep[] */
void cql_failover_keep_only(struct cql_failover *f, struct cql_stmt *const *keep, size_t n)
{
	struct cql_stmt **mine;
	size_t g, i;
	long t;

	cql_session_keep_only(f->s[0], keep, n);
	if (f->n < 2 || (mine = calloc(n ? n : 1, sizeof(*mine))) == NULL)
		return;
	for (g = 1; g < f->n; g++) {
		size_t k = 0;

		for (i = 0; i < n; i++)
			if ((t = twin_of(f, keep[i])) >= 0)
				mine[k++] = f->twins[t].st[g];
		cql_session_keep_only(f->s[g], mine, k);
	}
	free(mine);
}

/* cql_failover_stmt_state_in - the state of its twin in group g */
enum cql_stmt_state cql_failover_stmt_state_in(const struct cql_failover *f, size_t g,
					       const struct cql_stmt *st,
					       const struct cql_error **err)
{
	long t = f->n < 2 || g >= f->n ? -1 : twin_of(f, st);

	return cql_stmt_state(t < 0 ? st : f->twins[t].st[g], err);
}

/* cql_failover_stmt_state - the state of its twin in the active group */
enum cql_stmt_state cql_failover_stmt_state(const struct cql_failover *f,
					    const struct cql_stmt *st,
					    const struct cql_error **err)
{
	return cql_failover_stmt_state_in(f, f->fsm.active, st, err);
}

/* cql_failover_is_ready - some group has a usable connection */
int cql_failover_is_ready(const struct cql_failover *f)
{
	size_t g;

	for (g = 0; g < f->n; g++)
		if (cql_session_is_ready(f->s[g]))
			return 1;
	return 0;
}

/* cql_failover_all_failed - no group can be reached */
int cql_failover_all_failed(const struct cql_failover *f)
{
	size_t g;

	for (g = 0; g < f->n; g++)
		if (!cql_session_all_failed(f->s[g]))
			return 0;
	return 1;
}

/* cql_failover_settled - no group is still making its first connections */
int cql_failover_settled(const struct cql_failover *f)
{
	size_t g;

	for (g = 0; g < f->n; g++)
		if (group_health(f->s[g]) == CQL_GROUP_CONNECTING)
			return 0;
	return 1;
}

/* cql_failover_state - the primary's line alone, or the active group and every group's */
const char *cql_failover_state(struct cql_failover *f)
{
	size_t g, len;
	char b[FO_NAME_MAX];

	if (f->n < 2)
		return cql_session_state(f->s[0]);
	len = (size_t)snprintf(f->state, sizeof(f->state), "active: %s (%s)",
			       group_name(f->fsm.active, b, sizeof(b)), region_of(f, f->fsm.active));
	for (g = 0; g < f->n && len < sizeof(f->state); g++)
		len += (size_t)snprintf(f->state + len, sizeof(f->state) - len, "; %s (%s): %s",
					group_name(g, b, sizeof(b)), region_of(f, g),
					cql_session_state(f->s[g]));
	return f->state;
}

/* cql_failover_host_info - node i, counting every group's nodes in order */
int cql_failover_host_info(const struct cql_failover *f, size_t i, const char **label,
			   int *up, int *conns)
{
	size_t g, known, nup;

	for (g = 0; g < f->n; g++) {
		cql_session_hosts_up(f->s[g], &nup, &known);
		if (i < known)
			return cql_session_host_info(f->s[g], i, label, up, conns);
		i -= known;
	}
	return -1;
}

/* cql_failover_groups - how many groups */
size_t cql_failover_groups(const struct cql_failover *f)
{
	return f->n;
}

/* cql_failover_active - where reads go */
size_t cql_failover_active(const struct cql_failover *f)
{
	return f->fsm.active;
}

/* cql_failover_switches - failovers and failbacks so far */
unsigned cql_failover_switches(const struct cql_failover *f)
{
	return f->fsm.switches;
}

/* cql_failover_group - one group's region, state line and whether it is up */
int cql_failover_group(const struct cql_failover *f, size_t i, const char **region,
		       const char **state, int *up)
{
	if (i >= f->n)
		return -1;
	*region = f->region[i];
	*state = cql_session_state(f->s[i]);
	*up = cql_session_is_ready(f->s[i]);
	return 0;
}
