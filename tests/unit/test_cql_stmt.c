/*
 * test_cql_stmt - which statements a reload keeps: a map's replaced query
 * is retired, an auxiliary one (the change table's poll) never is
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cql/cql_stmt.h"

#define Q_MAP	"SELECT domain, active FROM ks.domains WHERE domain = ?"
#define Q_NEW	"SELECT domain FROM ks.domains2 WHERE domain = ?"
#define Q_AUX	"SELECT table_name, serial FROM ks.pac_changes"

static void test_keep_only_spares_aux(void **state)
{
	static struct cql_pool pool;	/* no node: nothing is sent */
	struct cql_stmts ss;
	struct cql_stmt *map, *aux, *next;

	(void)state;
	cql_stmts_init(&ss, &pool);
	assert_non_null(map = cql_stmts_add(&ss, Q_MAP));
	assert_non_null(aux = cql_stmts_add_aux(&ss, Q_AUX));
	assert_true(aux->aux);
	assert_false(map->aux);
	/* A reload replaced the map's query: the old one retires, the poll's stays. */
	assert_non_null(next = cql_stmts_add(&ss, Q_NEW));
	cql_stmts_keep_only(&ss, &next, 1);
	assert_true(map->retired);
	assert_false(next->retired);
	assert_false(aux->retired);
	/* Even a reload that keeps nothing leaves it. */
	cql_stmts_keep_only(&ss, NULL, 0);
	assert_false(aux->retired);
	/* The same text again is the same statement, still auxiliary. */
	assert_ptr_equal(cql_stmts_add(&ss, Q_AUX), aux);
	assert_true(aux->aux);
	cql_stmts_free(&ss);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_only_spares_aux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
