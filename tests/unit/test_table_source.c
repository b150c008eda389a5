/*
 * test_table_source - Postfix's table source format, as postmap reads it
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookup_key.h"
#include "tool/table_source.h"

#define MAX_RECS	16

struct rec {
	unsigned line;
	char why[80];
	char key[LOOKUP_KEY_MAX + 1];
	char value[256];
};

/* parse - every record of the n bytes at p; how many */
static size_t parse(const char *p, size_t n, struct rec *out)
{
	struct table_source ts;
	struct table_record r;
	size_t k = 0;

	table_source_init(&ts, p, n);
	while (table_source_next(&ts, &r) == 1) {
		assert_true(k < MAX_RECS);
		memset(&out[k], 0, sizeof(out[k]));
		out[k].line = r.line;
		if (r.why) {
			snprintf(out[k].why, sizeof(out[k].why), "%s", r.why);
		} else {
			assert_int_equal(strlen(r.key), r.keylen);
			assert_int_equal(strlen(r.value), r.valuelen);
			snprintf(out[k].key, sizeof(out[k].key), "%s", r.key);
			snprintf(out[k].value, sizeof(out[k].value), "%s", r.value);
		}
		k++;
	}
	table_source_free(&ts);
	return k;
}

#define PARSE(s, out)	parse(s, sizeof(s) - 1, out)

static void test_key_whitespace_value(void **state)
{
	struct rec r[MAX_RECS];

	(void)state;
	assert_int_equal(PARSE("a@example.com\tb@example.org\n"
			       "Postmaster@Example.COM    root ,  admin  \n"
			       "last  value without newline", r), 3);
	assert_string_equal(r[0].key, "a@example.com");
	assert_string_equal(r[0].value, "b@example.org");
	assert_int_equal(r[0].line, 1);
	assert_string_equal(r[1].key, "postmaster@example.com");	/* folded */
	assert_string_equal(r[1].value, "root ,  admin");	/* inner space kept */
	assert_string_equal(r[2].value, "value without newline");
	assert_int_equal(r[2].line, 3);
}

static void test_comments_and_continuations(void **state)
{
	struct rec r[MAX_RECS];

	(void)state;
	assert_int_equal(PARSE("# a comment\n"
			       "\n"
			       "   \t\n"
			       "  # an indented comment\n"
			       "list a,\n"
			       "# a comment inside the logical line\n"
			       "  b,\n"
			       "\tc\n"
			       "next x\n", r), 2);
	assert_string_equal(r[0].key, "list");
	/* the newline goes, the continuation's white space stays */
	assert_string_equal(r[0].value, "a,  b,\tc");
	assert_int_equal(r[0].line, 5);
	assert_string_equal(r[1].key, "next");
	assert_int_equal(r[1].line, 9);
}

static void test_crlf(void **state)
{
	struct rec r[MAX_RECS];

	(void)state;
	assert_int_equal(PARSE("a x\r\nb\r\n\r\nc  y z \r\n", r), 3);
	assert_string_equal(r[0].value, "x");
	assert_string_equal(r[1].why, "expected format: key whitespace value");
	assert_int_equal(r[1].line, 2);
	assert_string_equal(r[2].key, "c");
	assert_string_equal(r[2].value, "y z");
}

static void test_quotes_and_backslashes(void **state)
{
	struct rec r[MAX_RECS];

	(void)state;
	assert_int_equal(PARSE("\"a b\"@example.com x\n"
			       "a\\ b@example.com y\n"
			       "\"open@example.com z\n", r), 3);
	assert_string_equal(r[0].key, "\"a b\"@example.com");	/* quotes kept */
	assert_string_equal(r[0].value, "x");
	assert_string_equal(r[1].key, "a\\ b@example.com");
	assert_string_equal(r[1].value, "y");
	assert_string_equal(r[2].why, "unbalanced '\"'");
}

static void test_bad_lines(void **state)
{
	struct rec r[MAX_RECS];
	static const char bin[] = "ok 1\nbin\0ary x\n\xff\xfe y\n  lonely continuation\n";
	char *big;
	size_t n;

	(void)state;
	/* a continuation with nothing before it, at the start of the input */
	assert_int_equal(PARSE("  lonely x\nk v\n", r), 2);
	assert_string_equal(r[0].why, "logical line must not start with whitespace");
	assert_string_equal(r[1].key, "k");
	n = parse(bin, sizeof(bin) - 1, r);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].key, "ok");
	assert_string_equal(r[1].why, "NUL byte in line (binary input?)");
	assert_int_equal(r[1].line, 2);
	/* the lonely continuation joins the bad line before it */
	assert_string_equal(r[2].why, "not valid UTF-8");
	assert_int_equal(PARSE("keyonly\n", r), 1);
	assert_string_equal(r[0].why, "expected format: key whitespace value");

	big = malloc(LOOKUP_KEY_MAX + 16);
	assert_non_null(big);
	memset(big, 'k', LOOKUP_KEY_MAX + 1);
	memcpy(big + LOOKUP_KEY_MAX + 1, " v\nk v\n", 7);
	assert_int_equal(parse(big, LOOKUP_KEY_MAX + 8, r), 2);
	assert_string_equal(r[0].why, "key too long");
	assert_string_equal(r[1].key, "k");
	free(big);
}

static void test_postmap_s_output(void **state)
{
	struct rec r[MAX_RECS];

	(void)state;
	/* postmap -s prints "key<TAB>value" */
	assert_int_equal(PARSE("example.com\tsmtp:[mx.example.com]:25\n"
			       "@example.net\tcatchall@example.net\n", r), 2);
	assert_string_equal(r[0].value, "smtp:[mx.example.com]:25");
	assert_string_equal(r[1].key, "@example.net");
	assert_int_equal(PARSE("", r), 0);
	assert_int_equal(PARSE("\n\n# x\n", r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_whitespace_value),
		cmocka_unit_test(test_comments_and_continuations),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_quotes_and_backslashes),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_postmap_s_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
