/*
 * test_netstring - the streaming netstring decoder and the encoder
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "netstring.h"

/* decode - netstring_decode of a C string with the socketmap limit */
static enum netstring_status decode(const char *s, size_t len, const char **payload,
				    size_t *plen, size_t *consumed, const char **why)
{
	return netstring_decode(s, len, NETSTRING_MAX_LEN, payload, plen, consumed, why);
}

/* expect_error_n - the n bytes at s are refused, with a reason */
static void expect_error_n(const char *s, size_t n)
{
	const char *payload, *why;
	size_t plen, consumed;

	assert_int_equal(decode(s, n, &payload, &plen, &consumed, &why),
			 NETSTRING_ERROR);
	assert_non_null(why);
}

/* expect_error - the C string s is refused */
static void expect_error(const char *s)
{
	expect_error_n(s, strlen(s));
}

static void test_complete(void **state)
{
	const char *payload, *why;
	size_t plen, consumed;

	(void)state;
	assert_int_equal(decode("5:hello,", 8, &payload, &plen, &consumed, &why),
			 NETSTRING_COMPLETE);
	assert_int_equal(plen, 5);
	assert_memory_equal(payload, "hello", 5);
	assert_int_equal(consumed, 8);
	assert_null(why);
	/* The empty netstring. */
	assert_int_equal(decode("0:,", 3, &payload, &plen, &consumed, &why),
			 NETSTRING_COMPLETE);
	assert_int_equal(plen, 0);
	assert_int_equal(consumed, 3);
	/* Payload bytes are not interpreted: NUL, ':' and ',' pass. */
	assert_int_equal(decode("4:a\0:,,", 7, &payload, &plen, &consumed, &why),
			 NETSTRING_COMPLETE);
	assert_int_equal(plen, 4);
	assert_memory_equal(payload, "a\0:,", 4);
}

/* Fed one byte more each time, as a slow client sends it. */
static void test_byte_by_byte(void **state)
{
	static const char msg[] = "13:users a@b.org,";
	const char *payload, *why;
	size_t i, plen, consumed, n = sizeof(msg) - 1;

	(void)state;
	for (i = 0; i < n; i++)
		assert_int_equal(decode(msg, i, &payload, &plen, &consumed, &why),
				 NETSTRING_NEED_MORE);
	assert_int_equal(decode(msg, n, &payload, &plen, &consumed, &why),
			 NETSTRING_COMPLETE);
	assert_int_equal(consumed, n);
	assert_memory_equal(payload, "users a@b.org", 13);
}

/* Several requests in one read: each is consumed in turn. */
static void test_several_in_one_buffer(void **state)
{
	static const char in[] = "3:abc,0:,11:domains x.y,2:z";
	const char *p = in, *payload, *why;
	size_t left = sizeof(in) - 1, plen, consumed;

	(void)state;
	assert_int_equal(decode(p, left, &payload, &plen, &consumed, &why), NETSTRING_COMPLETE);
	assert_memory_equal(payload, "abc", 3);
	p += consumed, left -= consumed;
	assert_int_equal(decode(p, left, &payload, &plen, &consumed, &why), NETSTRING_COMPLETE);
	assert_int_equal(plen, 0);
	p += consumed, left -= consumed;
	assert_int_equal(decode(p, left, &payload, &plen, &consumed, &why), NETSTRING_COMPLETE);
	assert_memory_equal(payload, "domains x.y", 11);
	p += consumed, left -= consumed;
	/* The last one is not all there yet. */
	assert_int_equal(decode(p, left, &payload, &plen, &consumed, &why), NETSTRING_NEED_MORE);
	assert_int_equal(left, 3);
}

static void test_bad_length(void **state)
{
	(void)state;
	expect_error(":abc,");		/* empty length */
	expect_error("x:abc,");		/* does not start with a digit */
	expect_error("-1:a,");
	expect_error(" 1:a,");
	expect_error("1x:a,");		/* non-digit inside the length */
	expect_error("1 :a,");
	expect_error("+1:a,");
	/* Found as soon as the bad byte is there, before the rest arrives. */
	expect_error("1a");
	expect_error("x");
}

