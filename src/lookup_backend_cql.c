/*
 * lookup_backend_cql - the CQL session as a lookup backend
 *
 * SYNOPSIS
 *	#include "lookup_backend.h"
 *
 *	struct lookup_backend be = { &lookup_backend_cql, failover };
 *
 * DESCRIPTION
 *	A thin adapter: a read is cql_failover_execute (the CQL session of
 *	the host group that serves, cql_failover.h) with the key as the
 *	one bound value, and its struct cql_result becomes a struct
 *	lookup_read, classified by cql_errclass. The statement's prepare
 *	error, when it never prepared, is the failure's detail.
 */
#include <stdlib.h>

#include "cql/cql_failover.h"
#include "lookup_backend.h"

/* A read in flight: whom to tell. */
struct cql_read {
	lookup_read_fn cb;
	void *arg;
};

/* classify - a CQL status (and error) as a lookup_read */
static void classify(enum cql_status st, const struct cql_error *err,
		     struct lookup_read *res)
{
	cql_errclass_classify(st, err, &res->fail);
	res->rows = NULL;
	res->detail = err ? err->message : "";
	res->timed = st != CQL_STATUS_NOT_CONNECTED;
}

/* read_done - the session answered: hand the engine its lookup_read */
static void read_done(const struct cql_result *r, void *arg)
{
	struct cql_read *rd = arg;
	struct lookup_read res;

	classify(r->status, r->err, &res);
	if (r->status == CQL_STATUS_OK && r->has_rows)
		res.rows = &r->rows;
	rd->cb(&res, rd->arg);
	free(rd);
}

/* cql_read - run the map's statement for one key */
static int cql_read(void *ctx, struct cql_stmt *stmt, const char *key, size_t len,
		    lookup_read_fn cb, void *arg, struct lookup_read *why)
{
	struct cql_read *rd = malloc(sizeof(*rd));
	const struct cql_error *err = NULL;
	struct cql_value val;
	enum cql_status st;

	if (rd == NULL) {
		classify(CQL_STATUS_BUSY, NULL, why);
		return -1;
	}
	rd->cb = cb;
	rd->arg = arg;
	val.p = key;
	val.len = (int32_t)len;
	if (cql_failover_execute(ctx, stmt, &val, 1, read_done, rd, &st) != 0) {
		free(rd);
		if (st == CQL_STATUS_NOT_PREPARED)
			(void)cql_failover_stmt_state(ctx, stmt, &err);
		classify(st, err, why);
		return -1;
	}
	return 0;
}

/* cql_is_ready - a connection is up */
static int cql_is_ready(void *ctx)
{
	return cql_failover_is_ready(ctx);
}

/* cql_state - the session's one-line state */
static const char *cql_state(void *ctx)
{
	return cql_failover_state(ctx);
}

const struct lookup_backend_ops lookup_backend_cql = {
	.read = cql_read,
	.is_ready = cql_is_ready,
	.state = cql_state,
};
