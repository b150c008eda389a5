/*
 * test_result_rows - which columns a map can read (result_rows_check), and
 * the reply data of a Rows result (result_rows_format)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cql/cql_proto.h"
#include "buf.h"
#include "result_rows.h"

/* meta - columns: name, type id, element type id (list/set) */
static void col(struct cql_rows_meta *m, const char *name, uint16_t id, uint16_t elem)
{
	struct cql_column *c = &m->cols[m->ncols++];

	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	c->type.id = id;
	c->type.elem[0] = elem;
}

/* check - result_rows_check of one value column (and maybe active) */
static int check(uint16_t id, uint16_t elem, int active_type, char *why, size_t size)
{
	static struct cql_rows_meta m;

	memset(&m, 0, sizeof(m));
	col(&m, "v", id, elem);
	if (active_type >= 0)
		col(&m, "active", (uint16_t)active_type, 0);
	why[0] = 0;
	return result_rows_check(&m, why, size);
}

static void test_readable_types(void **state)
{
	static const uint16_t ok[] = {
		CQL_TYPE_VARCHAR, CQL_TYPE_ASCII, CQL_TYPE_TINYINT, CQL_TYPE_SMALLINT,
		CQL_TYPE_INT, CQL_TYPE_BIGINT,
	};
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(check(ok[i], 0, -1, why, sizeof(why)), 0);
		assert_int_equal(check(CQL_TYPE_LIST, ok[i], -1, why, sizeof(why)), 0);
		assert_int_equal(check(CQL_TYPE_SET, ok[i], CQL_TYPE_BOOLEAN, why, sizeof(why)), 0);
	}
}

static void test_unreadable_types_are_named(void **state)
{
	static struct cql_rows_meta m;
	char why[256];

	(void)state;
	assert_int_equal(check(CQL_TYPE_VARCHAR, 0, CQL_TYPE_INT, why, sizeof(why)), -1);
	assert_string_equal(why, "column active is int; it must be boolean");
	assert_int_equal(check(CQL_TYPE_SET, CQL_TYPE_TIMESTAMP, -1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "value column v is set<timestamp>; it must be text"));
	assert_int_equal(check(CQL_TYPE_UUID, 0, -1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "value column v is uuid;"));
	assert_int_equal(check(CQL_TYPE_BLOB, 0, -1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "value column v is blob;"));
	assert_int_equal(check(CQL_TYPE_BOOLEAN, 0, -1, why, sizeof(why)), -1);
	assert_int_equal(check(CQL_TYPE_INET, 0, -1, why, sizeof(why)), -1);
	assert_int_equal(check(CQL_TYPE_MAP, CQL_TYPE_VARCHAR, -1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "value column v is map<text, custom>;"));
	assert_int_equal(check(CQL_TYPE_LIST, CQL_TYPE_SET, -1, why, sizeof(why)), -1);
	/* A list of lists is parsed as nested. */
	memset(&m, 0, sizeof(m));
	col(&m, "v", CQL_TYPE_LIST, CQL_TYPE_LIST);
	m.cols[0].type.nested = 1;
	assert_int_equal(result_rows_check(&m, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "value column v is list<list<...>>;"));
	/* No column at all. */
	memset(&m, 0, sizeof(m));
	assert_int_equal(result_rows_check(&m, why, sizeof(why)), -1);
	/* "active" as the value column is a value, not the flag. */
	memset(&m, 0, sizeof(m));
	col(&m, "active", CQL_TYPE_VARCHAR, 0);
	assert_int_equal(result_rows_check(&m, why, sizeof(why)), 0);
}

/*
 * format - result_rows_format of a Rows body with a text column "v" and,
 * when act is not NULL, a boolean column "active" (-1: null). Returns what
 * it returned, the reply data in out.
 */
static int format(int n, const char *const *vals, const int *act, const char *fmt,
		  char *out, size_t size)
{
	struct buf body, reply;
	struct cql_rd rd;
	struct cql_rows rows;
	int i, rc;
	uint8_t b;

	buf_init(&body);
	buf_init(&reply);
	cql_wr_int(&body, CQL_META_GLOBAL_TABLES_SPEC);
	cql_wr_int(&body, act ? 2 : 1);
	cql_wr_cstring(&body, "ks");
	cql_wr_cstring(&body, "t");
	cql_wr_cstring(&body, "v");
	cql_wr_short(&body, CQL_TYPE_VARCHAR);
	if (act) {
		cql_wr_cstring(&body, "active");
		cql_wr_short(&body, CQL_TYPE_BOOLEAN);
	}
	cql_wr_int(&body, n);
	for (i = 0; i < n; i++) {
		cql_wr_bytes(&body, vals[i], vals[i] ? (int32_t)strlen(vals[i]) : -1);
		if (act) {
			b = (uint8_t)(act[i] > 0);
			cql_wr_bytes(&body, &b, act[i] < 0 ? -1 : 1);
		}
	}
	cql_rd_init(&rd, body.data, body.len);
	assert_int_equal(cql_decode_rows(&rd, NULL, &rows), 0);
	rc = result_rows_format(&rows, fmt, &reply);
	snprintf(out, size, "%.*s", (int)reply.len, reply.data ? (const char *)reply.data : "");
	buf_free(&body);
	buf_free(&reply);
	return rc;
}

/* Rows joined with ", "; empty and null values are no value at all. */
static void test_format_rows(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(format(2, (const char *[]){ "a@x", "b@y" }, NULL, "%s", out,
				sizeof(out)), 1);
	assert_string_equal(out, "a@x, b@y");
	assert_int_equal(format(1, (const char *[]){ "" }, NULL, "%s", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(format(2, (const char *[]){ "", NULL }, NULL, "%s", out,
				sizeof(out)), 0);
	assert_int_equal(format(3, (const char *[]){ "", "a", "" }, NULL, "%s", out,
				sizeof(out)), 1);
	assert_string_equal(out, "a");
	assert_int_equal(format(0, NULL, NULL, "%s", out, sizeof(out)), 0);
	/* %d drops a value without a domain; the others stay, joined. */
	assert_int_equal(format(3, (const char *[]){ "a@x", "b", "c@z" }, NULL, "%d", out,
				sizeof(out)), 1);
	assert_string_equal(out, "x, z");
}

/* Only rows whose "active" is true answer: false and null do not. */
static void test_format_active(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(format(3, (const char *[]){ "a", "b", "c" }, (const int[]){ 1, 0, -1 },
				"%s", out, sizeof(out)), 1);
	assert_string_equal(out, "a");
	assert_int_equal(format(2, (const char *[]){ "a", "b" }, (const int[]){ 0, -1 },
				"%s", out, sizeof(out)), 0);
	assert_int_equal(format(2, (const char *[]){ "a", "b" }, (const int[]){ 1, 1 },
				"%s", out, sizeof(out)), 1);
	assert_string_equal(out, "a, b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readable_types),
		cmocka_unit_test(test_unreadable_types_are_named),
		cmocka_unit_test(test_format_rows),
		cmocka_unit_test(test_format_active),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
