/*
 * lookup_engine - the one place that decides OK, NOTFOUND, TEMP or PERM
 *
 * DESCRIPTION
 *	See lookup_engine.h. Backend trouble is logged at most once per
 *	LOOKUP_LOG_INTERVAL_MS with the full detail; the reply carries a
 *	short reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "extension.h"
#include "key_hash.h"
#include "log.h"
#include "lookup_backend.h"
#include "lookup_engine.h"
#include "lookup_key.h"
#include "map_registry.h"
#include "result_rows.h"
#include "search_order.h"
#include "spare.h"

#define LOOKUP_LOG_INTERVAL_MS	10000	/* repeated backend trouble */
#define LOOKUP_REASON_MAX	400	/* bytes of a TEMP/PERM reason */
#define LOOKUP_WHY_MAX		300	/* bytes of a column problem: fits a reason */
#define LOOKUP_QUERY_BUCKETS	1024	/* in-flight read table (power of 2) */
#define LOOKUP_REFRESH_PERMILLE	900	/* refresh after 90% of the TTL */
#define LOOKUP_SPARE_MAX	64	/* answered lookups kept for reuse */
#define LOOKUP_SPARE_KEYS	256	/* candidate bytes a reusable lookup holds */

_Static_assert(CQL_LABEL_COUNT <= LOOKUP_STAT_ERRORS, "a counter for every failure label");
_Static_assert(MAP_MAX <= CACHE_MAPS, "every map's answers can be cached");

/*
 * A map's definition as lookups saw it when they started. A reload
 * overwrites the registry's slots in place; a lookup or read in flight
 * keeps formatting with this copy, and its generation (map_def.gen) tells
 * whether the map is still the live one, and so whether the answer may be
 * cached. One copy per map and generation, shared by reference count.
 */
struct map_snap {
	unsigned refs;
	struct map_def def;
};

/* What became of one candidate key. */
enum cand_state { CAND_PENDING, CAND_FOUND, CAND_NOTFOUND, CAND_FAILED };

struct cand {
	enum cand_state state;
	enum socketmap_status fail_status;	/* TEMP or PERM */
	char *text;			/* value (FOUND) or reason (FAILED) */
	size_t len;
	const char *key;		/* into lookup.keys */
	size_t key_len;
};

struct lookup {
	struct lookup_engine *e;
	lookup_reply_fn cb;		/* NULL once cancelled */
	void *arg;
	struct map_snap *snap;		/* held: the map as it was at the start */
	const struct map_def *map;	/* &snap->def */
	unsigned ncand;
	unsigned pending;		/* reads this lookup still waits for */
	int answered;
	uint32_t ext_mask;		/* extension-stripped candidates (search_order.h) */
	const char *ext;		/* its extension, as the client wrote it */
	size_t ext_len;
	int reusable;			/* from e->spare: keys[] holds LOOKUP_SPARE_KEYS bytes */
	struct cand cand[SEARCH_MAX_CANDIDATES];
	char keys[];			/* the candidates, NUL-terminated */
};

/* A read waiting to be answered, shared by every lookup that needs it. */
struct waiter {
	struct waiter *next;
	struct lookup *lk;
	unsigned idx;
};

struct query {
	struct query *hnext;
	struct lookup_engine *e;
	int64_t started_us;		/* for the latency histogram */
	uint64_t hash;
	uint64_t epoch;			/* the cache's when the read started */
	struct map_snap *snap;		/* held */
	const struct map_def *map;	/* &snap->def: coalescing compares it */
	struct waiter *waiters;
	size_t key_len;
	char key[];
};

/* The outcome of one read, as every waiter should see it. */
struct outcome {
	enum cand_state state;
	enum socketmap_status fail_status;
	const char *text;
	size_t len;
};

