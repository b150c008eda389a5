/*
 * test_cache - TTLs, stale window, LRU eviction, flush, one map dropped
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"

#define K(s) s, strlen(s)

static void test_put_get(void **state)
{
	struct cache *c = cache_new(10, 42);
	struct cache_entry *e;

	(void)state;
	assert_non_null(cache_put(c, cache_epoch(c, 0), 1, K("alice@example.com"), 1,
				  K("example.com/alice/"), 1000, 300000, 3600000));
	assert_non_null(cache_put(c, cache_epoch(c, 0), 1, K("nobody@example.com"), 0, "", 0,
				  1000, 30000, 3600000));
	e = cache_get(c, 1, K("alice@example.com"), 2000);
	assert_non_null(e);
	assert_true(e->found);
	assert_string_equal(cache_entry_value(e), "example.com/alice/");
	assert_int_equal(e->val_len, 18);
	assert_int_equal(cache_entry_fresh_until(e), 301000);
	assert_int_equal(cache_entry_stale_until(e), 3901000);
	/* Same key, other map: a different entry. */
	assert_null(cache_get(c, 2, K("alice@example.com"), 2000));
	e = cache_get(c, 1, K("nobody@example.com"), 2000);
	assert_non_null(e);
	assert_false(e->found);
	assert_int_equal(cache_stats(c)->entries, 2);
	cache_free(c);
}

static void test_expiry_and_stale_window(void **state)
{
	struct cache *c = cache_new(10, 1);
	struct cache_entry *e;

	(void)state;
	cache_put(c, cache_epoch(c, 0), 0, K("k"), 1, K("v"), 0, 100, 1000);
	/* Past fresh, inside stale: still returned, caller sees it is stale. */
	e = cache_get(c, 0, K("k"), 500);
	assert_non_null(e);
	assert_true(500 >= cache_entry_fresh_until(e));
	assert_true(500 < cache_entry_stale_until(e));
	/* Past the stale window: dropped. */
	assert_null(cache_get(c, 0, K("k"), 1100));
	assert_int_equal(cache_stats(c)->entries, 0);
	/* A zero TTL is never stored. */
	assert_null(cache_put(c, cache_epoch(c, 0), 0, K("k"), 1, K("v"), 0, 0, 1000));
	cache_free(c);
}

/* Through an outage, found answers stay servable until the stale window
 * ends; a "no row" only while fresh (an expired one is not knowledge). */
static void test_serves_failure(void **state)
{
	struct cache *c = cache_new(10, 3);
	struct cache_entry *e;

	(void)state;
	e = cache_put(c, cache_epoch(c, 0), 0, K("found"), 1, K("v"), 0, 100, 1000);
	assert_true(cache_entry_serves_failure(e, 50));
	assert_true(cache_entry_serves_failure(e, 500));
	assert_false(cache_entry_serves_failure(e, 1100));
	e = cache_put(c, cache_epoch(c, 0), 0, K("absent"), 0, "", 0, 0, 100, 1000);
	assert_true(cache_entry_serves_failure(e, 50));
	assert_false(cache_entry_serves_failure(e, 100));
	assert_false(cache_entry_serves_failure(e, 500));
	cache_free(c);
}

/* The cache counts its own hits, misses and stale hits. */
static void test_counts_its_hits(void **state)
{
	struct cache *c = cache_new(10, 5);

	(void)state;
	assert_null(cache_get_fresh(c, 0, K("a"), 0));
	assert_non_null(cache_put(c, cache_epoch(c, 0), 0, K("a"), 1, K("x"), 0, 100, 50));
	assert_non_null(cache_put(c, cache_epoch(c, 0), 0, K("n"), 0, "", 0, 0, 100, 50));
	assert_non_null(cache_get_fresh(c, 0, K("a"), 99));
	assert_null(cache_get_fresh(c, 0, K("a"), 100));	/* expired: a miss */
	assert_int_equal(cache_stats(c)->hits, 1);
	assert_int_equal(cache_stats(c)->misses, 2);
	/* Stale: a found entry inside its window, never an expired "no row". */
	assert_non_null(cache_get_stale(c, 0, K("a"), 149));
	assert_null(cache_get_stale(c, 0, K("a"), 150));
	assert_null(cache_get_stale(c, 0, K("n"), 100));
	assert_non_null(cache_get_stale(c, 0, K("n"), 99));	/* fresh still answers */
	assert_int_equal(cache_stats(c)->stale_hits, 2);
	/* cache_get itself counts nothing. */
	assert_null(cache_get(c, 0, K("zz"), 0));
	assert_int_equal(cache_stats(c)->misses, 2);
	cache_free(c);
}

