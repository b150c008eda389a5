/*
 * lookup_engine - the one place that decides OK, NOTFOUND, TEMP or PERM
 *
 * SYNOPSIS
 *	#include "lookup_engine.h"
 *
 * DESCRIPTION
 *	The engine takes a socketmap request payload ("name key"), finds the
 *	map, checks and folds the key, asks the backend (lookup_backend.h:
 *	the CQL session in the daemon, a fake in the unit test), and turns
 *	the class of its outcome (cql_errclass.h) into a reply by the rule
 *	that protects mail:
 *
 *	  row found, active absent or true, value non-empty   OK <value>
 *	  no row, active false/null, value null/empty         NOTFOUND
 *	  key that cannot exist (empty, bad UTF-8, too long)  NOTFOUND
 *	  any backend trouble, including "not connected yet"  TEMP <reason>
 *	  unknown map, reply too long, query refused by the   PERM <reason>
 *	  server (missing table or column), a column the map
 *	  cannot read, a result that is not Rows
 *
 *	NOTFOUND is only ever the answer of a database that was asked and
 *	answered. No other module invents a socketmap reply.
 *
 *	A key expands into the candidates of its map's search order
 *	(search_order.h). Each candidate is answered from the cache when
 *	fresh, else by a CQL read; all reads of one lookup are issued at once
 *	and answered in priority order, so a five-step search costs one
 *	round trip. The first candidate found wins; a failure on a candidate
 *	before it makes the whole lookup fail (a lower match must not win
 *	because a higher one could not be read). Identical reads in flight
 *	are shared (coalescing, in a table with its own seeded hash). When a read fails, an expired *found*
 *	entry still inside its stale-if-error window answers instead of
 *	TEMP; an expired "no row" does not (the key may exist by now). A
 *	fresh hit in the last tenth of its life starts one background
 *	refresh, so hot keys never expire under load.
 *
 *	A lookup keeps a copy of its map as it was when it started: after a
 *	reload (SIGHUP) its reads still answer with that map, never one that
 *	took its slot, and are not cached unless the map is still the live
 *	one (map_registry_current). A read carries the cache epoch of its map
 *	it started in, so after a flush (SIGUSR1) or a drop of its map (its
 *	table changed: changes_poll.h) its answer is not cached either, nor
 *	handed to a lookup that starts after it.
 */
#ifndef PAC_LOOKUP_ENGINE_H
#define PAC_LOOKUP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "socketmap.h"

struct map_registry;
struct lookup_backend;
struct lookup_engine;
struct lookup;

typedef void (*lookup_reply_fn)(void *arg, enum socketmap_status st,
				const char *data, size_t len);

struct cache;

#define LOOKUP_LATENCY_BUCKETS	14	/* CQL read latency histogram */
#define LOOKUP_STAT_MAPS	32	/* = MAP_MAX */
#define LOOKUP_STAT_ERRORS	24	/* failure kinds, see lookup_error_name() */

struct lookup_stats {
	uint64_t requests;
	uint64_t by_status[SOCKETMAP_NSTATUS];		/* indexed by enum socketmap_status */
	uint64_t by_map[LOOKUP_STAT_MAPS][SOCKETMAP_NSTATUS];	/* map id x status */
	uint64_t errors[LOOKUP_STAT_ERRORS];	/* failed reads by kind */
	uint64_t latency_le[LOOKUP_LATENCY_BUCKETS];	/* cumulative counts */
	uint64_t latency_count;
	double latency_sum_s;
	uint64_t queries;		/* CQL reads started */
	uint64_t coalesced;		/* reads shared with one in flight */
	uint64_t refreshes;		/* refresh-ahead reads */
	uint64_t stale_answers;		/* failures answered from stale entries */
};

/*
 * lookup_engine_new - engine over a registry, a backend (copied; see
 * lookup_backend.h) and a cache (NULL: none); seed keys the hash of the
 * table of reads in flight
 */
struct lookup_engine *lookup_engine_new(struct map_registry *reg,
					const struct lookup_backend *be,
					struct cache *cache, uint64_t seed);
void lookup_engine_free(struct lookup_engine *e);
/* lookup_engine_closing - before freeing the backend: its cut reads are not failures */
void lookup_engine_closing(struct lookup_engine *e);
const struct lookup_stats *lookup_engine_stats(const struct lookup_engine *e);

/*
 * lookup_start - answer one request. The reply callback is called exactly
 * once, possibly before lookup_start returns (then NULL is returned), or
 * later (a handle is returned, valid until the callback or cancel).
 */
struct lookup *lookup_start(struct lookup_engine *e, const char *req,
			    size_t len, lookup_reply_fn cb, void *arg);
/* lookup_latency_bound - upper bound (seconds) of histogram bucket i */
double lookup_latency_bound(int i);
/* lookup_error_name - label of failure kind i, NULL past the last */
const char *lookup_error_name(int i);

/* lookup_cancel - the client went away: never call its callback */
void lookup_cancel(struct lookup *lk);

#endif
