/*
 * map_reload - build the maps, prepare their statements, swap them in
 *
 * SYNOPSIS
 *	#include "map_reload.h"
 *
 * DESCRIPTION
 *	The maps come from the defaults in the keyspace, overlaid by the map
 *	file (map_reload_build). Each map's query becomes a statement of the
 *	CQL session (map_reload_prepare). At startup that is all; on SIGHUP
 *	a reload (map_reload_start) builds a new registry beside the live
 *	one, stamps it with a new generation (map_registry_stamp), waits on
 *	the loop until every statement is prepared or refused (at most
 *	RELOAD_MAX_MS while the database is reachable), then swaps it into
 *	the live registry in place and empties the cache, or rejects it and
 *	keeps the old maps. Either way only the statements of the maps in
 *	use stay registered. The daemon serves throughout.
 *
 *	systemd hears RELOADING=1 when a reload starts and READY=1 when it
 *	ends, whatever the outcome.
 *
 * DIAGNOSTICS
 *	Build errors name the file and the line ("FILE: line N: ..."). A
 *	rejected reload is logged as "reload rejected, old maps kept: ...".
 */
#ifndef PAC_MAP_RELOAD_H
#define PAC_MAP_RELOAD_H

#include <stddef.h>

#include "map_registry.h"

#define RELOAD_MAX_MS		5000	/* new statements must prepare by then */
#define RELOAD_POLL_MS		10	/* how often a reload looks at them */

struct cache;
struct cql_failover;
struct event_base;

/* Where the maps come from. */
struct map_source {
	const char *path;		/* -c or CONFIG_FILE; NULL: the default */
	int path_explicit;		/* the file must then exist */
	const char *keyspace;		/* KEYSPACE_NAME */
	const struct map_defaults *defaults;
};

/*
 * map_reload_build - the default maps, then the map file. An explicit path
 * must exist; the default path may be absent. 0, or -1 with err set.
 */
int map_reload_build(const struct map_source *src, struct map_registry *reg,
		     char *err, size_t errlen);

/* map_reload_prepare - give every map its statement; -1 out of memory */
int map_reload_prepare(struct cql_failover *cql, struct map_registry *reg);

/* map_reload_settled - every statement of reg prepared or refused */
int map_reload_settled(const struct cql_failover *cql, const struct map_registry *reg);

struct map_reload;

/*
 * map_reload_new - reloads of live (built and prepared already) from src,
 * through cql, emptying cache (may be NULL) on a swap. NULL: out of memory.
 */
struct map_reload *map_reload_new(struct event_base *base, const struct map_source *src,
				  struct map_registry *live, struct cql_failover *cql,
				  struct cache *cache);

/* map_reload_start - begin a reload (SIGHUP); one at a time */
void map_reload_start(struct map_reload *r);

/* map_reload_free - drop a reload in progress and the handle; NULL is fine */
void map_reload_free(struct map_reload *r);

#endif
