/*
 * test_cql_lang - unit tests of cqld's CQL tokenizer and parser
 *
 * DESCRIPTION
 *	Parses the seed schema verbatim, every statement form cqld accepts,
 *	literals and bind markers, and checks that bad input gives Syntax or
 *	Invalid errors with a position, never a crash. Build with
 *	tests/cqld/cql_lang.c (and nothing else of cqld).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cql/cql_proto.h"
#include "cql_lang.h"

static const char seed_schema[] =
	"CREATE KEYSPACE IF NOT EXISTS mailion WITH replication = "
	"{'class': 'SingleRegionStrategy'};\n"
	"CREATE TABLE mailion.domains (\n"
	"domain text,\n"
	"active boolean,\n"
	"PRIMARY KEY (domain)\n"
	") WITH CUSTOM_PROPERTIES = {'capacity_mode': "
	"{'throughput_mode': 'PAY_PER_REQUEST'}};\n";

/* parse_ok - parse one statement that must succeed */
static struct cl_stmt *parse_ok(const char *q)
{
	struct cl_stmt *st = malloc(sizeof(*st));
	struct cl_error err;
	int rc;

	assert_non_null(st);
	rc = cl_parse(q, strlen(q), st, &err);
	if (rc != 0)
		fail_msg("parse of \"%s\" failed: %s", q, err.msg);
	return st;
}

/* done - free a parsed statement */
static void done(struct cl_stmt *st)
{
	cl_stmt_free(st);
	free(st);
}

/* parse_err - parse one statement that must fail with code */
static void parse_err(const char *q, int code, struct cl_error *err)
{
	struct cl_stmt *st = malloc(sizeof(*st));
	int rc;

	assert_non_null(st);
	rc = cl_parse(q, strlen(q), st, err);
	if (rc == 0) {
		cl_stmt_free(st);
		free(st);
		fail_msg("parse of \"%s\" unexpectedly succeeded", q);
	}
	free(st);
	if (err->code != code)
		fail_msg("\"%s\": code 0x%04x (%s), want 0x%04x", q, err->code,
			 err->msg, code);
	assert_true(err->msg[0] != 0);
}

/* test_seed_schema - the seed schema loads as a script */
static void test_seed_schema(void **state)
{
	struct cl_cursor cur = {0};
	struct cl_stmt *st = malloc(sizeof(*st));
	struct cl_error err;

	(void)state;
	assert_int_equal(cl_parse_next(seed_schema, strlen(seed_schema), &cur,
				       st, &err), 1);
	assert_int_equal(st->kind, CL_CREATE_KEYSPACE);
	assert_string_equal(st->ks, "mailion");
	assert_true(st->if_not_exists);
	assert_int_equal(st->replication.kind, CL_TERM_MAP);
	assert_int_equal(st->replication.nelems, 2);
	assert_string_equal(st->replication.elems[0].str, "class");
	assert_string_equal(st->replication.elems[1].str,
			    "SingleRegionStrategy");
	assert_int_equal(st->line, 1);
	cl_stmt_free(st);

	assert_int_equal(cl_parse_next(seed_schema, strlen(seed_schema), &cur,
				       st, &err), 1);
	assert_int_equal(st->kind, CL_CREATE_TABLE);
	assert_string_equal(st->ks, "mailion");
	assert_string_equal(st->table, "domains");
	assert_int_equal(st->line, 2);
	assert_int_equal(st->ncols, 2);
	assert_string_equal(st->cols[0].name, "domain");
	assert_int_equal(st->cols[0].type.id, CQL_TYPE_VARCHAR);
	assert_string_equal(st->cols[1].name, "active");
	assert_int_equal(st->cols[1].type.id, CQL_TYPE_BOOLEAN);
	assert_int_equal(st->nkey, 1);
	assert_int_equal(st->npartition, 1);
	assert_string_equal(st->key[0], "domain");
	cl_stmt_free(st);

	assert_int_equal(cl_parse_next(seed_schema, strlen(seed_schema), &cur,
				       st, &err), 0);
	free(st);
}

