/*
 * lookup_backend - the database as the lookup engine sees it
 *
 * SYNOPSIS
 *	#include "lookup_backend.h"
 *
 * DESCRIPTION
 *	The engine reads a map's row for one key through a static const
 *	table of functions, as OpenSMTPD's table_backend does: the CQL
 *	session implements it (lookup_backend_cql.c, wired in main.c), and
 *	the engine's unit test implements a fake that answers on demand.
 *
 *	A read ends with a struct lookup_read: the class of
 *	cql_errclass.h (OK, RETRY or CONFIG) with a short reason and a
 *	metrics label, and on OK the rows (every page), or none when the
 *	answer was not a Rows result. What that means for the reply (OK,
 *	NOTFOUND, TEMP or PERM) is the engine's decision, not the backend's.
 */
#ifndef PAC_LOOKUP_BACKEND_H
#define PAC_LOOKUP_BACKEND_H

#include <stddef.h>

#include "cql/cql_errclass.h"
#include "cql/cql_proto.h"

struct cql_stmt;

struct lookup_read {
	struct cql_failure fail;	/* fail.cls OK: the database answered */
	const struct cql_rows *rows;	/* OK: every page; NULL: not a Rows result */
	const char *detail;		/* failure detail for the log ("" if none) */
	int timed;			/* a request was sent: observe its latency */
};

typedef void (*lookup_read_fn)(const struct lookup_read *res, void *arg);

struct lookup_backend_ops {
	/*
	 * read - run a map's statement for one key. 0: cb is called exactly
	 * once, later (never before read returns). -1: nothing was sent, cb
	 * is not called, and *why says why (class, reason, label, detail).
	 */
	int (*read)(void *ctx, struct cql_stmt *stmt, const char *key, size_t len,
		    lookup_read_fn cb, void *arg, struct lookup_read *why);
	/* is_ready - 1 when a read can be sent now (refresh-ahead asks) */
	int (*is_ready)(void *ctx);
	/* state - one line describing the backend, for the logs */
	const char *(*state)(void *ctx);
};

struct lookup_backend {
	const struct lookup_backend_ops *ops;
	void *ctx;
};

/* lookup_backend_cql - the CQL client's table; ctx is a struct cql_failover */
extern const struct lookup_backend_ops lookup_backend_cql;

#endif
