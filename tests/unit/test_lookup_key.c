/*
 * test_lookup_key - which keys can exist, and ASCII case folding
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lookup_key.h"

/* valid - lookup_key_valid on n bytes, checking that a refusal says why */
static int valid(const char *k, size_t n)
{
	const char *why = "unset";
	int ok = lookup_key_valid(k, n, &why);

	if (ok)
		assert_null(why);
	else
		assert_non_null(why);
	return ok;
}

#define V(s)	valid(s, sizeof(s) - 1)

static void test_plain_keys(void **state)
{
	static char big[LOOKUP_KEY_MAX + 1];

	(void)state;
	assert_true(V("alice@example.com"));
	assert_true(V("example.com"));
	assert_true(V("@example.com"));
	assert_true(V("a b"));			/* spaces are data */
	assert_true(V("~!#$%^&*()_+{}|:\"<>?`-=[]\\;',./"));
	assert_false(valid("", 0));
	memset(big, 'a', sizeof(big));
	assert_true(valid(big, LOOKUP_KEY_MAX));
	assert_false(valid(big, LOOKUP_KEY_MAX + 1));
}

static void test_control_characters(void **state)
{
	unsigned c;
	char k[3] = { 'a', 0, 'b' };

	(void)state;
	for (c = 0; c < 0x20; c++) {
		k[1] = (char)c;
		assert_false(valid(k, 3));
	}
	k[1] = 0x7f;
	assert_false(valid(k, 3));
	assert_false(V("a\r\n"));
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(V("j\xc3\xbcrgen@b\xc3\xbc" "cher.example"));	/* U+00FC */
	assert_true(V("\xe2\x82\xac"));			/* U+20AC, 3 bytes */
	assert_true(V("\xf0\x9f\x93\xa7@x"));		/* U+1F4E7, 4 bytes */
	assert_true(V("\xef\xbf\xbf"));			/* U+FFFF */
	assert_true(V("\xf4\x8f\xbf\xbf"));		/* U+10FFFF, the last */
	assert_false(V("\xf4\x90\x80\x80"));		/* past U+10FFFF */
	assert_false(V("\xc0\xaf"));			/* overlong '/' */
	assert_false(V("\xc1\xbf"));
	assert_false(V("\xe0\x80\xaf"));		/* overlong, 3 bytes */
	assert_false(V("\xf0\x80\x80\xaf"));		/* overlong, 4 bytes */
	assert_false(V("\xed\xa0\x80"));		/* surrogate U+D800 */
	assert_false(V("\xed\xbf\xbf"));		/* surrogate U+DFFF */
	assert_false(V("\x80"));			/* lone continuation */
	assert_false(V("a\xc3"));			/* truncated at the end */
	assert_false(V("\xe2\x82"));
	assert_false(V("\xc3\x28"));			/* bad continuation */
	assert_false(V("\xf5\x80\x80\x80"));
	assert_false(V("\xff"));
	assert_false(V("\xfe"));
	assert_false(V("\xe0\x9f\xbf"));		/* U+07FF overlong in 3 bytes */
	assert_true(V("\xe0\xa0\x80"));		/* U+0800, the first 3-byte one */
	/* Truncated inside len, even when the byte after it would continue it. */
	assert_false(valid("a\xc3\xbc", 2));
	assert_false(valid("\xe2\x82\xac", 2));
}

/* reason - lookup_key_valid's reason for a refused key */
static const char *reason(const char *k, size_t n)
{
	const char *why = NULL;

	assert_false(lookup_key_valid(k, n, &why));
	return why;
}

#define R(s)	reason(s, sizeof(s) - 1)

/*
 * A printable ASCII key takes one pass; the reasons stay as before it:
 * a control character anywhere is named first, even after bytes that
 * are not UTF-8, wherever the first non-ASCII byte is.
 */
static void test_reasons(void **state)
{
	(void)state;
	assert_string_equal(R("abc\x01"), "control character in key");
	assert_string_equal(R("abc\x7f@x"), "control character in key");
	assert_string_equal(R("abc\xff" "def\x01"), "control character in key");
	assert_string_equal(R("\xc3\xbc\x1f"), "control character in key");
	assert_string_equal(R("abc@\xff"), "key is not valid UTF-8");
	assert_string_equal(R("\xc3\xbc@\xc3"), "key is not valid UTF-8");
	assert_true(V("abc@\xc3\xbc.example"));
	assert_true(V("~"));				/* 0x7e, the last printable */
	assert_true(V(" "));				/* 0x20, the first */
}

static void test_fold(void **state)
{
	char out[64];

	(void)state;
	lookup_key_fold("INFO@Example.COM", 16, out);
	assert_string_equal(out, "info@example.com");
	/* ASCII only: UTF-8 bytes and punctuation pass unchanged. */
	lookup_key_fold("J\xc3\x9cRGEN@[]^_`{", 14, out);
	assert_string_equal(out, "j\xc3\x9crgen@[]^_`{");
	/* Exactly len bytes, then a terminator. */
	memset(out, 'z', sizeof(out));
	lookup_key_fold("ABC", 2, out);
	assert_string_equal(out, "ab");
	lookup_key_fold("", 0, out);
	assert_string_equal(out, "");
	/* The whole alphabet, its ends included; '@' and '[' sit beside them. */
	lookup_key_fold("@ABCDEFGHIJKLMNOPQRSTUVWXYZ[", 28, out);
	assert_string_equal(out, "@abcdefghijklmnopqrstuvwxyz[");
	lookup_key_fold("ZOE@EXAMPLE.ORG", 15, out);
	assert_string_equal(out, "zoe@example.org");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_keys),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_fold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
