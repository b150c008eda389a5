/*
 * cache - lookup answers kept in memory, with LRU eviction
 *
 * SYNOPSIS
 *	#include "cache.h"
 *
 * DESCRIPTION
 *	Keyed by (map id, candidate key), so one cached "@example.com" serves
 *	every address of that domain. An entry holds whether the database
 *	found the key, the formatted value, when it was fetched, until when
 *	it is fresh, and until when it may still be served if the database
 *	fails (stale-if-error: found answers only, see
 *	cache_entry_serves_failure). Failures are never cached.
 *
 *	A fixed-size bucket array (the next power of two over the entry
 *	limit) and a doubly linked LRU list give O(1) get, put and eviction;
 *	memory is proportional to the entries. The hash is seeded at
 *	creation, so clients cannot aim keys at one bucket. Every flush
 *	starts a new epoch, and a put carries the epoch its read started
 *	in: an answer read before a flush is not stored after it.
 *
 *	One map's entries are dropped (cache_drop_map: its table changed,
 *	changes_poll.h) without walking the cache: each map has a generation,
 *	each entry the generation it was stored in, and an entry of an older
 *	one is gone when next looked at (or evicted as least recently used
 *	meanwhile). The map's generation is part of the epoch a read carries,
 *	so an answer read before the drop is not stored after it either.
 *
 *	Time is passed in (milliseconds, monotonic): the module reads no
 *	clock and is unit-tested as a pure data structure.
 */
#ifndef PAC_CACHE_H
#define PAC_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct cache;

/*
 * One entry is one allocation: this header, the key, NUL, the value, NUL.
 * The header is kept small because 100000 entries are most of the daemon's memory (48 bytes on LP64, so a typical entry
 * fits a 112-byte malloc chunk): times after fetched_ms are 32-bit offsets
 * in milliseconds (lifetimes are clamped to 49 days), lengths are bounded
 * by LOOKUP_KEY_MAX and the 100000-byte reply limit, the value is found
 * after the key rather than through a pointer, and no hash is kept (an
 * eviction hashes the key again).
 */
struct cache_entry {
	struct cache_entry *hnext;	/* bucket chain */
	TAILQ_ENTRY(cache_entry) lru;	/* LRU list, most recent first */
	int64_t fetched_ms;
	uint32_t fresh_for_ms;		/* fresh until fetched + this */
	uint32_t stale_for_ms;		/* then servable on failure this long */
	uint32_t val_len:23;
	uint32_t found:1;
	uint32_t gen:8;			/* low bits of its map's generation */
	uint16_t key_len;
	uint16_t map_id;
	char data[];			/* key NUL value NUL */
};

#define CACHE_KEY_MAX		UINT16_MAX	/* longer keys are not cached */
#define CACHE_VALUE_MAX		((1u << 23) - 1)	/* bytes; replies stop at 100000 */
#define CACHE_MAPS		64	/* map ids 0..CACHE_MAPS-1 are cached */
#define CACHE_MAP_MAX		(CACHE_MAPS - 1)
#define CACHE_GEN_MASK		0xffu	/* the generation bits an entry keeps */

/* cache_entry_fresh_until - end of the fresh window (ms) */
static inline int64_t cache_entry_fresh_until(const struct cache_entry *e)
{
	return e->fetched_ms + e->fresh_for_ms;
}

/* cache_entry_stale_until - end of the stale-if-error window (ms) */
static inline int64_t cache_entry_stale_until(const struct cache_entry *e)
{
	return cache_entry_fresh_until(e) + e->stale_for_ms;
}

/*
 * cache_entry_serves_failure - may this entry answer for a read that
 * failed at now_ms? A found answer may until the end of its stale window
 * (stale-if-error: the mail keeps flowing to where it went). A "no row"
 * only while fresh: past its TTL the key may have been created since, so
 * it is no longer knowledge, and a NOTFOUND from it could bounce mail or
 * let a lower search candidate (a catch-all) win.
 */
static inline int cache_entry_serves_failure(const struct cache_entry *e,
					     int64_t now_ms)
{
	return now_ms < (e->found ? cache_entry_stale_until(e) :
				    cache_entry_fresh_until(e));
}

/* cache_entry_value - the value, NUL-terminated (val_len bytes) */
static inline const char *cache_entry_value(const struct cache_entry *e)
{
	return e->data + e->key_len + 1;
}

struct cache_stats {
	uint64_t hits, misses, stale_hits, evictions, inserts;
	size_t entries;
};

/* cache_new - a cache of at most max_entries (0: disabled, never stores) */
struct cache *cache_new(size_t max_entries, uint64_t seed);
void cache_free(struct cache *c);

/* cache_hash - the seeded hash of (map id, key) */
uint64_t cache_hash(const struct cache *c, uint32_t map_id, const char *key,
		    size_t len);

/*
 * cache_get - the entry for the key, fresh or not (check its times), or
 * NULL. Entries past their stale window are dropped here. A found entry
 * becomes the most recently used.
 */
struct cache_entry *cache_get(struct cache *c, uint32_t map_id,
			      const char *key, size_t len, int64_t now_ms);

/*
 * cache_get_fresh - the entry while fresh, counted as a hit; NULL (a
 * miss, counted) when absent or past its TTL
 */
struct cache_entry *cache_get_fresh(struct cache *c, uint32_t map_id,
				    const char *key, size_t len, int64_t now_ms);

/*
 * cache_get_stale - for a read that failed: the entry if it may answer
 * instead (cache_entry_serves_failure), counted as a stale hit; else NULL
 */
struct cache_entry *cache_get_stale(struct cache *c, uint32_t map_id,
				    const char *key, size_t len, int64_t now_ms);

/*
 * cache_epoch - the identity of a map's entries: cache_flush and
 * cache_drop_map of that map change it. A read takes it when it starts
 * and hands it to cache_put when it ends, so an answer read before a
 * flush or a drop cannot come back into the emptied cache.
 */
uint64_t cache_epoch(const struct cache *c, uint32_t map_id);

/*
 * cache_put - store an answer, replacing any entry for the key; evicts
 * the least recently used entry when full. Returns the entry, or NULL
 * when disabled, out of memory, or epoch is not the current one (the
 * answer was read before a flush).
 */
struct cache_entry *cache_put(struct cache *c, uint64_t epoch, uint32_t map_id,
			      const char *key, size_t len, int found,
			      const char *val, size_t vlen, int64_t now_ms,
			      int64_t ttl_ms, int64_t stale_ms);

/* cache_flush - drop every entry, and start a new epoch */
void cache_flush(struct cache *c);

/*
 * cache_drop_map - drop every entry of one map, and start a new epoch
 * for it: O(1) (the entries go when next looked at), except that every
 * CACHE_GEN_MASK + 1 drops of one map its entries are freed at once, so
 * an entry's few generation bits never come round to the current value.
 */
void cache_drop_map(struct cache *c, uint32_t map_id);

/* cache_stats - counters: hits and misses of cache_get_fresh, stale hits of cache_get_stale */
const struct cache_stats *cache_stats(const struct cache *c);

#endif
