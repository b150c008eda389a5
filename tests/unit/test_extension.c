/*
 * test_extension - an unmatched extension into each address, as Postfix's
 * mail_addr_crunch() puts it
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "extension.h"
#include "search_order.h"

/* prop - extension_propagate as a C string */
static const char *prop(const char *val, const char *ext)
{
	static char out[512];
	struct buf b;

	buf_init(&b);
	buf_append_str(&b, "<");		/* output already there is kept */
	extension_propagate(val, strlen(val), ext, strlen(ext), &b);
	assert_false(b.oom);
	assert_true(b.len < sizeof(out));
	assert_memory_equal(b.data, "<", 1);
	memcpy(out, b.data + 1, b.len - 1);
	out[b.len - 1] = 0;
	buf_free(&b);
	return out;
}

static void test_each_address(void **state)
{
	(void)state;
	assert_string_equal(prop("alice@alpha.test", "+x"), "alice+x@alpha.test");
	assert_string_equal(prop("alice@alpha.test, bob@alpha.test", "-a+b"),
			    "alice-a+b@alpha.test, bob-a+b@alpha.test");
	/* No '@': after the name (Postfix qualifies it, then inserts). */
	assert_string_equal(prop("alice", "+x"), "alice+x");
	assert_string_equal(prop("alice ,bob", "+x"), "alice+x ,bob+x");
	/* The last '@', and commas inside quotes are not separators. */
	assert_string_equal(prop("\"a,b@c\"@d.test", "+x"), "\"a,b@c\"+x@d.test");
	assert_string_equal(prop("\"a\\\",b\"@d.test,e@f", "+x"), "\"a\\\",b\"+x@d.test,e+x@f");
	/* Blank elements stay as they are. */
	assert_string_equal(prop("a@b,, c@d", "+x"), "a+x@b,, c+x@d");
	assert_string_equal(prop("", "+x"), "");
}

/* The search order says which candidate is the extension-stripped one. */
static void test_search_marks_the_stripped_candidate(void **state)
{
	struct search_settings s = { .kind = SEARCH_VIRTUAL, .delimiters = "+-" };
	static struct search_candidates c;
	const char *key = "team-x+y@beta.test";

	(void)state;
	search_order_expand(&s, key, strlen(key), &c);
	assert_int_equal(c.ext_mask, 1u << 1);
	assert_string_equal(c.key[1], "team@beta.test");
	assert_int_equal(c.ext_off, 4);
	assert_int_equal(c.ext_len, 4);			/* "-x+y" */
	key = "team@beta.test";
	search_order_expand(&s, key, strlen(key), &c);
	assert_int_equal(c.ext_mask, 0);
	key = "owner-list@beta.test";		/* not split: nothing to propagate */
	search_order_expand(&s, key, strlen(key), &c);
	assert_int_equal(c.ext_mask, 0);
	/* Quoted: the bare external and internal forms both count. */
	key = "\"a..b+x\"@beta.test";
	search_order_expand(&s, key, strlen(key), &c);
	assert_string_equal(c.key[1], "\"a..b\"@beta.test");
	assert_int_equal(c.ext_mask, 1u << 1);
	assert_int_equal(c.ext_off, 5);
	assert_int_equal(c.ext_len, 2);			/* "+x" */
	s.kind = SEARCH_ACCESS;			/* only virtual maps propagate */
	key = "team+x@beta.test";
	search_order_expand(&s, key, strlen(key), &c);
	assert_int_equal(c.ext_mask, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_address),
		cmocka_unit_test(test_search_marks_the_stripped_candidate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
