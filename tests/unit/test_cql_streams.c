/*
 * test_cql_streams - stream id allocation under reuse and timeouts
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cql/cql_proto.h"
#include "cql/cql_streams.h"

static void cb_a(const struct cql_response *r, void *arg) { (void)r; (void)arg; }

static void test_lowest_first_and_reuse(void **state)
{
	struct cql_streams s;
	cql_response_fn cb;
	void *arg;
	int tag1, tag2;

	(void)state;
	assert_int_equal(cql_streams_init(&s, 0), 0);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &tag1, 100), 0);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &tag2, 100), 1);
	assert_int_equal(cql_streams_complete(&s, 0, &cb, &arg), CQL_STREAM_ANSWER);
	assert_ptr_equal(arg, &tag1);
	assert_ptr_equal(cb, cb_a);
	/* The freed id is reused first. */
	assert_int_equal(cql_streams_alloc(&s, cb_a, &tag1, 100), 0);
	assert_int_equal(s.busy, 2);
	/* An id not in use is a protocol violation, as is one out of range. */
	assert_int_equal(cql_streams_complete(&s, 5, &cb, &arg), CQL_STREAM_UNKNOWN);
	assert_int_equal(cql_streams_complete(&s, 40000, &cb, &arg), CQL_STREAM_UNKNOWN);
	assert_int_equal(cql_streams_complete(&s, -1, &cb, &arg), CQL_STREAM_UNKNOWN);
	cql_streams_free(&s);
}

static void test_timed_out_ids_are_not_reused_until_the_late_answer(void **state)
{
	struct cql_streams s;
	cql_response_fn cb;
	void *arg;
	int t[3];

	(void)state;
	cql_streams_init(&s, 0);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t[0], 100), 0);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t[1], 150), 1);
	assert_int_equal(cql_streams_next_deadline(&s), 100);
	/* Nothing due yet. */
	assert_int_equal(cql_streams_expire(&s, 99, &cb, &arg), 0);
	/* Id 0 expires: its callback comes back once, the id stays reserved. */
	assert_int_equal(cql_streams_expire(&s, 120, &cb, &arg), 1);
	assert_ptr_equal(arg, &t[0]);
	assert_int_equal(cql_streams_expire(&s, 120, &cb, &arg), 0);
	assert_int_equal(s.orphans, 1);
	assert_int_equal(cql_streams_next_deadline(&s), 150);
	/* A new request must not get id 0 while its late answer may come. */
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t[2], 300), 2);
	/* The late answer frees id 0 without a callback. */
	assert_int_equal(cql_streams_complete(&s, 0, &cb, &arg), CQL_STREAM_LATE);
	assert_int_equal(s.orphans, 0);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t[0], 400), 0);
	/* A second answer on a freed orphan id is now for the new request. */
	assert_int_equal(cql_streams_complete(&s, 0, &cb, &arg), CQL_STREAM_ANSWER);
	assert_ptr_equal(arg, &t[0]);
	cql_streams_free(&s);
}

static void test_fifo_order_and_take_any(void **state)
{
	struct cql_streams s;
	cql_response_fn cb;
	void *arg;
	int t[4], i;

	(void)state;
	cql_streams_init(&s, 0);
	for (i = 0; i < 4; i++)
		cql_streams_alloc(&s, cb_a, &t[i], 100 + i);
	/* Remove one from the middle: the FIFO stays in send order. */
	assert_int_equal(cql_streams_complete(&s, 1, &cb, &arg), CQL_STREAM_ANSWER);
	assert_int_equal(cql_streams_expire(&s, 1000, &cb, &arg), 1);
	assert_ptr_equal(arg, &t[0]);
	assert_int_equal(cql_streams_expire(&s, 1000, &cb, &arg), 1);
	assert_ptr_equal(arg, &t[2]);
	assert_int_equal(cql_streams_take_any(&s, &cb, &arg), 1);
	assert_ptr_equal(arg, &t[3]);
	assert_int_equal(cql_streams_take_any(&s, &cb, &arg), 0);
	assert_int_equal(s.busy, 0);
	assert_int_equal(cql_streams_next_deadline(&s), -1);
	cql_streams_free(&s);
}

static void test_growth_to_the_limit(void **state)
{
	struct cql_streams s;
	int32_t i, id;
	int t;

	(void)state;
	cql_streams_init(&s, 0);
	for (i = 0; i < CQL_MAX_STREAMS; i++) {
		id = cql_streams_alloc(&s, cb_a, &t, i);
		assert_int_equal(id, i);
	}
	/* Every id of protocol v3+ is in use: the connection is full. */
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t, 0), -1);
	cql_streams_unalloc(&s, 77);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t, 0), 77);
	cql_streams_free(&s);
	/* A smaller limit is honoured. */
	cql_streams_init(&s, 100);
	for (i = 0; i < 100; i++)
		assert_true(cql_streams_alloc(&s, cb_a, &t, 0) >= 0);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t, 0), -1);
	cql_streams_free(&s);
}

