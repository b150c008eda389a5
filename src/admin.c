/*
 * admin - the one-shot modes on the loop: --check, --query
 *
 * SYNOPSIS
 *	#include "admin.h"
 *
 * DESCRIPTION
 *	See admin.h. --check and --query poll the session every
 *	ADMIN_POLL_MS until it is ready and the statements have settled
 *	(or, for --check, every host has failed once: waiting out the
 *	deadline would change nothing), then read through the full engine,
 *	so what they print is what Postfix would be answered.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "aws/cred_chain.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "cql/cql_failover.h"
#include "lookup_engine.h"
#include "lookup_key.h"
#include "map_reload.h"
#include "postfix_conf.h"
#include "result_rows.h"
#include "search_order.h"

#ifndef PAC_VERSION
#define PAC_VERSION "unknown"
#endif

#define ADMIN_POLL_MS		10	/* readiness polls */
#define PROBE_REPLY_MAX		256	/* bytes of a probe's reply kept */
#define PROBE_REPLY_SHOWN	200	/* bytes of it the report prints */
#define CHECK_WHY_MAX		256	/* a map's column problem */
#define CHECK_PROBE_KEY		"postfix-aws-cassandra-check@check.invalid"

enum admin_mode { ADMIN_CHECK, ADMIN_QUERY };

/* One map's test read for --check. */
struct check_probe {
	struct admin *a;
	int done;
	enum socketmap_status st;
	char reply[PROBE_REPLY_MAX];
};

struct admin {
	struct admin_deps d;
	enum admin_mode mode;
	struct event *timer;
	int64_t deadline;
	int exit_code;
	/* --check */
	struct check_probe probes[MAP_MAX];
	size_t probes_left;
	int probes_started;
	/* --query */
	const char *query_map, *query_key;
	int query_started;
	struct search_candidates sc;
};

/* arm - (re)start the one-shot timer */
static void arm(struct event *ev, int64_t ms)
{
	struct timeval tv = clock_timeval(ms);

	evtimer_add(ev, &tv);
}

/* ready - the session is up and every statement prepared or refused */
static int ready(const struct admin *a)
{
	return cql_failover_is_ready(a->d.cql) && cql_failover_settled(a->d.cql) &&
	       map_reload_settled(a->d.cql, a->d.reg);
}

/* ---- --check ------------------------------------------------------ */

/* probe_reply - one map's probe lookup answered */
static void probe_reply(void *arg, enum socketmap_status st, const char *data, size_t len)
{
	struct check_probe *p = arg;

	p->done = 1;
	p->st = st;
	snprintf(p->reply, sizeof(p->reply), "%.*s",
		 (int)(len > PROBE_REPLY_SHOWN ? PROBE_REPLY_SHOWN : len), data);
	p->a->probes_left--;
}

/* check_group_maps - a standby that refuses a map's query (schema not replicated?) */
static void check_group_maps(const struct admin *a, size_t g, const char *region)
{
	const struct map_registry *reg = a->d.reg;
	const struct cql_error *err;
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (cql_failover_stmt_state_in(a->d.cql, g, reg->maps[i].stmt, &err) ==
		    CQL_STMT_FAILED)
			printf("WARNING: standby group %zu (%s) refuses map %s: %s\n", g,
			       region[0] ? region : "no region", reg->maps[i].name,
			       err ? err->message : "?");
}

/*
 * check_groups - with standby groups, one line per group: which one reads
 * go to, its region and whether it can serve (a standby that cannot is a
 * warning, not a failure: the primary serves)
 */
static void check_groups(const struct admin *a)
{
	const char *region, *state;
	size_t g, n = cql_failover_groups(a->d.cql);
	int up;

	for (g = 0; n > 1 && cql_failover_group(a->d.cql, g, &region, &state, &up) == 0; g++) {
		printf("  group %zu      %s%s, region %s: %s\n", g, g ? "standby" : "primary",
		       g == cql_failover_active(a->d.cql) ? " (active)" : "",
		       region[0] ? region : "(none)", up ? "ready" : state);
		if (!up && g > 0)
			printf("WARNING: standby group %zu (%s) cannot serve: a failover could not "
			       "use it\n", g, region[0] ? region : "no region");
		if (up && g > 0)
			check_group_maps(a, g, region);
	}
}