/* test_replication_forms - other replication maps and options */
static void test_replication_forms(void **state)
{
	struct cl_stmt *st;

	(void)state;
	st = parse_ok("create keyspace ks WITH replication = {'class': "
		      "'NetworkTopologyStrategy', 'dc1': 3, 'dc2': '2'} "
		      "AND durable_writes = false");
	assert_int_equal(st->replication.nelems, 6);
	assert_int_equal(st->replication.elems[3].kind, CL_TERM_INT);
	assert_int_equal(st->durable_writes, 0);
	done(st);
	st = parse_ok("CREATE SCHEMA ks WITH REPLICATION = {'class' : "
		      "'SimpleStrategy', 'replication_factor' : 1};");
	assert_int_equal(st->kind, CL_CREATE_KEYSPACE);
	assert_int_equal(st->replication.nelems, 4);
	done(st);
}

/* test_create_table_forms - key forms, types and ignored options */
static void test_create_table_forms(void **state)
{
	struct cl_stmt *st;

	(void)state;
	st = parse_ok("CREATE TABLE IF NOT EXISTS t (k text PRIMARY KEY, "
		      "v int)");
	assert_int_equal(st->nkey, 1);
	assert_string_equal(st->key[0], "k");
	assert_true(st->if_not_exists);
	assert_string_equal(st->ks, "");
	done(st);

	st = parse_ok("CREATE TABLE ks.\"MixedCase\" (\"Pk1\" text, pk2 int, "
		      "ck1 bigint, ck2 smallint, s set<text>, l list<varchar>, "
		      "f frozen<set<text>>, m map<text, int>, t tinyint, "
		      "a ascii, c counter, "
		      "PRIMARY KEY ((\"Pk1\", pk2), ck1, ck2)) "
		      "WITH CLUSTERING ORDER BY (ck1 DESC, ck2 ASC) "
		      "AND compaction = {'class': 'LeveledCompactionStrategy', "
		      "'nested': {'x': 1.5}} AND bloom_filter_fp_chance = 0.01 "
		      "AND comment = 'it''s' AND COMPACT STORAGE");
	assert_string_equal(st->table, "MixedCase");
	assert_int_equal(st->nkey, 4);
	assert_int_equal(st->npartition, 2);
	assert_string_equal(st->key[0], "Pk1");
	assert_string_equal(st->key[2], "ck1");
	assert_int_equal(st->key_desc[2], 1);
	assert_int_equal(st->key_desc[3], 0);
	assert_int_equal(st->cols[4].type.id, CQL_TYPE_SET);
	assert_int_equal(st->cols[4].type.elem[0], CQL_TYPE_VARCHAR);
	assert_int_equal(st->cols[5].type.id, CQL_TYPE_LIST);
	assert_int_equal(st->cols[6].type.id, CQL_TYPE_SET);
	assert_true(st->cols[6].type.frozen);
	assert_int_equal(st->cols[7].type.id, CQL_TYPE_MAP);
	assert_int_equal(st->cols[7].type.elem[1], CQL_TYPE_INT);
	assert_int_equal(st->cols[8].type.id, CQL_TYPE_TINYINT);
	assert_int_equal(st->cols[9].type.id, CQL_TYPE_ASCII);
	assert_int_equal(st->cols[10].type.id, CQL_TYPE_COUNTER);
	done(st);

	/* keywords any case; identifiers folded */
	st = parse_ok("cReAtE tAbLe KS.Tab (Col TEXT, primary key (COL))");
	assert_string_equal(st->ks, "ks");
	assert_string_equal(st->table, "tab");
	assert_string_equal(st->cols[0].name, "col");
	done(st);
}

