/*
 * test_cql_startq - reads that wait for a session's first connection:
 * they wait only while starting, are sent when a connection first serves
 * (from the loop, in order), fail when every node failed or the session
 * goes or the daemon stops, leave the queue at their deadline, and the
 * queue is bounded; after the first connection nothing waits again
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>

#include "cql/cql_startq.h"

#define ITEMS	3

struct fixture {
	struct event_base *base;
	struct cql_startq q;
	struct cql_startq_item it[ITEMS];
	int order[ITEMS];		/* index of the item released n-th */
	int send[ITEMS];		/* how it was released: 1 send, 0 fail, -1 not yet */
	int released;
};

/* released - the release function: record which item, and how */
static void released(struct cql_startq_item *it, int send, void *arg)
{
	struct fixture *f = arg;
	int i = (int)(it - f->it);

	assert_in_range(i, 0, ITEMS - 1);
	assert_int_equal(f->send[i], -1);
	assert_false(it->queued);
	f->send[i] = send;
	f->order[f->released++] = i;
}

/* setup - a queue of ITEMS items at most, on a fresh event base */
static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	int i;

	f->base = event_base_new();
	assert_non_null(f->base);
	assert_int_equal(cql_startq_init(&f->q, f->base, ITEMS, released, f), 0);
	for (i = 0; i < ITEMS; i++)
		f->send[i] = -1;
	*state = f;
	return 0;
}

/* teardown - the queue (failing what is left), then the base */
static int teardown(void **state)
{
	struct fixture *f = *state;

	cql_startq_free(&f->q);
	event_base_free(f->base);
	test_free(f);
	return 0;
}

/* run_loop - let the queue's zero timer fire */
static void run_loop(struct fixture *f)
{
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
}

/* add_all - every item waits */
static void add_all(struct fixture *f)
{
	int i;

	for (i = 0; i < ITEMS; i++) {
		assert_true(cql_startq_waits(&f->q, 0));
		assert_int_equal(cql_startq_add(&f->q, &f->it[i], 1000 + i), 0);
	}
}

/* assert_all_released - every item released, in the order queued, each sent (1) or failed (0) */
static void assert_all_released(const struct fixture *f, int send)
{
	int i;

	assert_int_equal(f->released, ITEMS);
	for (i = 0; i < ITEMS; i++) {
		assert_int_equal(f->order[i], i);
		assert_int_equal(f->send[i], send);
	}
}

static void test_reads_wait_while_starting_and_go_when_a_connection_serves(void **state)
{
	struct fixture *f = *state;

	add_all(f);
	run_loop(f);
	assert_int_equal(f->released, 0);	/* still connecting: they wait */
	cql_startq_opened(&f->q);
	/* Never from inside the pool's callback: from the loop. */
	assert_int_equal(f->released, 0);
	run_loop(f);
	assert_all_released(f, 1);
	assert_int_equal(f->q.sent, ITEMS);
	assert_int_equal(f->q.n, 0);
}

static void test_after_the_first_connection_nothing_waits_again(void **state)
{
	struct fixture *f = *state;

	cql_startq_opened(&f->q);
	run_loop(f);
	/* An outage later (no usable connection, nodes not all failed yet): fail at once. */
	assert_false(cql_startq_waits(&f->q, 0));
	assert_false(cql_startq_waits(&f->q, 1));
	assert_int_equal(f->q.sent, 0);
}

static void test_every_node_failed_fails_the_waiting_and_waits_no_more(void **state)
{
	struct fixture *f = *state;

	assert_false(cql_startq_waits(&f->q, 1));
	add_all(f);
	cql_startq_hopeless(&f->q);
	assert_int_equal(f->released, 0);
	run_loop(f);
	assert_all_released(f, 0);
	assert_int_equal(f->q.sent, 0);
	/* A node coming up later still opens the session. */
	cql_startq_opened(&f->q);
	assert_false(cql_startq_waits(&f->q, 0));
}

static void test_a_connection_serving_before_the_release_wins(void **state)
{
	struct fixture *f = *state;

	add_all(f);
	cql_startq_hopeless(&f->q);
	cql_startq_opened(&f->q);
	run_loop(f);
	assert_all_released(f, 1);
}

static void test_a_read_past_its_deadline_leaves_the_queue(void **state)
{
	struct fixture *f = *state;

	add_all(f);
	cql_startq_remove(&f->q, &f->it[1]);
	assert_false(f->it[1].queued);
	cql_startq_remove(&f->q, &f->it[1]);	/* twice is harmless */
	assert_int_equal(f->q.n, ITEMS - 1);
	cql_startq_opened(&f->q);
	run_loop(f);
	assert_int_equal(f->released, ITEMS - 1);
	assert_int_equal(f->send[1], -1);
	assert_int_equal(f->order[0], 0);
	assert_int_equal(f->order[1], 2);
}

static void test_the_queue_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct cql_startq_item extra;

	memset(&extra, 0, sizeof(extra));
	add_all(f);
	assert_int_equal(cql_startq_add(&f->q, &extra, 2000), -1);
	assert_false(extra.queued);
	assert_int_equal(f->q.n, ITEMS);
}

static void test_stopping_fails_the_waiting_and_waits_no_more(void **state)
{
	struct fixture *f = *state;

	add_all(f);
	cql_startq_close(&f->q);
	assert_int_equal(f->released, 0);
	run_loop(f);
	assert_all_released(f, 0);
	assert_false(cql_startq_waits(&f->q, 0));
}

static void test_the_session_going_fails_every_waiting_read_at_once(void **state)
{
	struct fixture *f = *state;

	add_all(f);
	cql_startq_free(&f->q);
	assert_all_released(f, 0);
	assert_false(cql_startq_waits(&f->q, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_reads_wait_while_starting_and_go_when_a_connection_serves, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_after_the_first_connection_nothing_waits_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_every_node_failed_fails_the_waiting_and_waits_no_more, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_connection_serving_before_the_release_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_read_past_its_deadline_leaves_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_queue_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stopping_fails_the_waiting_and_waits_no_more, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_the_session_going_fails_every_waiting_read_at_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
