/*
 * test_change_set - the table a map reads, the change table's rows, and
 * which tables changed between two polls
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "change_set.h"
#include "cql/cql_proto.h"
#include "map_registry.h"

/* table_of - change_table_of_query's answer, or "(none)" */
static const char *table_of(const char *query)
{
	static char t[CHANGE_TABLE_MAX + 1];

	if (change_table_of_query(query, t, sizeof(t)) != 0)
		return "(none)";
	return t;
}

static void test_table_of_query(void **state)
{
	(void)state;
	assert_string_equal(table_of("SELECT email, active FROM ks.users WHERE email = ?"), "users");
	assert_string_equal(table_of("select x from Users where k = ?"), "users");
	assert_string_equal(table_of("SELECT x FROM \"Ks\".\"MixedCase\" WHERE k = ?"), "MixedCase");
	assert_string_equal(table_of("SELECT x FROM \"a\"\"b\" WHERE k=?"), "a\"b");
	assert_string_equal(table_of("SELECT\tfromage\nFROM\n ks.cheese WHERE k = ?"), "cheese");
	/* Words in quotes are not the keyword. */
	assert_string_equal(table_of("SELECT 'from x' AS y FROM t WHERE k = ?"), "t");
	assert_string_equal(table_of("SELECT \"from\" FROM t2 WHERE k = ?"), "t2");
	assert_string_equal(table_of("SELECT x WHERE k = ?"), "(none)");
	assert_string_equal(table_of("SELECT x FROM"), "(none)");
	assert_string_equal(table_of("SELECT x FROM ks."), "(none)");
	assert_string_equal(table_of("SELECT x FROM 'unterminated"), "(none)");
	assert_string_equal(table_of("SELECT x FROM \"unterminated"), "(none)");
	assert_string_equal(table_of("SELECT x FROM "
				     "t23456789012345678901234567890123456789012345678"), "t23456789012345678901234567890123456789012345678");
	assert_string_equal(table_of("SELECT x FROM "
				     "t234567890123456789012345678901234567890123456789"), "(none)");
}

/* Every default map names its own table. */
static void test_default_maps(void **state)
{
	struct map_registry reg;
	struct map_defaults d = { "+", 1000, 1000, 1000 };
	char err[256];
	size_t i;

	(void)state;
	memset(&reg, 0, sizeof(reg));
	assert_int_equal(map_registry_defaults(&reg, "mailion", &d, err, sizeof(err)), 0);
	for (i = 0; i < reg.n; i++)
		assert_string_equal(table_of(reg.maps[i].query), reg.maps[i].name);
}

struct crow {
	const char *table;
	int64_t serial;
	int null_serial;
};

/*
 * read_rows - change_set_read of a Rows result with columns (table_name
 * text, serial of type stype) holding rows, following tables
 */
static int read_rows(struct change_set *set, uint16_t stype, const char *serial_name,
		     const struct crow *rows, int n, const char *const *tables, size_t nt)
{
	struct buf body;
	struct cql_rd rd;
	struct cql_rows cr;
	int i, rc;

	buf_init(&body);
	cql_wr_int(&body, CQL_META_GLOBAL_TABLES_SPEC);
	cql_wr_int(&body, 2);
	cql_wr_cstring(&body, "mailion");
	cql_wr_cstring(&body, "pac_changes");
	cql_wr_cstring(&body, "table_name");
	cql_wr_short(&body, CQL_TYPE_VARCHAR);
	cql_wr_cstring(&body, serial_name);
	cql_wr_short(&body, stype);
	cql_wr_int(&body, n);
	for (i = 0; i < n; i++) {
		cql_wr_bytes(&body, rows[i].table, (int32_t)strlen(rows[i].table));
		if (rows[i].null_serial) {
			cql_wr_bytes(&body, NULL, -1);
		} else if (stype == CQL_TYPE_BIGINT) {
			cql_wr_int(&body, 8);
			cql_wr_long(&body, rows[i].serial);
		} else {
			cql_wr_bytes(&body, "x", 1);
		}
	}
	cql_rd_init(&rd, body.data, body.len);
	assert_int_equal(cql_decode_rows(&rd, NULL, &cr), 0);
	rc = change_set_read(set, &cr, tables, nt);
	buf_free(&body);
	return rc;
}

static const char *const followed[] = { "users", "domains", "virtual_aliases" };
#define NFOLLOWED	(sizeof(followed) / sizeof(followed[0]))

