/*
 * test_cql_backoff - the retry schedule of throttled reads: full jitter
 * under an exponential bound, capped, cut to the lookup deadline, and
 * reproducible from its seed
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cql/cql_backoff.h"

static const struct cql_backoff_policy policy = {
	.base_ms = 10, .cap_ms = 750, .max_attempts = 16, .min_left_ms = 500,
};

#define FAR_MS	1000000		/* a deadline far away */
#define DRAWS	2000		/* draws per attempt */

static void test_bound_doubles_up_to_the_cap(void **state)
{
	uint32_t seed = 12345;
	int attempt, i;

	(void)state;
	for (attempt = 0; attempt < 12; attempt++) {
		int bound = 10 << attempt, max = 0, min = 1 << 30;

		if (bound > policy.cap_ms)
			bound = policy.cap_ms;
		for (i = 0; i < DRAWS; i++) {
			int d = cql_backoff_delay(&policy, attempt, FAR_MS, &seed);

			assert_in_range(d, 0, bound);
			max = d > max ? d : max;
			min = d < min ? d : min;
		}
		/* Full jitter: the whole range is used, from 0 up to the bound. */
		assert_true(min <= bound / 8);
		assert_true(max >= bound - bound / 8);
	}
}

static void test_same_seed_same_schedule(void **state)
{
	uint32_t a = 42, b = 42, c = 43;
	int i, differ = 0;

	(void)state;
	for (i = 0; i < 10; i++) {
		int da = cql_backoff_delay(&policy, i, FAR_MS, &a);
		int db = cql_backoff_delay(&policy, i, FAR_MS, &b);
		int dc = cql_backoff_delay(&policy, i, FAR_MS, &c);

		assert_int_equal(da, db);
		differ += da != dc;
	}
	assert_true(differ > 0);
}

static void test_deadline_cuts_the_wait_then_stops(void **state)
{
	uint32_t seed = 7;
	int i;

	(void)state;
	/* 520 ms left, 500 needed for the answer: waits of at most 20 ms. */
	for (i = 0; i < DRAWS; i++)
		assert_in_range(cql_backoff_delay(&policy, 10, 520, &seed), 0, 20);
	/* Exactly the time an answer needs: retry at once. */
	assert_int_equal(cql_backoff_delay(&policy, 3, 500, &seed), 0);
	/* Less than that: no retry, the caller answers (TEMP). */
	assert_int_equal(cql_backoff_delay(&policy, 0, 499, &seed), -1);
	assert_int_equal(cql_backoff_delay(&policy, 0, -5, &seed), -1);
}

static void test_attempts_are_bounded(void **state)
{
	uint32_t seed = 9;

	(void)state;
	assert_true(cql_backoff_delay(&policy, 15, FAR_MS, &seed) >= 0);
	assert_int_equal(cql_backoff_delay(&policy, 16, FAR_MS, &seed), -1);
	assert_int_equal(cql_backoff_delay(&policy, -1, FAR_MS, &seed), -1);
	/* A huge attempt number does not overflow the bound. */
	{
		struct cql_backoff_policy p = policy;

		p.max_attempts = 1000;
		assert_in_range(cql_backoff_delay(&p, 999, FAR_MS, &seed), 0, p.cap_ms);
	}
}

static void test_zero_seed_still_random(void **state)
{
	uint32_t seed = 0;
	uint32_t x = cql_backoff_random(&seed), y = cql_backoff_random(&seed);

	(void)state;
	assert_true(x != 0 && y != 0 && x != y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_doubles_up_to_the_cap),
		cmocka_unit_test(test_same_seed_same_schedule),
		cmocka_unit_test(test_deadline_cuts_the_wait_then_stops),
		cmocka_unit_test(test_attempts_are_bounded),
		cmocka_unit_test(test_zero_seed_still_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
