/*
 * test_env_file - systemd EnvironmentFile= syntax, as --as-service reads it
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "env_file.h"

#define SEEN_MAX	4096	/* bytes of "NAME=value;" seen */

/* collect - env_file_fn: "NAME=value;" appended to ctx */
static int collect(void *ctx, const char *name, const char *value)
{
	char *seen = ctx;

	snprintf(seen + strlen(seen), SEEN_MAX - strlen(seen), "%s=%s;", name, value);
	return strcmp(name, "REFUSED") == 0;
}

/* parse - the assignments of text, or "ERR: <err>" */
static const char *parse(const char *text)
{
	static char seen[SEEN_MAX], err[256];

	seen[0] = 0;
	if (env_file_parse(text, strlen(text), collect, seen, err, sizeof(err)) != 0)
		snprintf(seen, sizeof(seen), "ERR: %s", err);
	return seen;
}

static void test_the_shipped_file_shape(void **state)
{
	(void)state;
	assert_string_equal(parse("# comment\n; also\n\nKEYSPACE_NAME=mailion\n"
				  "  AWS_REGION = eu-west-1  \nPORT=9999"),
			    "KEYSPACE_NAME=mailion;AWS_REGION=eu-west-1;PORT=9999;");
	assert_string_equal(parse("A=1\r\nB=2\r\n"), "A=1;B=2;");
	assert_string_equal(parse(""), "");
}

static void test_quotes_and_escapes(void **state)
{
	(void)state;
	assert_string_equal(parse("A=\"two words\"\nB='it''s'\n"), "ERR: line 2: B: unterminated quote");
	assert_string_equal(parse("A=\"two  words\"\nB='a \\\" b'\n"), "A=two  words;B=a \\\" b;");
	assert_string_equal(parse("A=\"say \\\"hi\\\" \\\\ \\$x\"\n"), "A=say \"hi\" \\ $x;");
	assert_string_equal(parse("A=\"open\n"), "ERR: line 1: A: unterminated quote");
	assert_string_equal(parse("A=\n"), "A=;");
	assert_string_equal(parse("A=x=y\n"), "A=x=y;");
}

static void test_ignored_lines_as_systemd_ignores_them(void **state)
{
	(void)state;
	assert_string_equal(parse("no equals sign\n1A=x\nA-B=x\n=x\nOK=1\n"), "OK=1;");
	assert_string_equal(parse("export A=1\nB=2\n"), "B=2;");
}

static void test_continuation_lines(void **state)
{
	(void)state;
	assert_string_equal(parse("A=one \\\ntwo\nB=3\n"), "A=one two;B=3;");
	assert_string_equal(parse("A=x\\\n\n\nB=\"open\n"), "ERR: line 4: B: unterminated quote");
}

static void test_limits_and_refusals(void **state)
{
	static char big[ENV_FILE_LINE_MAX + 16];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big, "A=", 2);
	assert_string_equal(parse(big), "ERR: line 1: too long");
	assert_string_equal(parse("A=1\nB=2"), "A=1;B=2;");
	{
		char seen[SEEN_MAX] = "", err[64];

		assert_int_equal(env_file_parse("A=1\0B=2", 7, collect, seen, err, sizeof(err)), -1);
		assert_string_equal(err, "line 1: a NUL byte");
	}
	assert_string_equal(parse("OK=1\nREFUSED=1\n"), "ERR: line 2: REFUSED: refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_shipped_file_shape),
		cmocka_unit_test(test_quotes_and_escapes),
		cmocka_unit_test(test_ignored_lines_as_systemd_ignores_them),
		cmocka_unit_test(test_continuation_lines),
		cmocka_unit_test(test_limits_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