struct lookup_engine {
	struct map_registry *reg;
	struct lookup_backend be;
	struct cache *cache;
	uint64_t seed;			/* of the in-flight table's hash */
	struct map_snap *snaps[MAP_MAX];	/* by slot: the latest copy */
	struct query *queries[LOOKUP_QUERY_BUCKETS];
	struct lookup_stats stats;
	struct log_limit temp_log;
	struct log_limit perm_log;
	struct log_limit stale_log;
	int closing;			/* lookup_engine_closing(): reads now cut */
	struct spare spare;		/* answered lookups kept for reuse */
};

/* lookup_engine_new - an engine over a registry, a backend and a cache */
struct lookup_engine *lookup_engine_new(struct map_registry *reg,
					const struct lookup_backend *be,
					struct cache *cache, uint64_t seed)
{
	struct lookup_engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->reg = reg;
	e->be = *be;
	e->cache = cache;
	e->seed = seed;
	spare_init(&e->spare, sizeof(struct lookup) + LOOKUP_SPARE_KEYS, LOOKUP_SPARE_MAX);
	return e;
}

/* snap_put - drop one reference to a map copy */
static void snap_put(struct map_snap *snap)
{
	if (snap && --snap->refs == 0)
		free(snap);
}

/*
 * snap_get - a reference to the copy of the live map in a slot, made
 * anew when the slot holds a newer generation; NULL when out of memory.
 */
static struct map_snap *snap_get(struct lookup_engine *e, const struct map_def *map)
{
	size_t slot = (size_t)(map - e->reg->maps);
	struct map_snap *snap = e->snaps[slot];

	if (snap == NULL || snap->def.gen != map->gen) {
		if ((snap = malloc(sizeof(*snap))) == NULL)
			return NULL;
		snap->refs = 1;		/* the engine's own */
		snap->def = *map;
		snap_put(e->snaps[slot]);
		e->snaps[slot] = snap;
	}
	snap->refs++;
	return snap;
}

/* lookup_engine_free - release the engine; reads in flight are dropped */
void lookup_engine_free(struct lookup_engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < MAP_MAX; i++)
		snap_put(e->snaps[i]);
	spare_free(&e->spare);
	free(e);
}

/*
 * lookup_engine_closing - the backend is about to be freed: the reads it
 * still has are cut, not failed (their lookups were answered, or their
 * clients are gone), so they are neither logged nor counted as errors
 */
void lookup_engine_closing(struct lookup_engine *e)
{
	if (e != NULL)
		e->closing = 1;
}

/* lookup_engine_stats - counters for status and metrics */
const struct lookup_stats *lookup_engine_stats(const struct lookup_engine *e)
{
	return &e->stats;
}

static const double latency_bounds[LOOKUP_LATENCY_BUCKETS] = {
	/* Sub-millisecond buckets: a LAN Cassandra or a cached node answers in 100-500 us. */
	0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5,
};

/* lookup_latency_bound - upper bound of bucket i, in seconds */
double lookup_latency_bound(int i)
{
	return i >= 0 && i < LOOKUP_LATENCY_BUCKETS ? latency_bounds[i] : 0;
}

/* lookup_error_name - label of failure kind i (cql_errclass.h) */
const char *lookup_error_name(int i)
{
	return cql_errclass_label_name(i);
}

/* observe_latency - one finished read into the histogram, measured in microseconds */
static void observe_latency(struct lookup_stats *st, int64_t us)
{
	double s = (double)us / 1e6;
	int i;

	st->latency_count++;
	st->latency_sum_s += s;
	for (i = 0; i < LOOKUP_LATENCY_BUCKETS; i++)
		if (s <= latency_bounds[i])
			st->latency_le[i]++;
}

/*
 * failure_reason - TEMP or PERM, and the short reason, for a failed read:
 * a query the server refuses is the map's configuration, anything else
 * the backend's trouble of the moment
 */
static enum socketmap_status failure_reason(const struct map_def *map,
					    const struct lookup_read *r,
					    char *reason, size_t size)
{
	if (r->fail.cls == CQL_ERRCLASS_CONFIG) {
		snprintf(reason, size, "map %s: %s", map->name, r->fail.reason);
		return SOCKETMAP_PERM;
	}
	snprintf(reason, size, "%s", r->fail.reason);
	return SOCKETMAP_TEMP;
}