/* test_dml - INSERT, UPDATE, DELETE, SELECT and friends */
static void test_dml(void **state)
{
	struct cl_stmt *st;

	(void)state;
	st = parse_ok("INSERT INTO ks.t (a, b, c, d, e, f) VALUES "
		      "('x''y', -42, true, null, {'b', 'a'}, ['q']) "
		      "IF NOT EXISTS USING TTL 60 AND TIMESTAMP 123");
	assert_int_equal(st->kind, CL_INSERT);
	assert_int_equal(st->nassign, 6);
	assert_int_equal(st->assign[0].value.kind, CL_TERM_STRING);
	assert_string_equal(st->assign[0].value.str, "x'y");
	assert_int_equal(st->assign[1].value.kind, CL_TERM_INT);
	assert_int_equal(st->assign[1].value.ival, -42);
	assert_int_equal(st->assign[2].value.kind, CL_TERM_BOOL);
	assert_int_equal(st->assign[2].value.ival, 1);
	assert_int_equal(st->assign[3].value.kind, CL_TERM_NULL);
	assert_int_equal(st->assign[4].value.kind, CL_TERM_SET);
	assert_int_equal(st->assign[4].value.nelems, 2);
	assert_int_equal(st->assign[5].value.kind, CL_TERM_LIST);
	assert_true(st->if_not_exists);
	assert_int_equal(st->ttl.kind, CL_TERM_INT);
	assert_int_equal(st->timestamp.ival, 123);
	done(st);

	st = parse_ok("UPDATE t USING TTL ? SET a = ?, b = 'x' WHERE k = ? "
		      "AND c = 5");
	assert_int_equal(st->kind, CL_UPDATE);
	assert_int_equal(st->nbind, 3);
	assert_int_equal(st->binds[0].role, CL_BIND_TTL);
	assert_int_equal(st->binds[1].role, CL_BIND_COLUMN);
	assert_string_equal(st->binds[1].col, "a");
	assert_string_equal(st->binds[2].col, "k");
	assert_int_equal(st->nwhere, 2);
	assert_int_equal(st->where[1].op, CL_OP_EQ);
	done(st);

	st = parse_ok("DELETE FROM ks.t WHERE k = 'a' AND c = 1;");
	assert_int_equal(st->kind, CL_DELETE);
	assert_int_equal(st->nwhere, 2);
	done(st);

	st = parse_ok("SELECT a, b AS bee, count(*) FROM t WHERE k = ? AND "
		      "c >= 3 AND c < ? ORDER BY c DESC LIMIT ? ALLOW FILTERING");
	assert_int_equal(st->kind, CL_SELECT);
	assert_int_equal(st->nsel, 3);
	assert_string_equal(st->sel[1].alias, "bee");
	assert_true(st->sel[2].is_count);
	assert_int_equal(st->where[1].op, CL_OP_GE);
	assert_int_equal(st->where[2].op, CL_OP_LT);
	assert_string_equal(st->order_col, "c");
	assert_true(st->order_desc);
	assert_int_equal(st->limit.kind, CL_TERM_BIND);
	assert_int_equal(st->nbind, 3);
	assert_int_equal(st->binds[2].role, CL_BIND_LIMIT);
	assert_true(st->allow_filtering);
	done(st);

	/* the driver's own system queries; "key" is not reserved */
	st = parse_ok("SELECT * FROM system.local WHERE key='local'");
	assert_true(st->select_star);
	assert_string_equal(st->where[0].col, "key");
	done(st);
	st = parse_ok("SELECT peer, host_id, rpc_address, schema_version "
		      "FROM system.peers");
	assert_int_equal(st->nsel, 4);
	done(st);
	st = parse_ok("select count from t");	/* a column called count */
	assert_string_equal(st->sel[0].col, "count");
	assert_false(st->sel[0].is_count);
	done(st);

	st = parse_ok("USE \"Quoted\"");
	assert_int_equal(st->kind, CL_USE);
	assert_string_equal(st->ks, "Quoted");
	done(st);
	st = parse_ok("TRUNCATE TABLE ks.t");
	assert_int_equal(st->kind, CL_TRUNCATE);
	done(st);
	st = parse_ok("DROP TABLE IF EXISTS ks.t");
	assert_int_equal(st->kind, CL_DROP_TABLE);
	assert_true(st->if_exists);
	done(st);
	st = parse_ok("DROP KEYSPACE ks");
	assert_int_equal(st->kind, CL_DROP_KEYSPACE);
	done(st);
}

