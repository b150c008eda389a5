/*
 * test_result_format - result_format expansion as pgsql_table(5) says
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "result_format.h"

/* expand - apply fmt to val; NULL when the value is discarded */
static const char *expand(const char *fmt, const char *val)
{
	static char out[512];
	struct buf b;
	int rc;

	buf_init(&b);
	buf_append_str(&b, "prev,");		/* output already there is kept */
	rc = result_format_apply(fmt, val, strlen(val), &b);
	assert_false(b.oom);
	assert_true(b.len >= 5);
	assert_memory_equal(b.data, "prev,", 5);
	assert_true(b.len - 5 < sizeof(out));
	memcpy(out, b.data + 5, b.len - 5);
	out[b.len - 5] = 0;
	buf_free(&b);
	if (rc == 0) {
		assert_string_equal(out, "");	/* nothing of it left behind */
		return NULL;
	}
	assert_int_equal(rc, 1);
	return out;
}

static void test_expansion(void **state)
{
	(void)state;
	assert_string_equal(expand("%s", "alice@example.com"), "alice@example.com");
	/* The users map: a maildir path under virtual_mailbox_base. */
	assert_string_equal(expand("%d/%u/", "alice@example.com"), "example.com/alice/");
	assert_string_equal(expand("smtp:[%s]:25", "mx.example"), "smtp:[mx.example]:25");
	assert_string_equal(expand("100%%", "x"), "100%");
	assert_string_equal(expand("%%s", "x"), "%s");
	assert_string_equal(expand("", "x"), "");
	assert_string_equal(expand("plain", "x"), "plain");
	/* The last '@' splits, as Postfix does. */
	assert_string_equal(expand("%u|%d", "\"a@b\"@example.com"), "\"a@b\"|example.com");
	/* %u of a value without '@' is the whole value. */
	assert_string_equal(expand("<%u>", "postmaster"), "<postmaster>");
	/* Bytes in the value are copied, not interpreted. */
	assert_string_equal(expand("%s", "%d%u"), "%d%u");
	assert_string_equal(expand("%s", "\xc3\xa9t\xc3\xa9@x"), "\xc3\xa9t\xc3\xa9@x");
}

/* pgsql_table(5): "%d ... If the input key is unqualified, ... suppressed." */
static void test_domain_of_unqualified_is_discarded(void **state)
{
	(void)state;
	assert_null(expand("%d", "postmaster"));
	assert_null(expand("%u@%d", "postmaster"));
	assert_null(expand("%s %d", "x"));
	assert_string_equal(expand("%s", ""), "");
	assert_null(expand("%d", ""));
}

/*
 * pgsql_table(5) and Postfix's db_common_expand(): an empty part that the
 * format needs discards the value. A catch-all row "@example.org" in a
 * users map with "%d/%u/" must not give "example.org//" (issue 11, item 8).
 */
static void test_empty_parts_suppressed(void **state)
{
	(void)state;
	assert_null(expand("%d/%u/", "@example.org"));
	assert_null(expand("[%u][%d]", "@example.com"));
	assert_null(expand("[%u][%d]", "user@"));
	assert_null(expand("%d", "user@"));
	assert_null(expand("<%u>", "@example.com"));
	/* Only the parts the format uses count. */
	assert_string_equal(expand("%d", "@example.com"), "example.com");
	assert_string_equal(expand("%u", "user@"), "user");
	assert_string_equal(expand("%s", "@example.com"), "@example.com");
	assert_string_equal(expand("%%d %%u %s", "@x"), "%d %u @x");
	assert_string_equal(expand("%d/%u/", "a@b"), "b/a/");
}

/* Invalid formats never reach apply (checked at startup); apply is still safe. */
static void test_check_and_unchecked_apply(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(result_format_check("%s %u %d %%", &why), 0);
	assert_null(why);
	assert_int_equal(result_format_check("", &why), 0);
	assert_int_equal(result_format_check("50%", &why), -1);
	assert_non_null(why);
	assert_int_equal(result_format_check("%x", &why), -1);
	assert_int_equal(result_format_check("%S", &why), -1);
	assert_int_equal(result_format_check("%%%", &why), -1);
	assert_int_equal(result_format_check("%%%%", &why), 0);
	/* A trailing lone '%' is copied, an unknown sequence keeps its letter. */
	assert_string_equal(expand("a%", "x"), "a%");
	assert_string_equal(expand("%x", "v"), "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expansion),
		cmocka_unit_test(test_domain_of_unqualified_is_discarded),
		cmocka_unit_test(test_check_and_unchecked_apply),
		cmocka_unit_test(test_empty_parts_suppressed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
