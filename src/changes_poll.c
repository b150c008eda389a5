/*
 * changes_poll - fleet-wide cache invalidation (see changes_poll.h)
 *
 * DESCRIPTION
 *	One poll at a time: the timer is armed again when a poll ends, so a
 *	slow database never piles reads up. The poller is freed before the
 *	session (main.c): a read still out is detached from it, and ends
 *	into nothing when the session frees its reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cache.h"
#include "change_set.h"
#include "changes_poll.h"
#include "clock.h"
#include "cql/cql_errclass.h"
#include "cql/cql_failover.h"
#include "log.h"
#include "map_registry.h"

#define CHANGES_LOG_INTERVAL_MS	60000	/* repeated poll failures */
#define CHANGES_QUERY_MAX	(MAP_KEYSPACE_MAX + 64)	/* bytes of the SELECT */

_Static_assert(MAP_MAX <= CHANGE_SET_MAX, "a serial for every map's table");

/* One read of the change table: detached from its poller when that goes first. */
struct changes_read {
	struct changes_poll *p;		/* NULL: the poller was freed */
};

struct changes_poll {
	struct cql_failover *cql;
	struct map_registry *reg;
	struct cache *cache;
	struct cql_stmt *stmt;
	struct event *timer;
	struct changes_read *inflight;
	char keyspace[MAP_KEYSPACE_MAX + 1];
	int64_t interval_ms;
	int64_t cache_ttl_ms;
	uint64_t again;			/* maps (by slot) changed at the last poll: drop once more */
	int have_set;			/* last holds a poll's serials */
	int off;			/* the table cannot be read: said once */
	struct change_set last;
	struct changes_poll_stats stats;
	struct log_limit fail_log;
};

/* arm - the next poll in ms */
static void arm(struct changes_poll *p, int64_t ms)
{
	struct timeval tv = clock_timeval(ms);

	evtimer_add(p->timer, &tv);
}

/*
 * map_tables - the table each map reads, by slot (names into names[];
 * NULL where its query names none)
 */
static void map_tables(const struct map_registry *reg,
		       char names[][CHANGE_TABLE_MAX + 1], const char **tables)
{
	size_t i;

	for (i = 0; i < reg->n && i < CHANGE_SET_MAX; i++)
		tables[i] = change_table_of_query(reg->maps[i].query, names[i],
						  CHANGE_TABLE_MAX + 1) == 0 ? names[i] : NULL;
}

/* drop_changed - drop the maps change_set_plan names; log those that changed */
static void drop_changed(struct changes_poll *p, const struct change_set *now,
			 const char *const *tables, size_t nmaps)
{
	uint64_t changed, drop = change_set_plan(&p->last, now, tables, nmaps, p->again, &changed);
	size_t i;

	for (i = 0; i < nmaps; i++) {
		if (!(drop >> i & 1))
			continue;
		cache_drop_map(p->cache, p->reg->maps[i].id);
		if (!(changed >> i & 1))
			continue;
		p->stats.maps_invalidated++;
		msg_info("%s.%s: table %s changed: cached answers of map %s dropped",
			 p->keyspace, CHANGES_TABLE, tables[i], p->reg->maps[i].name);
	}
	p->again = changed;
}

/* table_off - the change table cannot be read: say so once, look again rarely */
static void table_off(struct changes_poll *p, const char *reason)
{
	if (!p->off) {
		if (strstr(reason, "unconfigured table") || strstr(reason, "does not exist"))
			msg_warn("%s.%s not found: fleet invalidation off, cached answers "
				 "live up to CACHE_TTL (%lld s); looking again every %d s",
				 p->keyspace, CHANGES_TABLE, (long long)(p->cache_ttl_ms / 1000),
				 CHANGES_OFF_RETRY_MS / 1000);
		else
			msg_warn("%s.%s cannot be read (%s): fleet invalidation off, cached answers "
				 "live up to CACHE_TTL (%lld s); looking again every %d s",
				 p->keyspace, CHANGES_TABLE, reason,
				 (long long)(p->cache_ttl_ms / 1000), CHANGES_OFF_RETRY_MS / 1000);
	}
	p->off = 1;
	p->have_set = 0;	/* when it comes back, the first poll only records */
	p->stats.table_found = 0;
	arm(p, CHANGES_OFF_RETRY_MS);
}

/* poll_failed - log (rate limited), count, keep the cache, poll again */
static void poll_failed(struct changes_poll *p, const struct cql_failure *f, const char *detail)
{
	p->stats.failures++;
	if (f->cls == CQL_ERRCLASS_CONFIG) {
		table_off(p, detail && detail[0] ? detail : f->reason);
		return;
	}
	msg_limited(&p->fail_log, CHANGES_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
		    "%s.%s: poll failed, cache kept: %s%s%s", p->keyspace, CHANGES_TABLE,
		    f->reason, detail && detail[0] ? ": " : "", detail ? detail : "");
	arm(p, p->interval_ms);
}