static void test_read_keeps_followed_tables(void **state)
{
	static const struct crow rows[] = {
		{ "users", 3, 0 }, { "someone_elses", 9, 0 }, { "domains", -5, 0 },
		{ "virtual_aliases", 0, 1 },
	};
	struct change_set set;

	(void)state;
	assert_int_equal(read_rows(&set, CQL_TYPE_BIGINT, "serial", rows, 4, followed, NFOLLOWED), 0);
	assert_int_equal(set.n, 2);		/* not followed, or no serial: left out */
	assert_string_equal(set.table[0], "users");
	assert_int_equal(set.serial[0], 3);
	assert_string_equal(set.table[1], "domains");
	assert_int_equal(set.serial[1], -5);
}

/* Found by fuzz_change_set (regress-duplicate-table): one serial per table. */
static void test_read_duplicate_rows(void **state)
{
	static const struct crow rows[] = { { "users", 3, 0 }, { "users", 4, 0 }, { "users", 5, 0 } };
	struct change_set set;

	(void)state;
	assert_int_equal(read_rows(&set, CQL_TYPE_BIGINT, "serial", rows, 3, followed, NFOLLOWED), 0);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.serial[0], 3);
}

static void test_read_refuses_other_columns(void **state)
{
	static const struct crow rows[] = { { "users", 3, 0 } };
	struct change_set set;

	(void)state;
	assert_int_equal(read_rows(&set, CQL_TYPE_BIGINT, "counter", rows, 1, followed, NFOLLOWED), -1);
	assert_int_equal(read_rows(&set, CQL_TYPE_BLOB, "serial", rows, 1, followed, NFOLLOWED), -1);
	assert_int_equal(set.n, 0);
}

/* set_of - a change set of (table, serial) pairs */
static void set_of(struct change_set *set, const char *t1, int64_t s1, const char *t2, int64_t s2)
{
	memset(set, 0, sizeof(*set));
	if (t1) {
		strcpy(set->table[set->n], t1);
		set->serial[set->n++] = s1;
	}
	if (t2) {
		strcpy(set->table[set->n], t2);
		set->serial[set->n++] = s2;
	}
}

static void test_changed(void **state)
{
	struct change_set a, b;

	(void)state;
	set_of(&a, "users", 1, "domains", 7);
	set_of(&b, "domains", 7, "users", 2);		/* order does not matter */
	assert_true(change_set_changed(&a, &b, "users"));
	assert_false(change_set_changed(&a, &b, "domains"));
	assert_false(change_set_changed(&a, &b, "access_maps"));	/* in neither */
	set_of(&b, "users", 1, "access_maps", 1);	/* domains went, access_maps came */
	assert_false(change_set_changed(&a, &b, "users"));
	assert_true(change_set_changed(&a, &b, "domains"));
	assert_true(change_set_changed(&a, &b, "access_maps"));
	/* A serial set back to an older value is a change too. */
	set_of(&b, "users", 0, "domains", 7);
	assert_true(change_set_changed(&a, &b, "users"));
}

/* A changed map is dropped at once and again at the next poll, then not. */
static void test_plan_drops_twice(void **state)
{
	static const char *const tables[] = { "domains", NULL, "users", "users" };
	struct change_set p1, p2;
	uint64_t changed, drop;

	(void)state;
	set_of(&p1, "users", 1, "domains", 7);
	set_of(&p2, "users", 2, "domains", 7);
	/* Maps 2 and 3 read users; map 1's query names no table. */
	drop = change_set_plan(&p1, &p2, tables, 4, 0, &changed);
	assert_int_equal(changed, 0xc);
	assert_int_equal(drop, 0xc);
	/* The poll after: nothing new, the same maps dropped once more. */
	drop = change_set_plan(&p2, &p2, tables, 4, changed, &changed);
	assert_int_equal(changed, 0);
	assert_int_equal(drop, 0xc);
	drop = change_set_plan(&p2, &p2, tables, 4, changed, &changed);
	assert_int_equal(drop, 0);
	/* A change of domains while users is dropped again: both. */
	set_of(&p1, "users", 2, "domains", 8);
	drop = change_set_plan(&p2, &p1, tables, 4, 0xc, &changed);
	assert_int_equal(changed, 0x1);
	assert_int_equal(drop, 0xd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_of_query),
		cmocka_unit_test(test_default_maps),
		cmocka_unit_test(test_read_keeps_followed_tables),
		cmocka_unit_test(test_read_duplicate_rows),
		cmocka_unit_test(test_read_refuses_other_columns),
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_plan_drops_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