/* An answer read before a flush is not stored after it. */
static void test_flush_starts_an_epoch(void **state)
{
	struct cache *c = cache_new(10, 4);
	uint64_t before = cache_epoch(c, 0);

	(void)state;
	assert_non_null(cache_put(c, before, 0, K("a"), 1, K("1"), 0, 1000, 0));
	cache_flush(c);
	assert_int_not_equal(cache_epoch(c, 0), before);
	assert_null(cache_put(c, before, 0, K("b"), 1, K("old"), 0, 1000, 0));
	assert_null(cache_get(c, 0, K("b"), 1));
	assert_int_equal(cache_stats(c)->entries, 0);
	assert_non_null(cache_put(c, cache_epoch(c, 0), 0, K("b"), 1, K("new"), 0, 1000, 0));
	cache_free(c);
}

static void test_replace(void **state)
{
	struct cache *c = cache_new(10, 7);

	(void)state;
	cache_put(c, cache_epoch(c, 0), 0, K("k"), 1, K("old"), 0, 100, 0);
	cache_put(c, cache_epoch(c, 0), 0, K("k"), 1, K("new value"), 50, 100, 0);
	assert_string_equal(cache_entry_value(cache_get(c, 0, K("k"), 60)), "new value");
	assert_int_equal(cache_stats(c)->entries, 1);
	cache_free(c);
}

static void test_lru_eviction(void **state)
{
	struct cache *c = cache_new(3, 9);

	(void)state;
	cache_put(c, cache_epoch(c, 0), 0, K("a"), 1, K("1"), 0, 1000, 0);
	cache_put(c, cache_epoch(c, 0), 0, K("b"), 1, K("2"), 0, 1000, 0);
	cache_put(c, cache_epoch(c, 0), 0, K("c"), 1, K("3"), 0, 1000, 0);
	assert_non_null(cache_get(c, 0, K("a"), 1));	/* a is now most recent */
	cache_put(c, cache_epoch(c, 0), 0, K("d"), 1, K("4"), 0, 1000, 0);	/* evicts b */
	assert_null(cache_get(c, 0, K("b"), 2));
	assert_non_null(cache_get(c, 0, K("a"), 2));
	assert_non_null(cache_get(c, 0, K("c"), 2));
	assert_non_null(cache_get(c, 0, K("d"), 2));
	assert_int_equal(cache_stats(c)->evictions, 1);
	assert_int_equal(cache_stats(c)->entries, 3);
	cache_free(c);
}

static void test_many_and_flush(void **state)
{
	struct cache *c = cache_new(1000, 3);
	char key[32];
	int i, found = 0;

	(void)state;
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "user%d@example.com", i);
		cache_put(c, cache_epoch(c, 0), (uint32_t)(i % 3), key, strlen(key), 1, key,
			  strlen(key), 0, 1000, 0);
	}
	assert_int_equal(cache_stats(c)->entries, 1000);
	for (i = 4000; i < 5000; i++) {
		snprintf(key, sizeof(key), "user%d@example.com", i);
		found += cache_get(c, (uint32_t)(i % 3), key, strlen(key), 1) != NULL;
	}
	assert_int_equal(found, 1000);
	cache_flush(c);
	assert_int_equal(cache_stats(c)->entries, 0);
	assert_null(cache_get(c, 0, K("user4998@example.com"), 1));
	cache_free(c);
}

static void test_disabled(void **state)
{
	struct cache *c = cache_new(0, 3);

	(void)state;
	assert_null(cache_put(c, cache_epoch(c, 0), 0, K("k"), 1, K("v"), 0, 100, 0));
	assert_null(cache_get(c, 0, K("k"), 1));
	cache_free(c);
}

static void test_seeded_hash(void **state)
{
	struct cache *a = cache_new(10, 1), *b = cache_new(10, 2);

	(void)state;
	assert_int_not_equal(cache_hash(a, 0, K("alice")), cache_hash(b, 0, K("alice")));
	assert_int_equal(cache_hash(a, 0, K("alice")), cache_hash(a, 0, K("alice")));
	assert_int_not_equal(cache_hash(a, 0, K("alice")), cache_hash(a, 1, K("alice")));
	cache_free(a);
	cache_free(b);
}

/* The header is most of the memory of a full cache: keep it small. */
static void test_compact_entry(void **state)
{
	(void)state;
	assert_true(sizeof(struct cache_entry) <= 48);
}