/* poll_read - the serials read: drop what changed, remember them */
static void poll_read(struct changes_poll *p, struct cql_rows *rows)
{
	char names[CHANGE_SET_MAX][CHANGE_TABLE_MAX + 1];
	const char *tables[CHANGE_SET_MAX];
	size_t n = p->reg->n < CHANGE_SET_MAX ? p->reg->n : CHANGE_SET_MAX;
	struct change_set now;
	struct cql_failure bad = { CQL_ERRCLASS_CONFIG, CQL_LABEL_OTHER, "" };

	map_tables(p->reg, names, tables);
	if (change_set_read(&now, rows, tables, n) != 0) {
		snprintf(bad.reason, sizeof(bad.reason),
			 "not columns table_name text and serial bigint");
		poll_failed(p, &bad, "");
		return;
	}
	if (p->have_set)
		drop_changed(p, &now, tables, n);
	else
		msg_info("%s.%s read: fleet invalidation on, every %lld s (serials of %zu "
			 "tables of the %zu maps)", p->keyspace, CHANGES_TABLE,
			 (long long)(p->interval_ms / 1000), now.n, n);
	p->off = 0;
	p->last = now;
	p->have_set = 1;
	p->stats.table_found = 1;
	arm(p, p->interval_ms);
}

/* poll_done - the read of the change table ended */
static void poll_done(const struct cql_result *res, void *arg)
{
	struct changes_read *rd = arg;
	struct changes_poll *p = rd->p;
	struct cql_failure f;
	struct cql_rows rows;

	free(rd);
	if (p == NULL)
		return;
	p->inflight = NULL;
	p->stats.polls++;
	cql_errclass_classify(res->status, res->err, &f);
	if (f.cls == CQL_ERRCLASS_OK && !res->has_rows) {
		f.cls = CQL_ERRCLASS_CONFIG;
		snprintf(f.reason, sizeof(f.reason), "not a Rows result");
	}
	if (f.cls != CQL_ERRCLASS_OK) {
		poll_failed(p, &f, res->err ? res->err->message : "");
		return;
	}
	rows = res->rows;	/* a cursor of our own */
	poll_read(p, &rows);
}

/* poll_cb - time to read the change table */
static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct changes_poll *p = arg;
	const struct cql_error *err = NULL;
	struct changes_read *rd;
	struct cql_failure f;
	enum cql_status why;

	(void)fd;
	(void)what;
	/*
	 * Until a node is up (and so the statement prepared or refused)
	 * there is nothing to ask: not a failure, and lookups say so anyway.
	 */
	if (!cql_failover_is_ready(p->cql) ||
	    cql_failover_stmt_state(p->cql, p->stmt, &err) == CQL_STMT_NEW) {
		arm(p, CHANGES_WAIT_MS);
		return;
	}
	if ((rd = malloc(sizeof(*rd))) == NULL) {
		arm(p, p->interval_ms);
		return;
	}
	rd->p = p;
	if (cql_failover_execute(p->cql, p->stmt, NULL, 0, poll_done, rd, &why) != 0) {
		free(rd);
		if (why == CQL_STATUS_NOT_PREPARED)
			(void)cql_failover_stmt_state(p->cql, p->stmt, &err);
		else
			err = NULL;
		cql_errclass_classify(why, err, &f);
		poll_failed(p, &f, err ? err->message : "");
		return;
	}
	p->inflight = rd;
}

/* changes_poll_new - the statement, and the first poll soon */
struct changes_poll *changes_poll_new(struct event_base *base, struct cql_failover *cql,
				      struct map_registry *reg, struct cache *cache,
				      const char *keyspace, int64_t interval_ms,
				      int64_t cache_ttl_ms)
{
	struct changes_poll *p = calloc(1, sizeof(*p));
	char query[CHANGES_QUERY_MAX];

	if (p == NULL)
		return NULL;
	snprintf(query, sizeof(query), "SELECT table_name, serial FROM %s.%s", keyspace,
		 CHANGES_TABLE);
	snprintf(p->keyspace, sizeof(p->keyspace), "%s", keyspace);
	p->cql = cql;
	p->reg = reg;
	p->cache = cache;
	p->interval_ms = interval_ms;
	p->cache_ttl_ms = cache_ttl_ms;
	if ((p->stmt = cql_failover_add_aux(cql, query)) == NULL ||
	    (p->timer = evtimer_new(base, poll_cb, p)) == NULL) {
		free(p);
		return NULL;
	}
	arm(p, interval_ms < CHANGES_WAIT_MS ? interval_ms : CHANGES_WAIT_MS);
	return p;
}

/* changes_poll_stats - the counters */
const struct changes_poll_stats *changes_poll_stats(const struct changes_poll *p)
{
	return &p->stats;
}

/* changes_poll_free - stop polling; detach a read in flight */
void changes_poll_free(struct changes_poll *p)
{
	if (p == NULL)
		return;
	if (p->inflight)
		p->inflight->p = NULL;
	event_free(p->timer);
	free(p);
}
