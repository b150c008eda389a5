/*
 * test_cql_active_group - the failover state machine: when reads move to
 * a standby group, when they come back (hold-down), what does not move them
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cql/cql_active_group.h"

#define HOLD_MS		5000	/* the hold-down these tests use */
#define T0		100000	/* an arbitrary start time, ms */

static struct cql_active_group a;

/* start - primary and one standby (or n groups), both up, primary active */
static void start(size_t n)
{
	size_t i;

	cql_active_init(&a, n, HOLD_MS);
	for (i = 0; i < n; i++)
		cql_active_health(&a, i, CQL_GROUP_UP);
	assert_int_equal(cql_active_decide(&a, T0), CQL_SWITCH_NONE);
	assert_int_equal(a.active, 0);
}

/* fail_reads - k reads on group g fail */
static void fail_reads(size_t g, int k, int64_t now)
{
	while (k-- > 0)
		cql_active_read(&a, g, 0, now);
}

static void test_primary_down_fails_over_at_once(void **state)
{
	(void)state;
	start(2);
	cql_active_health(&a, 0, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0 + 1), CQL_SWITCH_FAILOVER);
	assert_int_equal(a.active, 1);
	assert_int_equal(a.previous, 0);
	assert_int_equal(a.switches, 1);
	/* Logged once: deciding again changes nothing. */
	assert_int_equal(cql_active_decide(&a, T0 + 2), CQL_SWITCH_NONE);
	assert_int_equal(a.switches, 1);
}

static void test_connecting_primary_keeps_its_place(void **state)
{
	(void)state;
	/* At startup the standby may connect first: no failover for that. */
	cql_active_init(&a, 2, HOLD_MS);
	cql_active_health(&a, 1, CQL_GROUP_UP);
	assert_int_equal(cql_active_decide(&a, T0), CQL_SWITCH_NONE);
	assert_int_equal(a.active, 0);
	/* A primary that has failed every node is down: then it moves. */
	cql_active_health(&a, 0, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0 + 10), CQL_SWITCH_FAILOVER);
	assert_int_equal(a.active, 1);
}

static void test_failing_reads_fail_over(void **state)
{
	(void)state;
	start(2);
	/* Connections up, but every read times out or is Unavailable. */
	fail_reads(0, CQL_FAILOVER_FAILED_READS - 1, T0 + 1000);
	assert_int_equal(cql_active_decide(&a, T0 + 1000), CQL_SWITCH_NONE);
	/* One answer in between resets the count: a blip does not move reads. */
	cql_active_read(&a, 0, 1, T0 + 1001);
	fail_reads(0, CQL_FAILOVER_FAILED_READS - 1, T0 + 1002);
	assert_int_equal(cql_active_decide(&a, T0 + 1002), CQL_SWITCH_NONE);
	fail_reads(0, 1, T0 + 1003);
	assert_int_equal(cql_active_decide(&a, T0 + 1003), CQL_SWITCH_FAILOVER);
	assert_int_equal(a.active, 1);
}

static void test_no_standby_no_switch(void **state)
{
	(void)state;
	start(2);
	cql_active_health(&a, 1, CQL_GROUP_DOWN);	/* wrong credentials, say */
	cql_active_health(&a, 0, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0), CQL_SWITCH_NONE);
	assert_int_equal(a.active, 0);
	assert_int_equal(cql_active_next(&a), -1);
	/* A standby whose reads fail cannot take them either. */
	cql_active_health(&a, 1, CQL_GROUP_UP);
	fail_reads(1, CQL_FAILOVER_FAILED_READS, T0);
	assert_int_equal(cql_active_decide(&a, T0 + 1), CQL_SWITCH_NONE);
	/* Alone (no standby), nothing ever switches. */
	start(1);
	cql_active_health(&a, 0, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0), CQL_SWITCH_NONE);
}

static void test_failback_after_hold_down(void **state)
{
	(void)state;
	start(2);
	cql_active_health(&a, 0, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0), CQL_SWITCH_FAILOVER);
	/* The primary reconnects: not proven until a read copied to it answers. */
	cql_active_health(&a, 0, CQL_GROUP_UP);
	assert_true(cql_active_probe(&a, 0));
	assert_int_equal(cql_active_decide(&a, T0 + 10 * HOLD_MS), CQL_SWITCH_NONE);
	cql_active_read(&a, 0, 1, T0 + 1000);
	assert_int_equal(cql_active_decide(&a, T0 + 1000 + HOLD_MS - 1), CQL_SWITCH_NONE);
	assert_int_equal(a.active, 1);
	/* Still probed during the hold-down, so a relapse is seen. */
	assert_true(cql_active_probe(&a, 0));
	assert_int_equal(cql_active_decide(&a, T0 + 1000 + HOLD_MS), CQL_SWITCH_FAILBACK);
	assert_int_equal(a.active, 0);
	assert_int_equal(a.previous, 1);
	assert_int_equal(a.switches, 2);
}

