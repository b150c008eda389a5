/*
 * cache - lookup answers kept in memory, with LRU eviction (see cache.h)
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "key_hash.h"

#define CACHE_MIN_BUCKETS	64
#define CACHE_LIFE_MAX_MS	UINT32_MAX	/* fresh or stale window, ~49 days */

struct cache {
	struct cache_entry **buckets;
	size_t nbuckets;		/* power of two */
	size_t max_entries;
	TAILQ_HEAD(cache_lru, cache_entry) lru;	/* most recently used first */
	uint64_t seed;
	uint64_t epoch;			/* bumped by every flush */
	uint64_t map_gen[CACHE_MAPS];	/* bumped by cache_drop_map */
	struct cache_stats stats;
};

/* cache_new - allocate the bucket array */
struct cache *cache_new(size_t max_entries, uint64_t seed)
{
	struct cache *c = calloc(1, sizeof(*c));
	size_t n = CACHE_MIN_BUCKETS;

	if (c == NULL)
		return NULL;
	while (n < max_entries && n < ((size_t)1 << 30))
		n <<= 1;
	c->nbuckets = n;
	c->max_entries = max_entries;
	c->seed = seed;
	TAILQ_INIT(&c->lru);
	if ((c->buckets = calloc(n, sizeof(*c->buckets))) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

/* cache_free - release everything */
void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	cache_flush(c);
	free(c->buckets);
	free(c);
}

/* cache_hash - the cache's seeded hash of (map id, key) */
uint64_t cache_hash(const struct cache *c, uint32_t map_id, const char *key,
		    size_t len)
{
	return key_hash(c->seed, map_id, key, len);
}

/* lru_touch - make an entry the most recently used */
static void lru_touch(struct cache *c, struct cache_entry *e)
{
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
}

/* remove_entry - unlink from bucket and LRU, free */
static void remove_entry(struct cache *c, struct cache_entry *e)
{
	uint64_t h = cache_hash(c, e->map_id, e->data, e->key_len);
	struct cache_entry **pp = &c->buckets[h & (c->nbuckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	free(e);
	c->stats.entries--;
}

/* find - the entry for (map, key) */
static struct cache_entry *find(struct cache *c, uint64_t h, uint32_t map_id,
				const char *key, size_t len)
{
	struct cache_entry *e;

	for (e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->map_id == map_id && e->key_len == len &&
		    memcmp(e->data, key, len) == 0)
			return e;
	return NULL;
}

/* cache_get - look up, dropping an entry past its stale window */
struct cache_entry *cache_get(struct cache *c, uint32_t map_id,
			      const char *key, size_t len, int64_t now_ms)
{
	uint64_t h;
	struct cache_entry *e;

	if (c->max_entries == 0)
		return NULL;
	h = cache_hash(c, map_id, key, len);
	if ((e = find(c, h, map_id, key, len)) == NULL)
		return NULL;
	/* Stored before its map was dropped: gone, even as a stale answer. */
	if (now_ms >= cache_entry_stale_until(e) ||
	    e->gen != (c->map_gen[map_id] & CACHE_GEN_MASK)) {
		remove_entry(c, e);
		return NULL;
	}
	lru_touch(c, e);
	return e;
}

/* cache_get_fresh - a fresh entry (a hit) or NULL (a miss), counted */
struct cache_entry *cache_get_fresh(struct cache *c, uint32_t map_id,
				    const char *key, size_t len, int64_t now_ms)
{
	struct cache_entry *e = cache_get(c, map_id, key, len, now_ms);

	if (e != NULL && now_ms < cache_entry_fresh_until(e)) {
		c->stats.hits++;
		return e;
	}
	c->stats.misses++;
	return NULL;
}

/* cache_get_stale - an entry that may answer for a failed read, counted */
struct cache_entry *cache_get_stale(struct cache *c, uint32_t map_id,
				    const char *key, size_t len, int64_t now_ms)
{
	struct cache_entry *e = cache_get(c, map_id, key, len, now_ms);

	if (e == NULL || !cache_entry_serves_failure(e, now_ms))
		return NULL;
	c->stats.stale_hits++;
	return e;
}

/*
 * cache_epoch - the current epoch of a map's entries: both counters only
 * grow, so their sum changes whenever either does
 */
uint64_t cache_epoch(const struct cache *c, uint32_t map_id)
{
	return c->epoch + (map_id < CACHE_MAPS ? c->map_gen[map_id] : 0);
}

/* cache_put - store or replace an answer read in this epoch */
struct cache_entry *cache_put(struct cache *c, uint64_t epoch, uint32_t map_id,
			      const char *key, size_t len, int found,
			      const char *val, size_t vlen, int64_t now_ms,
			      int64_t ttl_ms, int64_t stale_ms)
{
	uint64_t h;
	struct cache_entry *e, *old;

	if (c->max_entries == 0 || map_id > CACHE_MAP_MAX || epoch != cache_epoch(c, map_id) ||
	    ttl_ms <= 0 || len > CACHE_KEY_MAX || vlen > CACHE_VALUE_MAX)
		return NULL;
	h = cache_hash(c, map_id, key, len);
	if ((old = find(c, h, map_id, key, len)) != NULL)
		remove_entry(c, old);
	while (c->stats.entries >= c->max_entries && !TAILQ_EMPTY(&c->lru)) {
		remove_entry(c, TAILQ_LAST(&c->lru, cache_lru));
		c->stats.evictions++;
	}
	if ((e = malloc(sizeof(*e) + len + 1 + vlen + 1)) == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->map_id = (uint16_t)map_id;
	e->found = found != 0;
	e->gen = c->map_gen[map_id] & CACHE_GEN_MASK;
	e->fetched_ms = now_ms;
	e->fresh_for_ms = ttl_ms > CACHE_LIFE_MAX_MS ? CACHE_LIFE_MAX_MS : (uint32_t)ttl_ms;
	e->stale_for_ms = stale_ms <= 0 ? 0 : stale_ms > CACHE_LIFE_MAX_MS ?
			  CACHE_LIFE_MAX_MS : (uint32_t)stale_ms;
	e->key_len = (uint16_t)len;
	e->val_len = (uint32_t)vlen & CACHE_VALUE_MAX;
	memcpy(e->data, key, len);
	e->data[len] = 0;
	if (vlen)
		memcpy(e->data + len + 1, val, vlen);
	e->data[len + 1 + vlen] = 0;
	e->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->stats.entries++;
	c->stats.inserts++;
	return e;
}

/* cache_flush - drop everything */
void cache_flush(struct cache *c)
{
	struct cache_entry *e, *next;

	for (e = TAILQ_FIRST(&c->lru); e; e = next) {
		next = TAILQ_NEXT(e, lru);
		free(e);
	}
	memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
	TAILQ_INIT(&c->lru);
	c->stats.entries = 0;
	c->epoch++;
}

/* cache_drop_map - a new generation for the map; free its entries when the bits wrap */
void cache_drop_map(struct cache *c, uint32_t map_id)
{
	struct cache_entry *e, *next;

	if (map_id >= CACHE_MAPS)
		return;
	if ((++c->map_gen[map_id] & CACHE_GEN_MASK) != 0)
		return;
	for (e = TAILQ_FIRST(&c->lru); e; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (e->map_id == map_id)
			remove_entry(c, e);
	}
}

/* cache_stats - the counters */
const struct cache_stats *cache_stats(const struct cache *c)
{
	return &c->stats;
}