/* Orphans hold their ids even when that exhausts the table. */
static void test_orphans_exhaust_and_replacement(void **state)
{
	struct cql_streams s;
	cql_response_fn cb;
	void *arg;
	int t[4], i;

	(void)state;
	assert_int_equal(cql_streams_init(&s, 4), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(cql_streams_alloc(&s, cb_a, &t[i], 100), i);
	/* Due at the deadline itself, not before. */
	assert_int_equal(cql_streams_expire(&s, 99, &cb, &arg), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(cql_streams_expire(&s, 100, &cb, &arg), 1);
		assert_ptr_equal(arg, &t[i]);
	}
	assert_int_equal(s.busy, 0);
	assert_int_equal(s.orphans, 4);
	/* Every id waits for its late answer: none can be handed out. */
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t[0], 500), -1);
	/* Orphans are not "busy": failing all requests does not free them. */
	assert_int_equal(cql_streams_take_any(&s, &cb, &arg), 0);
	cql_streams_unalloc(&s, 2);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t[0], 500), -1);
	assert_int_equal(cql_streams_next_deadline(&s), -1);
	/* The late answer of id 2 frees exactly that id, once. */
	assert_int_equal(cql_streams_complete(&s, 2, &cb, &arg), CQL_STREAM_LATE);
	assert_int_equal(cql_streams_complete(&s, 2, &cb, &arg), CQL_STREAM_UNKNOWN);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t[1], 500), 2);
	assert_int_equal(cql_streams_alloc(&s, cb_a, &t[1], 500), -1);
	/* Replacing the connection starts a fresh table: every id is free. */
	cql_streams_free(&s);
	assert_int_equal(cql_streams_init(&s, 4), 0);
	assert_int_equal(s.orphans, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(cql_streams_alloc(&s, cb_a, &t[i], 100), i);
	cql_streams_free(&s);
}

/* Many rounds of send / answer / time out: an id handed out is never one
 * that is busy or still waiting for a late answer. */
static void test_reuse_under_churn(void **state)
{
	enum { N = 300 };
	enum { ROUNDS = 200000 };
	static int state_of[N];		/* 0 free, 1 busy, 2 orphan */
	static int tags[ROUNDS];	/* the arg of the request sent in round k */
	static int32_t id_of[ROUNDS];
	struct cql_streams s;
	cql_response_fn cb;
	void *arg;
	int32_t id;
	int64_t now = 0;
	unsigned seed = 12345, r;
	int round, busy = 0, orphans = 0, late = 0;

	(void)state;
	assert_int_equal(cql_streams_init(&s, N), 0);
	for (round = 0; round < ROUNDS; round++) {
		seed = seed * 1103515245u + 12345u;
		r = (seed >> 16) % 4;
		now++;
		if (r <= 1) {
			id = cql_streams_alloc(&s, cb_a, &tags[round], now + 50);
			if (id < 0) {
				assert_int_equal(busy + orphans, N);
				continue;
			}
			assert_true(id < N);
			assert_int_equal(state_of[id], 0);
			state_of[id] = 1;
			id_of[round] = id;
			busy++;
		} else if (r == 2) {
			/* An answer (timely or late) on a random id in use. */
			id = (int32_t)((seed >> 3) % N);
			switch (cql_streams_complete(&s, id, &cb, &arg)) {
			case CQL_STREAM_ANSWER:
				assert_int_equal(state_of[id], 1);
				busy--;
				break;
			case CQL_STREAM_LATE:
				assert_int_equal(state_of[id], 2);
				orphans--;
				late++;
				break;
			case CQL_STREAM_UNKNOWN:
				assert_int_equal(state_of[id], 0);
				break;
			}
			state_of[id] = 0;
		} else {
			while (cql_streams_expire(&s, now, &cb, &arg) == 1) {
				id = id_of[(int *)arg - tags];
				assert_int_equal(state_of[id], 1);
				state_of[id] = 2;
				busy--;
				orphans++;
			}
		}
		assert_int_equal(s.busy, busy);
		assert_int_equal(s.orphans, orphans);
	}
	assert_true(late > 0);
	cql_streams_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lowest_first_and_reuse),
		cmocka_unit_test(test_timed_out_ids_are_not_reused_until_the_late_answer),
		cmocka_unit_test(test_fifo_order_and_take_any),
		cmocka_unit_test(test_growth_to_the_limit),
		cmocka_unit_test(test_orphans_exhaust_and_replacement),
		cmocka_unit_test(test_reuse_under_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
