/*
 * map_reload - build the maps, prepare their statements, swap them in
 *
 * SYNOPSIS
 *	#include "map_reload.h"
 *
 * DESCRIPTION
 *	See map_reload.h. The swap is in place: the engine finds maps in
 *	the live registry by name, and lookups in flight hold their own copy
 *	of their map, whose older generation keeps their answers out of the
 *	cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "buf.h"
#include "cache.h"
#include "clock.h"
#include "config.h"
#include "config_file.h"
#include "cql/cql_failover.h"
#include "log.h"
#include "map_reload.h"
#include "service.h"

#define MAP_FILE_CHUNK		8192	/* bytes read from the map file at a time */

struct map_reload {
	struct map_source src;
	struct map_registry *live;	/* updated in place on a swap */
	struct map_registry *pending;	/* a reload waiting for its statements */
	int64_t pending_deadline;
	struct cql_failover *cql;
	struct cache *cache;
	struct event *timer;
};

/* read_map_file - the whole file into text; 0, or -1 with err set */
static int read_map_file(FILE *fp, const char *path, struct buf *text, char *err, size_t errlen)
{
	char chunk[MAP_FILE_CHUNK];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && text->len <= CONFIG_FILE_MAX)
		buf_append(text, chunk, n);
	if (text->oom || text->len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		return -1;
	}
	return 0;
}

/* map_reload_build - the default maps, then the map file */
int map_reload_build(const struct map_source *src, struct map_registry *reg,
		     char *err, size_t errlen)
{
	const char *path = src->path_explicit ? src->path : CONFIG_FILE_DEFAULT;
	char perr[CONFIG_ERR_MAX];
	struct buf text;
	FILE *fp;
	int rc;

	if (map_registry_defaults(reg, src->keyspace, src->defaults, err, errlen) != 0)
		return -1;
	if ((fp = fopen(path, "r")) == NULL) {
		if (!src->path_explicit && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&text);
	rc = read_map_file(fp, path, &text, err, errlen);
	fclose(fp);
	if (rc == 0) {
		rc = config_file_parse((char *)text.data, text.len, reg, src->defaults,
				       perr, sizeof(perr));
		if (rc != 0)
			snprintf(err, errlen, "%.200s: %.280s", path, perr);
	}
	buf_free(&text);
	return rc;
}

/* map_reload_prepare - give every map its prepared statement */
int map_reload_prepare(struct cql_failover *cql, struct map_registry *reg)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if ((reg->maps[i].stmt = cql_failover_add(cql, reg->maps[i].query)) == NULL)
			return -1;
	return 0;
}

/* map_reload_settled - every statement prepared or refused */
int map_reload_settled(const struct cql_failover *cql, const struct map_registry *reg)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (cql_failover_stmt_state(cql, reg->maps[i].stmt, NULL) == CQL_STMT_NEW)
			return 0;
	return 1;
}

/* arm - (re)start the one-shot timer */
static void arm(struct event *ev, int64_t ms)
{
	struct timeval tv = clock_timeval(ms);

	evtimer_add(ev, &tv);
}

/* pending_refused - 1 (and why, logged) when the pending maps cannot be used */
static int pending_refused(const struct map_reload *r, const struct map_registry *nr)
{
	const struct cql_error *err;
	size_t i;

	for (i = 0; i < nr->n; i++) {
		if (cql_failover_stmt_state(r->cql, nr->maps[i].stmt, &err) == CQL_STMT_FAILED) {
			msg_error("reload rejected, old maps kept: map %s: query refused by the server: %s",
				  nr->maps[i].name, err ? err->message : "?");
			return 1;
		}
		if (cql_failover_is_ready(r->cql) &&
		    cql_failover_stmt_state(r->cql, nr->maps[i].stmt, NULL) == CQL_STMT_NEW) {
			msg_error("reload rejected, old maps kept: map %s: not prepared within %d ms",
				  nr->maps[i].name, RELOAD_MAX_MS);
			return 1;
		}
	}
	return 0;
}

/* reload_finish - apply or reject the pending maps */
static void reload_finish(struct map_reload *r)
{
	struct map_registry *nr = r->pending;
	struct cql_stmt *keep[MAP_MAX];
	size_t i;

	r->pending = NULL;
	if (!pending_refused(r, nr)) {
		/*
		 * In place: the engine finds maps here by name. Lookups in
		 * flight hold their own copy of their map (lookup_engine),
		 * whose older generation keeps their answers out of the
		 * cache, which is keyed by map index and starts afresh (a
		 * new epoch).
		 */
		*r->live = *nr;
		if (r->cache)
			cache_flush(r->cache);
		msg_info("reloaded: %zu maps", r->live->n);
	}
	free(nr);
	/* The maps in use now are the only ones worth preparing. */
	for (i = 0; i < r->live->n; i++)
		keep[i] = r->live->maps[i].stmt;
	cql_failover_keep_only(r->cql, keep, r->live->n);
	service_notify("READY=1");
}

/* reload_poll - finish the reload once its statements settle, or at the deadline */
static void reload_poll(evutil_socket_t fd, short what, void *arg)
{
	struct map_reload *r = arg;

	(void)fd;
	(void)what;
	if (r->pending == NULL)
		return;
	if (!cql_failover_is_ready(r->cql) || map_reload_settled(r->cql, r->pending) ||
	    clock_now_ms() >= r->pending_deadline)
		reload_finish(r);
	else
		arm(r->timer, RELOAD_POLL_MS);
}

/* map_reload_new - the reload handle of the live maps */
struct map_reload *map_reload_new(struct event_base *base, const struct map_source *src,
				  struct map_registry *live, struct cql_failover *cql,
				  struct cache *cache)
{
	struct map_reload *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->timer = evtimer_new(base, reload_poll, r)) == NULL) {
		free(r);
		return NULL;
	}
	r->src = *src;
	r->live = live;
	r->cql = cql;
	r->cache = cache;
	return r;
}

/* map_reload_start - re-read the map file; statements prepare before the swap */
void map_reload_start(struct map_reload *r)
{
	char err[CONFIG_ERR_MAX] = "out of memory";
	struct map_registry *nr;

	if (r->pending) {
		msg_warn("SIGHUP: a reload is already in progress");
		return;
	}
	service_notify("RELOADING=1");
	if ((nr = malloc(sizeof(*nr))) == NULL || map_reload_build(&r->src, nr, err, sizeof(err)) != 0 ||
	    map_reload_prepare(r->cql, nr) != 0) {
		msg_error("reload rejected, old maps kept: %s", err);
		free(nr);
		service_notify("READY=1");
		return;
	}
	map_registry_stamp(nr, r->live);
	r->pending = nr;
	r->pending_deadline = clock_now_ms() + RELOAD_MAX_MS;
	arm(r->timer, 0);
}

/* map_reload_free - drop a reload in progress and the handle */
void map_reload_free(struct map_reload *r)
{
	if (r == NULL)
		return;
	free(r->pending);
	event_free(r->timer);
	free(r);
}