/* lookup_new - a cleared lookup with room for total candidate bytes, a kept one if they fit */
static struct lookup *lookup_new(struct lookup_engine *e, size_t total)
{
	struct lookup *lk;

	if (total > LOOKUP_SPARE_KEYS)
		return calloc(1, sizeof(*lk) + total);
	if ((lk = spare_get(&e->spare)) != NULL) {
		memset(lk, 0, sizeof(*lk));	/* keys[] is written before it is read */
		lk->reusable = 1;
	}
	return lk;
}

/* lookup_dispose - keep a lookup for reuse, or free it */
static void lookup_dispose(struct lookup_engine *e, struct lookup *lk)
{
	if (lk->reusable)
		spare_put(&e->spare, lk);
	else
		free(lk);
}

/* lookup_release - free a lookup once answered and no read needs it */
static void lookup_release(struct lookup *lk)
{
	unsigned i;

	if (!lk->answered || lk->pending > 0)
		return;
	for (i = 0; i < lk->ncand; i++)
		free(lk->cand[i].text);
	snap_put(lk->snap);
	lookup_dispose(lk->e, lk);
}

/* answer - deliver the reply once, and count it */
static void answer(struct lookup *lk, enum socketmap_status st,
		   const char *data, size_t len)
{
	lk->answered = 1;
	lk->e->stats.by_status[st]++;
	if (lk->map->id < LOOKUP_STAT_MAPS)
		lk->e->stats.by_map[lk->map->id][st]++;
	if (lk->cb)
		lk->cb(lk->arg, st, data, len);
}

/*
 * answer_found - OK with the value of candidate i; when i is the
 * extension-stripped key of a map that propagates extensions, the
 * extension goes into each address, as Postfix would have done itself
 * had it known which key matched (extension.h)
 */
static void answer_found(struct lookup *lk, unsigned i)
{
	struct cand *c = &lk->cand[i];
	const char *text = c->text;
	size_t len = c->len;
	struct buf ext;

	buf_init(&ext);
	if ((lk->ext_mask >> i & 1) && lk->map->propagate_ext && len > 0 && text[0] != '@') {
		extension_propagate(text, len, lk->ext, lk->ext_len, &ext);
		if (ext.oom) {
			buf_free(&ext);
			answer(lk, SOCKETMAP_TEMP, SOCKETMAP_TEXT("out of memory"));
			return;
		}
		text = (const char *)ext.data;
		len = ext.len;
	}
	if (len + sizeof("OK ") > SOCKETMAP_REPLY_MAX) {
		msg_limited(&lk->e->perm_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_ERROR,
			    "lookup %s %s: reply of %zu bytes is over the %d-byte limit",
			    lk->map->name, c->key, len, SOCKETMAP_REPLY_MAX);
		answer(lk, SOCKETMAP_PERM, SOCKETMAP_TEXT("reply too long"));
	} else {
		msg_debug("lookup %s %s: OK via %s: %.*s", lk->map->name,
			  lk->cand[0].key, c->key, (int)len, text);
		answer(lk, SOCKETMAP_OK, text, len);
	}
	buf_free(&ext);
}

/* try_answer - answer if the candidates settled in priority order allow */
static void try_answer(struct lookup *lk)
{
	unsigned i;

	if (lk->answered)
		return;
	for (i = 0; i < lk->ncand; i++) {
		struct cand *c = &lk->cand[i];

		switch (c->state) {
		case CAND_PENDING:
			return;
		case CAND_NOTFOUND:
			continue;
		case CAND_FOUND:
			answer_found(lk, i);
			return;
		case CAND_FAILED:
			answer(lk, c->fail_status, c->text, c->len);
			return;
		}
	}
	msg_debug("lookup %s %s: NOTFOUND (%u candidates)", lk->map->name,
		  lk->cand[0].key, lk->ncand);
	answer(lk, SOCKETMAP_NOTFOUND, "", 0);
}