/* check_header - the settings part of the report */
static void check_header(const struct admin *a)
{
	const struct config *cfg = a->d.cfg;

	printf("postfix-aws-cassandra %s: configuration check\n", PAC_VERSION);
	printf("  keyspace     %s\n", cfg->keyspace);
	printf("  cassandra    %s\n", cql_failover_state(a->d.cql));
	check_groups(a);
	printf("  consistency  %s\n", cql_consistency_name(cfg->cql.consistency));
	if (cfg->metrics_listen[0])
		printf("  metrics      %s/metrics%s\n", cfg->metrics_listen,
		       cfg->metrics_allow_remote ? " (remote allowed)" : "");
	else
		printf("  metrics      off\n");
	(void)postfix_delimiter_report(cfg->maps.delimiters, stdout);
	if (a->d.creds)
		printf("  auth         SigV4, region %s, credentials: %s\n", cfg->aws_region,
		       cred_chain_current(a->d.creds) ? cred_chain_describe(a->d.creds) :
		       "NONE (see the aws: error above)");
}

/* check_map - one map's report line; 0 if usable */
static int check_map(const struct admin *a, const struct map_def *m,
		     const struct check_probe *p)
{
	const struct cql_error *err;
	char why[CHECK_WHY_MAX];

	switch (cql_failover_stmt_state(a->d.cql, m->stmt, &err)) {
	case CQL_STMT_FAILED:
		printf("  map %-18s FAILED: %s: %s\n", m->name, err ? cql_error_name(err->code) : "?",
		       err ? err->message : "?");
		return -1;
	case CQL_STMT_NEW:
		printf("  map %-18s FAILED: not prepared in time\n", m->name);
		return -1;
	case CQL_STMT_READY:
		break;
	}
	if (cql_stmt_result_meta(m->stmt) &&
	    result_rows_check(cql_stmt_result_meta(m->stmt), why, sizeof(why)) != 0) {
		/* From the PREPARED result: the columns the query returns. */
		printf("  map %-18s FAILED: %s\n", m->name, why);
		return -1;
	}
	if (!p->done || p->st == SOCKETMAP_TEMP || p->st == SOCKETMAP_PERM) {
		printf("  map %-18s FAILED: test read: %s\n", m->name,
		       p->done ? p->reply : "no answer in time");
		return -1;
	}
	printf("  map %-18s ok (search %s): %s\n", m->name,
	       search_kind_name(m->search.kind), m->query);
	return 0;
}

/* check_report - print the --check report; set the exit code */
static void check_report(struct admin *a)
{
	size_t i;
	int bad = 0;

	check_header(a);
	if (!cql_failover_is_ready(a->d.cql)) {
		printf("FAILED: cannot reach Cassandra: %s\n", cql_failover_state(a->d.cql));
		a->exit_code = 1;
		return;
	}
	for (i = 0; i < a->d.reg->n; i++)
		if (check_map(a, &a->d.reg->maps[i], &a->probes[i]) != 0)
			bad++;
	if (bad) {
		printf("FAILED: %d map%s not usable\n", bad, bad > 1 ? "s" : "");
		a->exit_code = 1;
	} else {
		printf("OK: %zu maps ready\n", a->d.reg->n);
		a->exit_code = 0;
	}
}

/* check_probe_all - one probe read per map whose statement is ready */
static void check_probe_all(struct admin *a)
{
	struct map_registry *reg = a->d.reg;
	size_t i;

	for (i = 0; i < reg->n && cql_failover_is_ready(a->d.cql); i++) {
		struct buf req;

		a->probes[i].a = a;
		if (cql_failover_stmt_state(a->d.cql, reg->maps[i].stmt, NULL) != CQL_STMT_READY)
			continue;
		a->probes_left++;
		buf_init(&req);
		buf_printf(&req, "%s " CHECK_PROBE_KEY, reg->maps[i].name);
		(void)lookup_start(a->d.engine, (char *)req.data, req.len, probe_reply, &a->probes[i]);
		buf_free(&req);
	}
	a->probes_started = 1;
}

/* check_poll - prepare, then one probe read per map, then report */
static void check_poll(struct admin *a, int64_t now)
{
	if (!a->probes_started) {
		/* Every host failed once: no point waiting out the deadline. */
		int hopeless = cql_failover_all_failed(a->d.cql);

		if (!(ready(a) || now >= a->deadline || hopeless)) {
			arm(a->timer, ADMIN_POLL_MS);
			return;
		}
		check_probe_all(a);
	}
	if (a->probes_left > 0 && now < a->deadline) {
		arm(a->timer, ADMIN_POLL_MS);
		return;
	}
	check_report(a);
	event_base_loopexit(a->d.base, NULL);
}

