/*
 * test_spare - records kept for reuse: handed out again, bounded, freed
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "spare.h"

#define REC_SIZE	48	/* bytes of a test record */
#define REC_MAX		2	/* records kept */

static void test_reuse_last_in_first_out(void **state)
{
	struct spare s;
	char *a, *b, *c;

	(void)state;
	spare_init(&s, REC_SIZE, REC_MAX);
	assert_non_null(a = spare_get(&s));		/* none kept: malloc */
	assert_non_null(b = spare_get(&s));
	memset(a, 'a', REC_SIZE);
	memset(b, 'b', REC_SIZE);
	spare_put(&s, a);
	spare_put(&s, b);
	assert_int_equal(s.n, 2);
	assert_ptr_equal(spare_get(&s), b);		/* the latest kept first */
	assert_ptr_equal(c = spare_get(&s), a);
	assert_int_equal(s.n, 0);
	assert_null(s.head);
	/* The whole record is the caller's again, the link bytes too. */
	memset(c, 'c', REC_SIZE);
	spare_put(&s, c);
	spare_put(&s, b);
	spare_free(&s);
	assert_int_equal(s.n, 0);
	assert_null(s.head);
}

static void test_at_most_max_are_kept(void **state)
{
	struct spare s;
	void *p[REC_MAX + 3];
	size_t i;

	(void)state;
	spare_init(&s, REC_SIZE, REC_MAX);
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		assert_non_null(p[i] = spare_get(&s));
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		spare_put(&s, p[i]);			/* past REC_MAX: freed */
	assert_int_equal(s.n, REC_MAX);
	spare_put(&s, NULL);
	assert_int_equal(s.n, REC_MAX);
	spare_free(&s);
	assert_int_equal(s.n, 0);
}

static void test_tiny_records_hold_the_link(void **state)
{
	struct spare s;
	void *p;

	(void)state;
	spare_init(&s, 1, REC_MAX);
	assert_true(s.size >= sizeof(void *));
	assert_non_null(p = spare_get(&s));
	spare_put(&s, p);
	assert_ptr_equal(spare_get(&s), p);
	spare_put(&s, p);
	spare_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_last_in_first_out),
		cmocka_unit_test(test_at_most_max_are_kept),
		cmocka_unit_test(test_tiny_records_hold_the_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
