/*
 * test_map_registry - the seed maps, lookup by name, generations
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "map_registry.h"

static const struct map_defaults defaults = {
	"+", MAP_DEFAULT_TTL_MS, MAP_DEFAULT_NEGATIVE_TTL_MS, MAP_DEFAULT_STALE_MS,
};

static void test_defaults_and_find(void **state)
{
	struct map_registry reg;
	char err[256];
	struct map_def *m;

	(void)state;
	assert_int_equal(map_registry_defaults(&reg, "mailion", &defaults, err, sizeof(err)), 0);
	assert_int_equal(reg.n, 6);
	m = map_registry_find(&reg, "users", 5);
	assert_non_null(m);
	assert_int_equal(m->id, m - reg.maps);
	assert_null(map_registry_find(&reg, "user", 4));
}

/*
 * A copy of a map taken before a reload is told apart from the map now in
 * its slot, whether the slot holds another map, the same one rebuilt, or
 * nothing (the map was removed).
 */
static void test_generations(void **state)
{
	static struct map_registry live, next;
	struct map_def users, last;
	char err[256];

	(void)state;
	assert_int_equal(map_registry_defaults(&live, "mailion", &defaults, err, sizeof(err)), 0);
	/* Not stamped yet: no definition is current. */
	assert_false(map_registry_current(&live, &live.maps[0]));
	map_registry_stamp(&live, NULL);
	users = *map_registry_find(&live, "users", 5);
	last = live.maps[live.n - 1];
	assert_true(map_registry_current(&live, &users));
	assert_true(map_registry_current(&live, &last));

	/* The same file read again is a new build all the same. */
	assert_int_equal(map_registry_defaults(&next, "mailion", &defaults, err, sizeof(err)), 0);
	map_registry_stamp(&next, &live);
	assert_true(next.generation > live.generation);
	live = next;			/* the reload's in-place swap */
	assert_false(map_registry_current(&live, &users));
	assert_true(map_registry_current(&live, map_registry_find(&live, "users", 5)));

	/* A smaller registry: the copy of its last map has no slot now. */
	assert_int_equal(map_registry_defaults(&next, "mailion", &defaults, err, sizeof(err)), 0);
	next.n--;
	map_registry_stamp(&next, &live);
	last = live.maps[live.n - 1];
	live = next;
	assert_false(map_registry_current(&live, &last));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_find),
		cmocka_unit_test(test_generations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
