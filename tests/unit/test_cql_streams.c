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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lowest_first_and_reuse),
		cmocka_unit_test(test_timed_out_ids_are_not_reused_until_the_late_answer),
		cmocka_unit_test(test_fifo_order_and_take_any),
		cmocka_unit_test(test_growth_to_the_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