static void test_missing_comma(void **state)
{
	(void)state;
	expect_error("3:abc;");
	expect_error("3:abcd,");	/* payload longer than announced */
	expect_error("0:x");
	expect_error_n("2:ab\0", 5);
}

static void test_leading_zeros(void **state)
{
	const char *payload, *why;
	size_t plen, consumed;

	(void)state;
	expect_error("01:a,");
	expect_error("00:,");
	expect_error("007:abcdefg,");
	/* Found at the second digit, before the colon arrives. */
	expect_error("00");
	/* A lone zero is fine, and so is a zero later in the length. */
	assert_int_equal(decode("0", 1, &payload, &plen, &consumed, &why), NETSTRING_NEED_MORE);
	assert_int_equal(decode("10:0123456789,", 14, &payload, &plen, &consumed, &why),
			 NETSTRING_COMPLETE);
}

static void test_over_limit(void **state)
{
	static char big[NETSTRING_MAX_LEN + 16];
	const char *payload, *why;
	size_t plen, consumed, n;

	(void)state;
	/* Exactly the limit is accepted. */
	n = (size_t)snprintf(big, sizeof(big), "%d:", NETSTRING_MAX_LEN);
	memset(big + n, 'a', NETSTRING_MAX_LEN);
	big[n + NETSTRING_MAX_LEN] = ',';
	assert_int_equal(decode(big, n + NETSTRING_MAX_LEN + 1, &payload, &plen, &consumed, &why),
			 NETSTRING_COMPLETE);
	assert_int_equal(plen, NETSTRING_MAX_LEN);
	/* One more is refused from the length alone, before any payload. */
	expect_error("100001:");
	expect_error("100001");
	expect_error("999999999999999999999:");	/* would overflow */
	/* A smaller caller limit is honoured. */
	assert_int_equal(netstring_decode("11:hello world,", 15, 10, &payload, &plen,
					  &consumed, &why), NETSTRING_ERROR);
	assert_int_equal(netstring_decode("10:helloworld,", 14, 10, &payload, &plen,
					  &consumed, &why), NETSTRING_COMPLETE);
	/* An empty input needs more. */
	assert_int_equal(decode("", 0, &payload, &plen, &consumed, &why), NETSTRING_NEED_MORE);
	assert_null(why);
}

static void test_encode(void **state)
{
	struct buf b;
	const char *payload, *why;
	size_t plen, consumed;

	(void)state;
	buf_init(&b);
	netstring_encode(&b, "hello", 5);
	netstring_encode(&b, "", 0);
	netstring_encode(&b, "a\0b", 3);
	assert_false(b.oom);
	assert_int_equal(b.len, 8 + 3 + 6);
	assert_memory_equal(b.data, "5:hello,0:,3:a\0b,", 17);
	/* What we encode, we decode. */
	assert_int_equal(decode((char *)b.data + 11, 6, &payload, &plen, &consumed, &why),
			 NETSTRING_COMPLETE);
	assert_memory_equal(payload, "a\0b", 3);
	buf_free(&b);
}

/* The length digits are written by hand: every digit count, both ends. */
static void test_encode_head(void **state)
{
	static const size_t lens[] = { 0, 1, 9, 10, 99, 100, 12345, 100000, 1000000000 };
	char want[32];
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		buf_reset(&b);
		netstring_encode_head(&b, lens[i]);
		snprintf(want, sizeof(want), "%zu:", lens[i]);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.data, want, b.len);
	}
	buf_reset(&b);
	netstring_encode_head(&b, SIZE_MAX);
	snprintf(want, sizeof(want), "%zu:", (size_t)SIZE_MAX);
	assert_true(strlen(want) <= NETSTRING_HEAD_MAX);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_several_in_one_buffer),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_missing_comma),
		cmocka_unit_test(test_leading_zeros),
		cmocka_unit_test(test_over_limit),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