/* settle - record the outcome of one candidate */
static void settle(struct lookup *lk, unsigned idx, const struct outcome *o)
{
	struct cand *c = &lk->cand[idx];

	c->state = o->state;
	c->fail_status = o->fail_status;
	c->len = 0;
	if (o->state == CAND_FOUND || o->state == CAND_FAILED) {
		if ((c->text = malloc(o->len + 1)) == NULL) {
			c->state = CAND_FAILED;
			c->fail_status = SOCKETMAP_TEMP;
			c->text = strdup("out of memory");
			c->len = c->text ? strlen(c->text) : 0;
			return;
		}
		memcpy(c->text, o->text, o->len);
		c->text[o->len] = 0;
		c->len = o->len;
	}
}

/* outcome_from_entry - what a cache entry says */
static void outcome_from_entry(const struct cache_entry *ce, struct outcome *o)
{
	o->state = ce->found ? CAND_FOUND : CAND_NOTFOUND;
	o->fail_status = SOCKETMAP_TEMP;
	o->text = cache_entry_value(ce);
	o->len = ce->val_len;
}

/*
 * query_hash - the in-flight table's own seeded hash, so keys stay spread
 * (and clients cannot aim them at one bucket) whether the cache is on or off
 */
static uint64_t query_hash(const struct lookup_engine *e, uint32_t map_id,
			   const char *key, size_t len)
{
	return key_hash(e->seed, map_id, key, len);
}

/* query_bucket - the in-flight table slot for a hash */
static struct query **query_bucket(struct lookup_engine *e, uint64_t h)
{
	return &e->queries[h & (LOOKUP_QUERY_BUCKETS - 1)];
}

/* query_unlink - take a finished read out of the in-flight table */
static void query_unlink(struct query *q)
{
	struct query **pp = query_bucket(q->e, q->hash);

	while (*pp && *pp != q)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = q->hnext;
}

/* query_epoch - the cache epoch of a map's entries now (0 without a cache) */
static uint64_t query_epoch(const struct lookup_engine *e, const struct map_def *map)
{
	return e->cache ? cache_epoch(e->cache, map->id) : 0;
}

/*
 * query_find - a read in flight for (map, key), started in the current
 * epoch: one started before a flush or a drop of the map (its table
 * changed) may carry the old row, which a lookup that starts after it
 * must not be handed
 */
static struct query *query_find(struct lookup_engine *e, uint64_t h,
				const struct map_def *map, const char *key,
				size_t len)
{
	uint64_t epoch = query_epoch(e, map);
	struct query *q;

	for (q = *query_bucket(e, h); q; q = q->hnext)
		if (q->hash == h && q->map == map && q->epoch == epoch &&
		    q->key_len == len && memcmp(q->key, key, len) == 0)
			return q;
	return NULL;
}

/*
 * failure_outcome - a read failed: answer from a cached found entry still
 * inside its stale-if-error window (or any fresh one), else TEMP/PERM
 * with the reason. An expired "no row" is never served: that candidate
 * failed, so a lower candidate cannot win over it.
 */
static void failure_outcome(struct lookup_engine *e, const struct map_def *map,
			    const char *key, size_t len,
			    const struct lookup_read *r, struct outcome *o,
			    char *reason, size_t size)
{
	struct cache_entry *ce;
	int64_t now;

	o->state = CAND_FAILED;
	o->fail_status = failure_reason(map, r, reason, size);
	o->text = reason;
	o->len = strlen(reason);
	if (e->closing)		/* cut by the shutdown: neither a failure nor news */
		return;
	e->stats.errors[r->fail.label]++;
	if (o->fail_status == SOCKETMAP_PERM) {
		msg_limited(&e->perm_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_ERROR,
			    "lookup %s: PERM %s", map->name, reason);
		return;
	}
	now = clock_now_ms();
	/* After a reload the map's cache slot may hold another map's answers. */
	if (e->cache && map_registry_current(e->reg, map) &&
	    (ce = cache_get_stale(e->cache, map->id, key, len, now)) != NULL) {
		outcome_from_entry(ce, o);
		e->stats.stale_answers++;
		msg_limited(&e->stale_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "lookup %s: %s; answering from cached data up to %lld s old",
			    map->name, reason, (long long)((now - ce->fetched_ms) / 1000));
		return;
	}
	msg_limited(&e->temp_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
		    "lookup %s: TEMP %s%s%s (%s)", map->name, reason,
		    r->detail[0] ? ": " : "", r->detail,
		    e->be.ops->state(e->be.ctx));
}