static void test_flapping_primary_restarts_hold_down(void **state)
{
	(void)state;
	start(2);
	cql_active_health(&a, 0, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0), CQL_SWITCH_FAILOVER);
	cql_active_health(&a, 0, CQL_GROUP_UP);
	cql_active_read(&a, 0, 1, T0 + 1000);
	/* Goes down again inside the hold-down, then up: the clock starts over. */
	cql_active_health(&a, 0, CQL_GROUP_DOWN);
	cql_active_health(&a, 0, CQL_GROUP_UP);
	cql_active_read(&a, 0, 1, T0 + 4000);
	assert_int_equal(cql_active_decide(&a, T0 + 1000 + HOLD_MS), CQL_SWITCH_NONE);
	/* A failed probe restarts it too. */
	fail_reads(0, 1, T0 + 5000);
	cql_active_read(&a, 0, 1, T0 + 6000);
	assert_int_equal(cql_active_decide(&a, T0 + 4000 + HOLD_MS), CQL_SWITCH_NONE);
	assert_int_equal(cql_active_decide(&a, T0 + 6000 + HOLD_MS), CQL_SWITCH_FAILBACK);
}

static void test_stalled_primary_comes_back_through_probes(void **state)
{
	(void)state;
	start(2);
	fail_reads(0, CQL_FAILOVER_FAILED_READS, T0);
	assert_int_equal(cql_active_decide(&a, T0), CQL_SWITCH_FAILOVER);
	/* Connections stay up; probes keep failing: no failback. */
	fail_reads(0, 5, T0 + 1000);
	assert_int_equal(cql_active_decide(&a, T0 + 100 * HOLD_MS), CQL_SWITCH_NONE);
	cql_active_read(&a, 0, 1, T0 + 2000);
	assert_int_equal(cql_active_decide(&a, T0 + 2000 + HOLD_MS), CQL_SWITCH_FAILBACK);
}

static void test_standby_fails_while_active(void **state)
{
	(void)state;
	start(3);
	cql_active_health(&a, 0, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0), CQL_SWITCH_FAILOVER);
	assert_int_equal(a.active, 1);
	/* The first standby goes too: the second one, in order. */
	cql_active_health(&a, 1, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0 + 1), CQL_SWITCH_FAILOVER);
	assert_int_equal(a.active, 2);
	/* With the active one dead, an up primary is taken without hold-down. */
	cql_active_health(&a, 0, CQL_GROUP_UP);
	cql_active_health(&a, 2, CQL_GROUP_DOWN);
	assert_int_equal(cql_active_decide(&a, T0 + 2), CQL_SWITCH_FAILOVER);
	assert_int_equal(a.active, 0);
}

static void test_probes(void **state)
{
	(void)state;
	start(2);
	/* A standby is probed until it has answered once, then left alone. */
	assert_false(cql_active_probe(&a, 0));
	assert_true(cql_active_probe(&a, 1));
	cql_active_read(&a, 1, 1, T0);
	assert_false(cql_active_probe(&a, 1));
	/* A group that is not up is never probed; a reconnected one starts afresh. */
	cql_active_health(&a, 1, CQL_GROUP_DOWN);
	assert_false(cql_active_probe(&a, 1));
	cql_active_health(&a, 1, CQL_GROUP_UP);
	assert_true(cql_active_probe(&a, 1));
	/* Out-of-range groups are ignored. */
	cql_active_read(&a, 7, 0, T0);
	cql_active_health(&a, 7, CQL_GROUP_DOWN);
	assert_false(cql_active_probe(&a, 7));
	assert_false(cql_active_can_serve(&a, 7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary_down_fails_over_at_once),
		cmocka_unit_test(test_connecting_primary_keeps_its_place),
		cmocka_unit_test(test_failing_reads_fail_over),
		cmocka_unit_test(test_no_standby_no_switch),
		cmocka_unit_test(test_failback_after_hold_down),
		cmocka_unit_test(test_flapping_primary_restarts_hold_down),
		cmocka_unit_test(test_stalled_primary_comes_back_through_probes),
		cmocka_unit_test(test_standby_fails_while_active),
		cmocka_unit_test(test_probes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