/* Lifetimes beyond the 32-bit offsets are clamped, never wrapped. */
static void test_long_lifetimes_clamped(void **state)
{
	struct cache *c = cache_new(4, 1);
	int64_t day = 86400000, now = (int64_t)1 << 40;
	struct cache_entry *e;

	(void)state;
	e = cache_put(c, cache_epoch(c, 0), 0, K("k"), 1, K("v"), now, 100 * day, 400 * day);
	assert_non_null(e);
	assert_true(cache_entry_fresh_until(e) > now + 49 * day);
	assert_true(cache_entry_fresh_until(e) <= now + 50 * day);
	assert_true(cache_entry_stale_until(e) > cache_entry_fresh_until(e) + 49 * day);
	assert_non_null(cache_get(c, 0, K("k"), now + 40 * day));
	assert_null(cache_get(c, 0, K("k"), now + 100 * day));
	cache_free(c);
}

/* Keys or map ids the compact header cannot hold are not cached. */
static void test_unstorable_not_cached(void **state)
{
	static char big[70000];
	struct cache *c = cache_new(4, 1);

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_null(cache_put(c, cache_epoch(c, 0), 0, big, sizeof(big), 1, K("v"), 0, 1000, 0));
	assert_null(cache_put(c, cache_epoch(c, 0), 70000, K("k"), 1, K("v"), 0, 1000, 0));
	assert_int_equal(cache_stats(c)->entries, 0);
	assert_non_null(cache_put(c, cache_epoch(c, 0), 0, big, 1024, 1, "", 0, 0, 1000, 0));
	assert_string_equal(cache_entry_value(cache_get(c, 0, big, 1024, 1)), "");
	cache_free(c);
}

/* One map's entries go (even as stale answers); the other maps' stay. */
static void test_drop_map(void **state)
{
	struct cache *c = cache_new(10, 5);
	uint64_t before = cache_epoch(c, 1), other = cache_epoch(c, 2);

	(void)state;
	assert_non_null(cache_put(c, before, 1, K("a"), 1, K("1"), 0, 1000, 5000));
	assert_non_null(cache_put(c, other, 2, K("a"), 1, K("2"), 0, 1000, 5000));
	cache_drop_map(c, 1);
	assert_int_not_equal(cache_epoch(c, 1), before);
	assert_int_equal(cache_epoch(c, 2), other);
	assert_null(cache_get_fresh(c, 1, K("a"), 1));
	assert_null(cache_get_stale(c, 1, K("a"), 2000));
	assert_string_equal(cache_entry_value(cache_get_fresh(c, 2, K("a"), 1)), "2");
	/* An answer read before the drop is not stored; one read after is. */
	assert_null(cache_put(c, before, 1, K("b"), 1, K("old"), 0, 1000, 0));
	assert_non_null(cache_put(c, cache_epoch(c, 1), 1, K("b"), 1, K("new"), 0, 1000, 0));
	assert_string_equal(cache_entry_value(cache_get_fresh(c, 1, K("b"), 1)), "new");
	/* A flush still changes every map's epoch. */
	other = cache_epoch(c, 2);
	cache_flush(c);
	assert_int_not_equal(cache_epoch(c, 2), other);
	cache_drop_map(c, 70000);	/* no such map: nothing happens */
	cache_free(c);
}

/*
 * An entry keeps a few bits of its map's generation: after as many drops
 * as those bits count, they would match again, so the entries are freed then.
 */
static void test_drop_map_generation_wraps(void **state)
{
	struct cache *c = cache_new(10, 6);
	unsigned i;

	(void)state;
	assert_non_null(cache_put(c, cache_epoch(c, 3), 3, K("k"), 1, K("v"), 0, 1000, 0));
	assert_non_null(cache_put(c, cache_epoch(c, 4), 4, K("k"), 1, K("w"), 0, 1000, 0));
	for (i = 0; i < CACHE_GEN_MASK; i++)
		cache_drop_map(c, 3);
	assert_int_equal(cache_stats(c)->entries, 2);	/* dropped, not yet freed */
	cache_drop_map(c, 3);
	assert_int_equal(cache_stats(c)->entries, 1);	/* freed at the wrap */
	assert_null(cache_get(c, 3, K("k"), 1));
	assert_non_null(cache_get(c, 4, K("k"), 1));
	/* Stored at the wrapped generation, it lives. */
	assert_non_null(cache_put(c, cache_epoch(c, 3), 3, K("k"), 1, K("x"), 0, 1000, 0));
	assert_string_equal(cache_entry_value(cache_get(c, 3, K("k"), 1)), "x");
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_expiry_and_stale_window),
		cmocka_unit_test(test_serves_failure),
		cmocka_unit_test(test_counts_its_hits),
		cmocka_unit_test(test_flush_starts_an_epoch),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_many_and_flush),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_seeded_hash),
		cmocka_unit_test(test_compact_entry),
		cmocka_unit_test(test_long_lifetimes_clamped),
		cmocka_unit_test(test_unstorable_not_cached),
		cmocka_unit_test(test_drop_map),
		cmocka_unit_test(test_drop_map_generation_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