/* query_done - a read finished: cache it, settle every waiter */
static void query_done(const struct lookup_read *r, void *arg)
{
	struct query *q = arg;
	struct lookup_engine *e = q->e;
	const struct map_def *map = q->map;
	struct waiter *w, *next;
	struct outcome o;
	struct cql_rows rows;
	struct buf out;
	char reason[LOOKUP_REASON_MAX], why[LOOKUP_WHY_MAX];
	int found;

	query_unlink(q);
	if (r->timed)
		observe_latency(&e->stats, clock_now_us() - q->started_us);
	buf_init(&out);
	if (r->fail.cls != CQL_ERRCLASS_OK) {
		failure_outcome(e, map, q->key, q->key_len, r, &o, reason, sizeof(reason));
	} else if (r->rows == NULL) {
		snprintf(reason, sizeof(reason), "map %s: query is not a SELECT", map->name);
		o.state = CAND_FAILED;
		o.fail_status = SOCKETMAP_PERM;
		o.text = reason;
		o.len = strlen(reason);
	} else if (result_rows_check(&r->rows->meta, why, sizeof(why)) != 0) {
		/* A column the map cannot read: configuration, not "no row". */
		snprintf(reason, sizeof(reason), "map %s: %s", map->name, why);
		msg_limited(&e->perm_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_ERROR,
			    "lookup %s: PERM %s", map->name, reason);
		o.state = CAND_FAILED;
		o.fail_status = SOCKETMAP_PERM;
		o.text = reason;
		o.len = strlen(reason);
	} else {
		rows = *r->rows;	/* a cursor of our own over the rows */
		found = result_rows_format(&rows, map->result_format, &out);
		if (found < 0) {
			struct lookup_read bad = { .detail = "" };

			cql_errclass_classify(CQL_STATUS_PROTOCOL, NULL, &bad.fail);
			failure_outcome(e, map, q->key, q->key_len, &bad, &o, reason,
					sizeof(reason));
		} else {
			o.state = found ? CAND_FOUND : CAND_NOTFOUND;
			o.fail_status = SOCKETMAP_TEMP;
			o.text = found ? (char *)out.data : "";
			o.len = found ? out.len : 0;
			/* Not for a map a reload replaced, nor across a flush or drop. */
			if (e->cache && map_registry_current(e->reg, map))
				cache_put(e->cache, q->epoch, map->id, q->key, q->key_len, found,
					  o.text, o.len, clock_now_ms(),
					  found ? map->ttl_ms : map->negative_ttl_ms,
					  found ? map->stale_ms : 0);
		}
	}
	for (w = q->waiters; w; w = next) {
		next = w->next;
		settle(w->lk, w->idx, &o);
		w->lk->pending--;
		try_answer(w->lk);
		lookup_release(w->lk);
		free(w);
	}
	buf_free(&out);
	snap_put(q->snap);
	free(q);
}

/* out_of_memory - a read that could not start for want of memory: TEMP */
static void out_of_memory(struct lookup_read *r)
{
	memset(r, 0, sizeof(*r));
	cql_errclass_classify(CQL_STATUS_BUSY, NULL, &r->fail);
	r->detail = "";
}

/*
 * query_start - start (or join) the read of one candidate. With lk NULL
 * it is a background refresh. Returns 0 if the read is under way (lk will
 * be settled later), -1 if it could not start: *r says why.
 */