/* test_literals - numbers, uuids, blobs, maps, dollar strings */
static void test_literals(void **state)
{
	struct cl_stmt *st;

	(void)state;
	st = parse_ok("INSERT INTO t (a, b, c, d, e, f) VALUES (1.5e3, "
		      "123e4567-e89b-12d3-a456-426614174000, 0xCAFE, "
		      "{'k': 1, 'j': 2}, $$it's$$, 9223372036854775807)");
	assert_int_equal(st->assign[0].value.kind, CL_TERM_FLOAT);
	assert_int_equal(st->assign[1].value.kind, CL_TERM_UUID);
	assert_int_equal(st->assign[2].value.kind, CL_TERM_HEX);
	assert_int_equal(st->assign[3].value.kind, CL_TERM_MAP);
	assert_int_equal(st->assign[3].value.nelems, 4);
	assert_string_equal(st->assign[4].value.str, "it's");
	assert_true(st->assign[5].value.ival_ok);
	done(st);
	st = parse_ok("INSERT INTO t (a) VALUES (99999999999999999999)");
	assert_false(st->assign[0].value.ival_ok);	/* too big: flagged */
	done(st);
}

/* test_comments - all three comment forms and line counting */
static void test_comments(void **state)
{
	static const char script[] =
		"-- leading comment\n"
		"// another\n"
		"/* block\n comment */ ;;\n"
		"SELECT * FROM t; /* trailing */\n"
		"\n"
		"INSERT INTO t (a) VALUES ('--not a comment');\n";
	struct cl_cursor cur = {0};
	struct cl_stmt *st = malloc(sizeof(*st));
	struct cl_error err;

	(void)state;
	assert_int_equal(cl_parse_next(script, strlen(script), &cur, st,
				       &err), 1);
	assert_int_equal(st->kind, CL_SELECT);
	assert_int_equal(st->line, 5);
	cl_stmt_free(st);
	assert_int_equal(cl_parse_next(script, strlen(script), &cur, st,
				       &err), 1);
	assert_int_equal(st->kind, CL_INSERT);
	assert_int_equal(st->line, 7);
	assert_string_equal(st->assign[0].value.str, "--not a comment");
	cl_stmt_free(st);
	assert_int_equal(cl_parse_next(script, strlen(script), &cur, st,
				       &err), 0);
	free(st);
}

/* test_script_error_line - errors in scripts name the right line */
static void test_script_error_line(void **state)
{
	static const char script[] =
		"CREATE KEYSPACE a WITH replication = {'class': 'x'};\n"
		"\n"
		"CREATE TABLE a.t (k text PRIMARY KEY,\n"
		"  v blah);\n";
	struct cl_cursor cur = {0};
	struct cl_stmt *st = malloc(sizeof(*st));
	struct cl_error err;

	(void)state;
	assert_int_equal(cl_parse_next(script, strlen(script), &cur, st,
				       &err), 1);
	cl_stmt_free(st);
	assert_int_equal(cl_parse_next(script, strlen(script), &cur, st,
				       &err), -1);
	assert_int_equal(err.code, CL_ERR_INVALID);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.msg, "blah"));
	free(st);
}

