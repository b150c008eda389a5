/*
 * test_cqld_system - cqld's system tables as an Amazon Keyspaces endpoint
 *
 * SYNOPSIS
 *	build/tests/test_cqld_system
 *
 * DESCRIPTION
 *	exec_system.c with a node made as cqld --keyspaces makes it (three
 *	addresses, rack and data center the region, no system.peers_v2):
 *	system.local reports the address a client reached and system.peers
 *	the others, as ex_view() switches between them; system.peers_v2 is
 *	an unconfigured table. Results are decoded with the daemon's codec.
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
#include "exec.h"
#include "store.h"

#define NADDR	3	/* the endpoint's addresses: 127.0.0.1-3 */
#define PORT	9142

static struct store store;
static struct ex_peer peers[NADDR];
static struct ex_node node;

/* addr4 - 127.0.0.n */
static void addr4(uint8_t *a, int n)
{
	a[0] = 127;
	a[1] = 0;
	a[2] = 0;
	a[3] = (uint8_t)n;
}

/* setup - the store of a three-address Keyspaces endpoint */
static int setup(void **state)
{
	int i;

	(void)state;
	memset(&node, 0, sizeof(node));
	for (i = 0; i < NADDR; i++) {
		addr4(peers[i].addr, i + 1);
		peers[i].addrlen = 4;
		peers[i].port = PORT;
		snprintf(peers[i].dc, sizeof(peers[i].dc), "us-east-1");
	}
	addr4(node.addr, 1);
	node.addrlen = 4;
	node.port = PORT;
	node.max_protocol = 4;
	node.dc = "us-east-1";
	node.rack = "us-east-1";
	node.release_version = "3.11.2";
	node.no_peers_v2 = 1;
	node.peers = peers;
	node.npeers = NADDR;
	st_init(&store);
	return ex_init(&store, &node);
}

static int teardown(void **state)
{
	(void)state;
	st_free(&store);
	return 0;
}

/* run - one statement; its RESULT body into out (0) or err (-1) */
static int run(const char *cql, struct buf *out, struct cql_error *err)
{
	struct cl_stmt *st = calloc(1, sizeof(*st));
	struct cl_error perr;
	struct ex_params pp = { .version = 4,
				.consistency = CQL_CONSISTENCY_LOCAL_ONE };
	char ks[CL_NAME_MAX] = "";
	int rc;

	assert_non_null(st);
	assert_int_equal(cl_parse(cql, strlen(cql), st, &perr), 0);
	buf_reset(out);
	rc = ex_execute(&store, ks, st, &pp, out, err);
	cl_stmt_free(st);
	free(st);
	return rc;
}

/* last_octets - the last byte of column 0 (an inet) of every row, as digits */
static void last_octets(const char *cql, char *got, size_t n)
{
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_error err;
	struct cql_rows rows;
	struct cql_rd rd;
	struct buf out;
	size_t k = 0;

	buf_init(&out);
	assert_int_equal(run(cql, &out, &err), 0);
	cql_rd_init(&rd, out.data, out.len);
	assert_int_equal(cql_rd_int(&rd), CQL_RESULT_ROWS);
	assert_int_equal(cql_decode_rows(&rd, NULL, &rows), 0);
	while (cql_rows_next(&rows, cells) == 1 && k + 1 < n) {
		assert_int_equal(cells[0].len, 4);
		got[k++] = (char)('0' + cells[0].p[3]);
	}
	got[k] = 0;
	buf_free(&out);
}

/* local_text - column col (text) of system.local */
static void local_text(const char *col, char *got, size_t n)
{
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_error err;
	struct cql_rows rows;
	struct cql_rd rd;
	struct buf out;
	char cql[128];

	snprintf(cql, sizeof(cql), "SELECT %s FROM system.local", col);
	buf_init(&out);
	assert_int_equal(run(cql, &out, &err), 0);
	cql_rd_init(&rd, out.data, out.len);
	assert_int_equal(cql_rd_int(&rd), CQL_RESULT_ROWS);
	assert_int_equal(cql_decode_rows(&rd, NULL, &rows), 0);
	assert_int_equal(cql_rows_next(&rows, cells), 1);
	assert_int_equal(cells[0].kind, CQL_CELL_TEXT);
	snprintf(got, n, "%.*s", (int)cells[0].len, (const char *)cells[0].p);
	buf_free(&out);
}

/* Each address sees itself as the local node and the others as peers. */
static void test_view_follows_the_address_reached(void **state)
{
	uint8_t a[4];
	char got[16];

	(void)state;
	last_octets("SELECT rpc_address FROM system.local", got, sizeof(got));
	assert_string_equal(got, "1");
	last_octets("SELECT rpc_address FROM system.peers", got, sizeof(got));
	assert_int_equal(strlen(got), 2);
	assert_non_null(strchr(got, '2'));
	assert_non_null(strchr(got, '3'));

	addr4(a, 3);
	assert_int_equal(ex_view(&store, a, 4), 0);
	last_octets("SELECT rpc_address FROM system.local", got, sizeof(got));
	assert_string_equal(got, "3");
	last_octets("SELECT peer FROM system.peers", got, sizeof(got));
	assert_int_equal(strlen(got), 2);
	assert_non_null(strchr(got, '1'));
	assert_non_null(strchr(got, '2'));
	/* the same view again changes nothing */
	assert_int_equal(ex_view(&store, a, 4), 0);
	last_octets("SELECT rpc_address FROM system.local", got, sizeof(got));
	assert_string_equal(got, "3");
	/* back to the first address */
	addr4(a, 1);
	assert_int_equal(ex_view(&store, a, 4), 0);
	last_octets("SELECT rpc_address FROM system.local", got, sizeof(got));
	assert_string_equal(got, "1");
}

/* The region is data center and rack; the release is Keyspaces'. */
static void test_local_describes_the_region(void **state)
{
	char got[64];

	(void)state;
	local_text("data_center", got, sizeof(got));
	assert_string_equal(got, "us-east-1");
	local_text("rack", got, sizeof(got));
	assert_string_equal(got, "us-east-1");
	local_text("release_version", got, sizeof(got));
	assert_string_equal(got, "3.11.2");
}

/* system.peers_v2 does not exist, as on Keyspaces. */
static void test_no_peers_v2(void **state)
{
	struct cql_error err;
	struct buf out;

	(void)state;
	buf_init(&out);
	assert_int_equal(run("SELECT * FROM system.peers_v2", &out, &err), -1);
	assert_int_equal(err.code, CQL_ERR_INVALID);
	assert_string_equal(err.message, "unconfigured table peers_v2");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_view_follows_the_address_reached,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_describes_the_region,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_peers_v2, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
