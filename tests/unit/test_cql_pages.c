/*
 * test_cql_pages - a Rows result read to its last page: empty pages, pages
 * that disagree, results without metadata, the page and byte bounds
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cql/cql_pages.h"

/* page - a Rows body (after the kind) of one text column "v" */
static void page(struct buf *b, const char *state, int no_meta, const char *col,
		 int nrows, const char *const *vals)
{
	int32_t flags = no_meta ? CQL_META_NO_METADATA : CQL_META_GLOBAL_TABLES_SPEC;
	int i;

	buf_reset(b);
	if (state)
		flags |= CQL_META_HAS_MORE_PAGES;
	cql_wr_int(b, flags);
	cql_wr_int(b, 1);
	if (state)
		cql_wr_bytes(b, state, (int32_t)strlen(state));
	if (!no_meta) {
		cql_wr_cstring(b, "ks");
		cql_wr_cstring(b, "t");
		cql_wr_cstring(b, col);
		cql_wr_short(b, CQL_TYPE_VARCHAR);
	}
	cql_wr_int(b, nrows);
	for (i = 0; i < nrows; i++)
		cql_wr_bytes(b, vals[i], (int32_t)strlen(vals[i]));
}

/* add - feed body b to pg */
static enum cql_pages_status add(struct cql_pages *pg, struct buf *b,
				 const struct cql_rows_meta *hint)
{
	struct cql_rd rd;

	cql_rd_init(&rd, b->data, b->len);
	return cql_pages_add(pg, &rd, hint);
}

/* all_rows - the values of every row, joined by ',' */
static void all_rows(const struct cql_pages *pg, char *out, size_t size)
{
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_rows r;
	size_t n = 0;

	out[0] = 0;
	cql_pages_rows(pg, &r);
	assert_int_equal(r.meta.flags & CQL_META_HAS_MORE_PAGES, 0);
	while (cql_rows_next(&r, cells) == 1)
		n += (size_t)snprintf(out + n, size - n, "%s%.*s", n ? "," : "",
				      (int)cells[0].len, (const char *)cells[0].p);
	assert_int_equal(r.next, r.nrows);
}

static void test_pages_to_the_last(void **state)
{
	static const char *const ab[] = { "a", "b" }, *const c[] = { "c" };
	struct cql_pages pg;
	struct buf b;
	const uint8_t *st;
	size_t len;
	char out[64];

	(void)state;
	buf_init(&b);
	cql_pages_init(&pg);
	/* An empty first page with a state is not the end. */
	page(&b, "s1", 0, "v", 0, NULL);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	st = cql_pages_state(&pg, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(st, "s1", 2);
	page(&b, "s2", 0, "v", 2, ab);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	page(&b, "s3", 0, "v", 0, NULL);	/* an empty middle page */
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	st = cql_pages_state(&pg, &len);
	assert_memory_equal(st, "s3", 2);
	page(&b, NULL, 0, "v", 1, c);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_DONE);
	assert_null(cql_pages_state(&pg, &len));
	assert_int_equal(pg.npages, 4);
	all_rows(&pg, out, sizeof(out));
	assert_string_equal(out, "a,b,c");
	cql_pages_free(&pg);
	buf_free(&b);
}

static void test_pages_refused(void **state)
{
	static const char *const a[] = { "a" };
	struct cql_rows_meta hint;
	struct cql_pages pg;
	struct buf b;
	unsigned i;
	char out[64];

	(void)state;
	buf_init(&b);
	/* No metadata and no hint: not readable, even with no rows. */
	cql_pages_init(&pg);
	page(&b, NULL, 1, "v", 0, NULL);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_NO_METADATA);
	cql_pages_free(&pg);
	/* With the prepared statement's metadata as the hint, it is. */
	cql_pages_init(&pg);
	page(&b, NULL, 0, "v", 0, NULL);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_DONE);
	hint = pg.meta;
	cql_pages_free(&pg);
	cql_pages_init(&pg);
	page(&b, NULL, 1, "v", 1, a);
	assert_int_equal(add(&pg, &b, &hint), CQL_PAGES_DONE);
	all_rows(&pg, out, sizeof(out));
	assert_string_equal(out, "a");
	cql_pages_free(&pg);
	/* A later page with other columns. */
	cql_pages_init(&pg);
	page(&b, "s", 0, "v", 1, a);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	page(&b, NULL, 0, "w", 1, a);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MALFORMED);
	cql_pages_free(&pg);
	/* More pages announced with an empty paging state. */
	cql_pages_init(&pg);
	page(&b, "", 0, "v", 1, a);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MALFORMED);
	cql_pages_free(&pg);
	/* A row cut short. */
	cql_pages_init(&pg);
	page(&b, NULL, 0, "v", 1, a);
	b.len--;
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MALFORMED);
	cql_pages_free(&pg);
	/* The page bound: the last page allowed must be the last page. */
	cql_pages_init(&pg);
	for (i = 1; i < CQL_PAGES_MAX; i++) {
		page(&b, "s", 0, "v", 1, a);
		assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	}
	page(&b, "s", 0, "v", 0, NULL);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_TOO_LARGE);
	cql_pages_free(&pg);
	cql_pages_init(&pg);
	for (i = 1; i < CQL_PAGES_MAX; i++) {
		page(&b, "s", 0, "v", 0, NULL);
		assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	}
	page(&b, NULL, 0, "v", 1, a);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_DONE);
	cql_pages_free(&pg);
	buf_free(&b);
}

static void test_pages_byte_bound(void **state)
{
	static char big[CQL_PAGES_MAX_BYTES / 2];
	const char *const v[] = { big };
	struct cql_pages pg;
	struct buf b;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	buf_init(&b);
	cql_pages_init(&pg);
	page(&b, "s", 0, "v", 1, v);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	page(&b, NULL, 0, "v", 1, v);	/* 4 bytes of length over the bound */
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_TOO_LARGE);
	cql_pages_free(&pg);
	buf_free(&b);
}

/* The byte bound exactly: CQL_PAGES_MAX_BYTES of cells is read, one more is not. */
static void test_pages_byte_bound_exact(void **state)
{
	static char big[CQL_PAGES_MAX_BYTES / 2];
	const char *const v[] = { big };
	struct cql_pages pg;
	struct buf b;

	(void)state;
	/* Each cell is 4 bytes of length and MAX/2 - 4 of value: MAX/2. */
	memset(big, 'x', sizeof(big) - 4);
	buf_init(&b);
	cql_pages_init(&pg);
	page(&b, "s", 0, "v", 1, v);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	page(&b, NULL, 0, "v", 1, v);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_DONE);
	assert_int_equal(pg.rows.len, CQL_PAGES_MAX_BYTES);
	cql_pages_free(&pg);
	cql_pages_init(&pg);
	page(&b, "s", 0, "v", 1, v);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_MORE);
	big[sizeof(big) - 4] = 'x';		/* one byte more */
	page(&b, NULL, 0, "v", 1, v);
	assert_int_equal(add(&pg, &b, NULL), CQL_PAGES_TOO_LARGE);
	cql_pages_free(&pg);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_to_the_last),
		cmocka_unit_test(test_pages_refused),
		cmocka_unit_test(test_pages_byte_bound),
		cmocka_unit_test(test_pages_byte_bound_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