/* test_errors - syntax and invalid errors, with positions */
static void test_errors(void **state)
{
	struct cl_error err;

	(void)state;
	parse_err("SELEKT * FROM t", CL_ERR_SYNTAX, &err);
	assert_string_equal(err.msg, "line 1:0 no viable alternative at "
			    "input 'SELEKT'");
	parse_err("SELECT * FORM t", CL_ERR_SYNTAX, &err);
	assert_int_equal(err.col, 9);
	assert_non_null(strstr(err.msg, "'FORM'"));
	parse_err("SELECT * FROM", CL_ERR_SYNTAX, &err);
	assert_non_null(strstr(err.msg, "<EOF>"));
	parse_err("SELECT * FROM t WHERE", CL_ERR_SYNTAX, &err);
	parse_err("SELECT * FROM t WHERE a = 'unterminated", CL_ERR_SYNTAX,
		  &err);
	parse_err("SELECT * FROM t /* open comment", CL_ERR_SYNTAX, &err);
	parse_err("SELECT * FROM t; SELECT * FROM u", CL_ERR_SYNTAX, &err);
	parse_err("INSERT INTO t (a, b) VALUES (1)", CL_ERR_INVALID, &err);
	parse_err("INSERT INTO t (a) VALUES (1, 2)", CL_ERR_INVALID, &err);
	parse_err("INSERT INTO t (a, a) VALUES (1, 2)", CL_ERR_INVALID, &err);
	parse_err("CREATE TABLE t (a text)", CL_ERR_INVALID, &err);
	parse_err("CREATE TABLE t (a text PRIMARY KEY, b wibble)",
		  CL_ERR_INVALID, &err);
	assert_string_equal(err.msg, "Unknown type wibble");
	parse_err("CREATE TABLE t (a text, PRIMARY KEY (b))", CL_ERR_INVALID,
		  &err);
	parse_err("CREATE TABLE t (a text PRIMARY KEY, a int)", CL_ERR_INVALID,
		  &err);
	parse_err("CREATE TABLE t (a set<text> PRIMARY KEY)", CL_ERR_INVALID,
		  &err);
	parse_err("CREATE TABLE t (a text, b int, PRIMARY KEY (a, b)) WITH "
		  "CLUSTERING ORDER BY (x DESC)", CL_ERR_INVALID, &err);
	parse_err("SELECT * FROM t WHERE a IN (1, 2)", CL_ERR_INVALID, &err);
	parse_err("UPDATE t SET c = c + 1 WHERE k = 1", CL_ERR_INVALID, &err);
	parse_err("INSERT INTO t (a) VALUES ({?})", CL_ERR_INVALID, &err);
	parse_err("", CL_ERR_SYNTAX, &err);
	parse_err("   ;  ", CL_ERR_SYNTAX, &err);
	parse_err("\"\"", CL_ERR_SYNTAX, &err);
	parse_err("SELECT * FROM \"\" ", CL_ERR_SYNTAX, &err);
	parse_err("SELECT * FROM t LIMIT 'x'", CL_ERR_INVALID, &err);
	parse_err("SELECT * FROM t WHERE k = 12abc", CL_ERR_SYNTAX, &err);
	parse_err("SELECT * FROM t WHERE k = \x01", CL_ERR_SYNTAX, &err);
	/* a bad option name must not free an unset option value */
	parse_err("CREATE TABLE t (a text PRIMARY KEY) WITH = 1",
		  CL_ERR_SYNTAX, &err);
	parse_err("CREATE TABLE t (a text PRIMARY KEY) WITH x = 1 AND ;",
		  CL_ERR_SYNTAX, &err);
	parse_err("CREATE KEYSPACE k WITH 'x' = 1", CL_ERR_SYNTAX, &err);
}

/* test_limits - over-long names and deep nesting fail cleanly */
static void test_limits(void **state)
{
	char q[4096];
	struct cl_error err;
	size_t i, n;

	(void)state;
	n = (size_t)snprintf(q, sizeof(q), "SELECT * FROM ");
	for (i = 0; i < 300; i++)
		q[n++] = 'a';
	q[n] = 0;
	parse_err(q, CL_ERR_INVALID, &err);

	n = (size_t)snprintf(q, sizeof(q), "INSERT INTO t (a) VALUES (");
	for (i = 0; i < 50; i++)
		q[n++] = '[';
	q[n] = 0;
	parse_err(q, CL_ERR_INVALID, &err);
	assert_non_null(strstr(err.msg, "nested"));
}

/* test_garbage - arbitrary bytes never crash the parser */
static void test_garbage(void **state)
{
	static const char alphabet[] = "SELECT*FROMWHERE(),;.=?<>{}[]:'\"-/ \n"
				       "0123456789abcdefxINSERTVALUES$";
	struct cl_stmt *st = malloc(sizeof(*st));
	struct cl_error err;
	char q[64];
	unsigned seed = 12345;
	int i, k;

	(void)state;
	for (i = 0; i < 20000; i++) {
		size_t n = (size_t)(i % 63);

		for (k = 0; k < (int)n; k++) {
			seed = seed * 1103515245u + 12345u;
			q[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		q[n] = 0;
		if (cl_parse(q, n, st, &err) == 0)
			cl_stmt_free(st);
		else
			assert_true(err.code == CL_ERR_SYNTAX ||
				    err.code == CL_ERR_INVALID);
	}
	free(st);
}

/* main - run the tests */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_schema),
		cmocka_unit_test(test_replication_forms),
		cmocka_unit_test(test_create_table_forms),
		cmocka_unit_test(test_dml),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_script_error_line),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