static int query_start(struct lookup_engine *e, struct map_snap *snap,
		       const char *key, size_t len, struct lookup *lk,
		       unsigned idx, struct lookup_read *r)
{
	const struct map_def *map = &snap->def;
	uint64_t h = query_hash(e, map->id, key, len);
	struct query *q = query_find(e, h, map, key, len);
	struct waiter *w = NULL;

	if (lk && (w = malloc(sizeof(*w))) == NULL) {
		out_of_memory(r);
		return -1;
	}
	if (q != NULL) {
		if (w == NULL)
			return 0;		/* refresh already running */
		e->stats.coalesced++;
	} else {
		if ((q = malloc(sizeof(*q) + len + 1)) == NULL) {
			free(w);
			out_of_memory(r);
			return -1;
		}
		q->e = e;
		q->started_us = clock_now_us();
		q->hash = h;
		q->epoch = query_epoch(e, map);
		q->snap = snap;
		q->map = map;
		q->waiters = NULL;
		q->key_len = len;
		memcpy(q->key, key, len);
		q->key[len] = 0;
		if (e->be.ops->read(e->be.ctx, map->stmt, q->key, len, query_done, q, r) != 0) {
			free(q);
			free(w);
			return -1;
		}
		e->stats.queries++;
		snap->refs++;
		q->hnext = *query_bucket(e, h);
		*query_bucket(e, h) = q;
	}
	if (w) {
		w->lk = lk;
		w->idx = idx;
		w->next = q->waiters;
		q->waiters = w;
		lk->pending++;
	}
	return 0;
}

/* resolve_candidate - from the cache, or by a read */
static void resolve_candidate(struct lookup *lk, unsigned idx)
{
	struct lookup_engine *e = lk->e;
	const struct map_def *map = lk->map;
	struct cand *c = &lk->cand[idx];
	struct cache_entry *ce = NULL;
	struct lookup_read r;
	struct outcome o;
	char reason[LOOKUP_REASON_MAX];
	int64_t now = clock_now_ms();

	if (e->cache && (ce = cache_get_fresh(e->cache, map->id, c->key, c->key_len, now)) != NULL) {
		int64_t life = ce->fresh_for_ms;

		outcome_from_entry(ce, &o);
		settle(lk, idx, &o);
		/* Refresh-ahead: keep hot keys from ever expiring under load. */
		if (now - ce->fetched_ms >= life * LOOKUP_REFRESH_PERMILLE / 1000 &&
		    e->be.ops->is_ready(e->be.ctx) &&
		    query_start(e, lk->snap, c->key, c->key_len, NULL, 0, &r) == 0)
			e->stats.refreshes++;
		return;
	}
	if (query_start(e, lk->snap, c->key, c->key_len, lk, idx, &r) == 0)
		return;
	failure_outcome(e, map, c->key, c->key_len, &r, &o, reason, sizeof(reason));
	settle(lk, idx, &o);
}

/*
 * expand_key - fold the key and list the candidates that can exist. The
 * whole key is not checked first: a local part that is too long or not
 * UTF-8 must not hide the domain and parent-domain rows (issue 11), so
 * only the candidates that cannot be in the database are left out. The
 * key may be as long as a request (NETSTRING_MAX_LEN); the candidates
 * made from the domain are short.
 */
static int expand_key(const struct map_def *map, const char *key, size_t len,
		      struct search_candidates *sc, const char **why)
{
	char small[LOOKUP_KEY_MAX + 1];	/* every key that can exist fits: no malloc */
	char *folded = len < sizeof(small) ? small : malloc(len + 1);
	size_t i, n = 0;
	const char *cwhy;
	uint32_t mask;

	if (folded == NULL)
		return -1;
	if (map->fold_case) {
		lookup_key_fold(key, len, folded);
	} else {
		memcpy(folded, key, len);
		folded[len] = 0;
	}
	search_order_expand(&map->search, folded, len, sc);
	if (folded != small)
		free(folded);
	mask = sc->ext_mask;
	sc->ext_mask = 0;
	for (i = 0; i < sc->n; i++) {
		if (!lookup_key_valid(sc->key[i], sc->len[i], &cwhy))
			continue;
		sc->ext_mask |= (mask >> i & 1u) << n;
		if (n != i) {
			memcpy(sc->key[n], sc->key[i], sc->len[i] + 1);
			sc->len[n] = sc->len[i];
		}
		n++;
	}
	sc->n = n;
	if (n == 0)
		(void)lookup_key_valid(key, len, why);	/* for the log */
	return 0;
}

