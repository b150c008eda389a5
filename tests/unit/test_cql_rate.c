/*
 * test_cql_rate - the request rate to a node, and when it gets another
 * connection or gives one back
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cql/cql_rate.h"

#define T0	1000000		/* any start time, ms */

/* steady - n requests evenly over [from, from + ms) */
static void steady(struct cql_rate *r, int64_t from, int ms, int n)
{
	int i;

	for (i = 0; i < n; i++)
		cql_rate_add(r, from + (int64_t)i * ms / n);
}

static void test_steady_rate_is_measured(void **state)
{
	struct cql_rate r = { 0 };
	double v;

	(void)state;
	steady(&r, T0, 3000, 3000);		/* 1000/s for 3 s */
	v = cql_rate_per_s(&r, T0 + 3000);
	assert_true(v > 900 && v < 1100);
	v = cql_rate_per_s(&r, T0 + 3500);	/* half a window later, nothing new */
	assert_true(v > 400 && v < 600);
	assert_true(cql_rate_per_s(&r, T0 + 6000) == 0);	/* silence empties it */
}

static void test_throttles_counted_in_the_window(void **state)
{
	struct cql_rate r = { 0 };

	(void)state;
	cql_rate_add(&r, T0);
	assert_int_equal(cql_rate_throttles(&r, T0), 0);
	cql_rate_throttled(&r, T0 + 10);
	cql_rate_throttled(&r, T0 + 20);
	assert_int_equal(cql_rate_throttles(&r, T0 + 30), 2);
	assert_true(cql_rate_throttles(&r, T0 + 1500) >= 1);
	assert_int_equal(cql_rate_throttles(&r, T0 + 2100), 0);
}

static void test_clock_going_back_starts_afresh(void **state)
{
	struct cql_rate r = { 0 };

	(void)state;
	steady(&r, T0, 1000, 500);
	assert_true(cql_rate_per_s(&r, T0 - 5000) == 0);
}

static const struct cql_rate_scale base = {
	.slots = 2, .usable = 2, .floor = 2, .ceiling = 4, .limit = 3000, .quiet_ms = 0,
};

static void test_grow_at_80_percent_per_connection(void **state)
{
	struct cql_rate_scale s = base;

	(void)state;
	assert_int_equal(cql_rate_decide(&s, 2 * 2399, 0), CQL_RATE_HOLD);
	assert_int_equal(cql_rate_decide(&s, 2 * 2400, 0), CQL_RATE_GROW);
	s.slots = s.usable = 4;			/* at the ceiling */
	assert_int_equal(cql_rate_decide(&s, 4 * 3000, 5), CQL_RATE_HOLD);
}

static void test_grow_when_throttled_at_any_rate(void **state)
{
	struct cql_rate_scale s = base;

	(void)state;
	/* The server's limit is lower than the configured one. */
	assert_int_equal(cql_rate_decide(&s, 30, 1), CQL_RATE_GROW);
}

static void test_hold_while_a_new_connection_opens(void **state)
{
	struct cql_rate_scale s = base;

	(void)state;
	s.slots = 3;
	s.usable = 2;
	assert_int_equal(cql_rate_decide(&s, 10000, 9), CQL_RATE_HOLD);
	s.usable = 0;
	s.slots = 2;
	assert_int_equal(cql_rate_decide(&s, 10000, 9), CQL_RATE_HOLD);
}

static void test_shrink_only_when_quiet_low_and_above_floor(void **state)
{
	struct cql_rate_scale s = base;

	(void)state;
	s.slots = s.usable = 3;
	s.quiet_ms = CQL_RATE_QUIET_MS;
	/* 2 connections at 40% each: 2400/s fits. */
	assert_int_equal(cql_rate_decide(&s, 2400, 0), CQL_RATE_SHRINK);
	assert_int_equal(cql_rate_decide(&s, 2401, 0), CQL_RATE_HOLD);
	assert_int_equal(cql_rate_decide(&s, 100, 1), CQL_RATE_GROW);	/* throttled */
	s.quiet_ms = CQL_RATE_QUIET_MS - 1;
	assert_int_equal(cql_rate_decide(&s, 100, 0), CQL_RATE_HOLD);
	s.quiet_ms = CQL_RATE_QUIET_MS;
	s.slots = s.usable = 2;			/* at the floor */
	assert_int_equal(cql_rate_decide(&s, 0, 0), CQL_RATE_HOLD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_rate_is_measured),
		cmocka_unit_test(test_throttles_counted_in_the_window),
		cmocka_unit_test(test_clock_going_back_starts_afresh),
		cmocka_unit_test(test_grow_at_80_percent_per_connection),
		cmocka_unit_test(test_grow_when_throttled_at_any_rate),
		cmocka_unit_test(test_hold_while_a_new_connection_opens),
		cmocka_unit_test(test_shrink_only_when_quiet_low_and_above_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