/* ---- --query ------------------------------------------------------ */

/* query_exit_code - --query's exit code for a reply status */
static int query_exit_code(enum socketmap_status st)
{
	switch (st) {
	case SOCKETMAP_OK:
		return ADMIN_QUERY_EXIT_OK;
	case SOCKETMAP_NOTFOUND:
		return ADMIN_QUERY_EXIT_NOTFOUND;
	case SOCKETMAP_TEMP:
		return ADMIN_QUERY_EXIT_TEMP;
	case SOCKETMAP_PERM:
		break;
	}
	return ADMIN_QUERY_EXIT_PERM;
}

/* query_reply - the --query answer */
static void query_reply(void *arg, enum socketmap_status st, const char *data, size_t len)
{
	struct admin *a = arg;

	printf("%s %.*s\n", socketmap_status_name(st), (int)len, data);
	a->exit_code = query_exit_code(st);
	event_base_loopexit(a->d.base, NULL);
}

/* query_run - print the candidates, then look the key up */
static void query_run(struct admin *a)
{
	struct map_def *m = map_registry_find(a->d.reg, a->query_map, strlen(a->query_map));
	char folded[LOOKUP_KEY_MAX + 1];
	struct buf req;
	size_t i, len = strlen(a->query_key);

	if (m && len <= LOOKUP_KEY_MAX) {
		if (m->fold_case)
			lookup_key_fold(a->query_key, len, folded);
		else
			memcpy(folded, a->query_key, len + 1);
		search_order_expand(&m->search, folded, len, &a->sc);
		printf("candidates (search %s):", search_kind_name(m->search.kind));
		for (i = 0; i < a->sc.n; i++)
			printf(" %s", a->sc.key[i]);
		printf("\n");
	}
	buf_init(&req);
	buf_printf(&req, "%s %s", a->query_map, a->query_key);
	a->query_started = 1;
	(void)lookup_start(a->d.engine, (char *)req.data, req.len, query_reply, a);
	buf_free(&req);
}

/* query_poll - look the key up once ready, or at the deadline */
static void query_poll(struct admin *a, int64_t now)
{
	if (a->query_started)
		return;
	/* As --check: once every host failed, waiting changes nothing; say so now. */
	if (ready(a) || now >= a->deadline || cql_failover_all_failed(a->d.cql))
		query_run(a);
	else
		arm(a->timer, ADMIN_POLL_MS);
}

/* ---- both --------------------------------------------------------- */

/* poll_cb - drive --check or --query until it can finish */
static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin *a = arg;

	(void)fd;
	(void)what;
	if (a->mode == ADMIN_QUERY)
		query_poll(a, clock_now_ms());
	else
		check_poll(a, clock_now_ms());
}

/* admin_start - the handle of one mode, its first poll armed */
static struct admin *admin_start(const struct admin_deps *deps, int64_t deadline,
				 enum admin_mode mode)
{
	struct admin *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->d = *deps;
	a->mode = mode;
	a->deadline = deadline;
	if ((a->timer = evtimer_new(deps->base, poll_cb, a)) == NULL) {
		free(a);
		return NULL;
	}
	arm(a->timer, 0);
	return a;
}

/* admin_check_start - run --check on the loop */
struct admin *admin_check_start(const struct admin_deps *deps, int64_t deadline)
{
	return admin_start(deps, deadline, ADMIN_CHECK);
}

/* admin_query_start - run --query MAP KEY on the loop */
struct admin *admin_query_start(const struct admin_deps *deps, int64_t deadline,
				const char *map, const char *key)
{
	struct admin *a = admin_start(deps, deadline, ADMIN_QUERY);

	if (a) {
		a->query_map = map;
		a->query_key = key;
	}
	return a;
}

/* admin_exit_code - the mode's exit code once the loop ended */
int admin_exit_code(const struct admin *a)
{
	return a->exit_code;
}

/* admin_free - release the handle */
void admin_free(struct admin *a)
{
	if (a != NULL && a->timer != NULL)
		event_free(a->timer);
	free(a);
}
