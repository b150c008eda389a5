/*
 * test_socketmap - "name key" requests and "STATUS data" replies
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socketmap.h"

/* parse - socketmap_parse_request on n bytes */
static int parse(const char *p, size_t n, struct socketmap_request *r, const char **why)
{
	return socketmap_parse_request(p, n, r, why);
}

static void test_request(void **state)
{
	struct socketmap_request r;
	const char *why;

	(void)state;
	assert_int_equal(parse("users alice@example.com", 23, &r, &why), 0);
	assert_null(why);
	assert_int_equal(r.name_len, 5);
	assert_memory_equal(r.name, "users", 5);
	assert_int_equal(r.key_len, 17);
	assert_memory_equal(r.key, "alice@example.com", 17);
	/* The key is everything after the first space, spaces included. */
	assert_int_equal(parse("access_maps a b  c ", 19, &r, &why), 0);
	assert_int_equal(r.name_len, 11);
	assert_int_equal(r.key_len, 7);
	assert_memory_equal(r.key, "a b  c ", 7);
	/* An empty key parses: whether it can exist is the engine's question. */
	assert_int_equal(parse("domains ", 8, &r, &why), 0);
	assert_int_equal(r.key_len, 0);
	/* NUL bytes in the key are passed on as bytes (lookup_key refuses them). */
	assert_int_equal(parse("domains a\0b", 11, &r, &why), 0);
	assert_int_equal(r.key_len, 3);
	assert_memory_equal(r.key, "a\0b", 3);
	/* Only the given length is read: a space after it is not seen. */
	assert_int_equal(parse("users x", 5, &r, &why), -1);
}

static void test_bad_requests(void **state)
{
	struct socketmap_request r;
	const char *why;
	char name[SOCKETMAP_NAME_MAX + 8];

	(void)state;
	why = NULL;
	assert_int_equal(parse("nospace", 7, &r, &why), -1);
	assert_non_null(why);
	assert_int_equal(parse("", 0, &r, &why), -1);
	assert_int_equal(parse(" key", 4, &r, &why), -1);	/* empty name */
	assert_int_equal(parse("  ", 2, &r, &why), -1);
	/* Control characters and NUL in the name. */
	assert_int_equal(parse("us\0ers k", 8, &r, &why), -1);
	assert_int_equal(parse("us\ters k", 8, &r, &why), -1);
	assert_int_equal(parse("us\x7f k", 4 + 2, &r, &why), -1);
	assert_int_equal(parse("\nusers k", 8, &r, &why), -1);
	/* A tab is not the separator. */
	assert_int_equal(parse("users\tkey", 9, &r, &why), -1);
	/* Name length: the limit is accepted, one more refused. */
	memset(name, 'n', sizeof(name));
	name[SOCKETMAP_NAME_MAX] = ' ';
	assert_int_equal(parse(name, SOCKETMAP_NAME_MAX + 2, &r, &why), 0);
	assert_int_equal(r.name_len, SOCKETMAP_NAME_MAX);
	name[SOCKETMAP_NAME_MAX] = 'n';
	name[SOCKETMAP_NAME_MAX + 1] = ' ';
	assert_int_equal(parse(name, SOCKETMAP_NAME_MAX + 3, &r, &why), -1);
	assert_non_null(why);
	/* High bytes in a name are not control characters. */
	assert_int_equal(parse("m\xc3\xa4p k", 6, &r, &why), 0);
}

static void test_reply(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_OK, "a@b", 3), 0);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_NOTFOUND, "", 0), 0);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_TEMP, "cassandra: timeout", 18), 0);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_PERM, "x", 1), 0);
	buf_append_byte(&b, 0);
	/* NOTFOUND has its space: Postfix wants "NOTFOUND ". */
	assert_string_equal((char *)b.data,
			    "6:OK a@b,9:NOTFOUND ,23:TEMP cassandra: timeout,6:PERM x,");
	buf_free(&b);
	assert_string_equal(socketmap_status_name(SOCKETMAP_TEMP), "TEMP");
	assert_string_equal(socketmap_status_name((enum socketmap_status)42), "PERM");
}

/* The whole reply (status, space, data) is limited to 100000 bytes. */
static void test_reply_limit(void **state)
{
	size_t max_data = SOCKETMAP_REPLY_MAX - 3;	/* "OK " */
	char *data = malloc(SOCKETMAP_REPLY_MAX + 1);
	struct buf b;
	char head[16];

	(void)state;
	assert_non_null(data);
	memset(data, 'v', SOCKETMAP_REPLY_MAX + 1);
	buf_init(&b);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_OK, data, max_data), 0);
	snprintf(head, sizeof(head), "%d:OK ", SOCKETMAP_REPLY_MAX);
	assert_memory_equal(b.data, head, strlen(head));
	assert_int_equal(b.len, strlen(head) + max_data + 1);
	assert_int_equal(b.data[b.len - 1], ',');
	/* One byte more: refused, and nothing appended. */
	buf_reset(&b);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_OK, data, max_data + 1), -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_NOTFOUND, data,
						SOCKETMAP_REPLY_MAX - 9), 0);
	buf_reset(&b);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_NOTFOUND, data,
						SOCKETMAP_REPLY_MAX - 8), -1);
	assert_int_equal(socketmap_encode_reply(&b, SOCKETMAP_OK, data,
						SOCKETMAP_REPLY_MAX + 1), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_reply_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