/* lookup_start - answer one request */
struct lookup *lookup_start(struct lookup_engine *e, const char *req,
			    size_t len, lookup_reply_fn cb, void *arg)
{
	struct socketmap_request r;
	struct search_candidates sc;
	struct map_def *map;
	struct lookup *lk;
	const char *why;
	char reason[LOOKUP_REASON_MAX];
	size_t total = 0, i;
	char *p;

	e->stats.requests++;
	if (socketmap_parse_request(req, len, &r, &why) != 0) {
		e->stats.by_status[SOCKETMAP_PERM]++;
		cb(arg, SOCKETMAP_PERM, why, strlen(why));
		return NULL;
	}
	if ((map = map_registry_find(e->reg, r.name, r.name_len)) == NULL) {
		snprintf(reason, sizeof(reason), "unknown map name '%.*s'",
			 (int)r.name_len, r.name);
		msg_limited(&e->perm_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "lookup: %s", reason);
		e->stats.by_status[SOCKETMAP_PERM]++;
		cb(arg, SOCKETMAP_PERM, reason, strlen(reason));
		return NULL;
	}
	if (expand_key(map, r.key, r.key_len, &sc, &why) != 0) {
		e->stats.by_status[SOCKETMAP_TEMP]++;
		cb(arg, SOCKETMAP_TEMP, SOCKETMAP_TEXT("out of memory"));
		return NULL;
	}
	if (sc.n == 0) {
		msg_debug("lookup %s: NOTFOUND without a query: no candidate can exist (%s)",
			  map->name, why ? why : "");
		e->stats.by_status[SOCKETMAP_NOTFOUND]++;
		if (map->id < LOOKUP_STAT_MAPS)
			e->stats.by_map[map->id][SOCKETMAP_NOTFOUND]++;
		cb(arg, SOCKETMAP_NOTFOUND, "", 0);
		return NULL;
	}
	for (i = 0; i < sc.n; i++)
		total += sc.len[i] + 1;
	if (sc.ext_mask)
		total += sc.ext_len + 1;
	if ((lk = lookup_new(e, total)) == NULL || (lk->snap = snap_get(e, map)) == NULL) {
		if (lk)
			lookup_dispose(e, lk);
		e->stats.by_status[SOCKETMAP_TEMP]++;
		cb(arg, SOCKETMAP_TEMP, SOCKETMAP_TEXT("out of memory"));
		return NULL;
	}
	lk->e = e;
	lk->cb = cb;
	lk->arg = arg;
	lk->map = &lk->snap->def;
	lk->ncand = (unsigned)sc.n;
	for (i = 0, p = lk->keys; i < sc.n; i++) {
		memcpy(p, sc.key[i], sc.len[i] + 1);
		lk->cand[i].key = p;
		lk->cand[i].key_len = sc.len[i];
		lk->cand[i].state = CAND_PENDING;
		p += sc.len[i] + 1;
	}
	lk->ext_mask = sc.ext_mask;
	if (sc.ext_mask) {
		memcpy(p, r.key + sc.ext_off, sc.ext_len);	/* the client's case */
		p[sc.ext_len] = 0;
		lk->ext = p;
		lk->ext_len = sc.ext_len;
	}
	/*
	 * Hold a reference while starting the reads: a read that completes
	 * at once must not free the lookup under us.
	 */
	lk->pending++;
	for (i = 0; i < lk->ncand; i++)
		resolve_candidate(lk, (unsigned)i);
	lk->pending--;
	try_answer(lk);
	if (lk->answered) {
		lookup_release(lk);
		return NULL;
	}
	return lk;
}

/* lookup_cancel - forget the client; reads in flight still fill the cache */
void lookup_cancel(struct lookup *lk)
{
	lk->cb = NULL;
	lk->answered = 1;
	lookup_release(lk);
}
