/*
 * cql_stmt - the prepared statements of a CQL session
 *
 * SYNOPSIS
 *	#include "cql/cql_stmt.h"
 *
 * DESCRIPTION
 *	A statement carries one prepared id: Cassandra derives it from the
 *	query text and keyspace, so it is the same on every node. Each one
 *	is prepared on every new connection before the connection serves
 *	(cql_stmts_prepare_conn, the pool's prepare hook), on every usable
 *	connection when it is registered, again now and then while the
 *	server refuses it, and on one connection when a node answers
 *	Unprepared: that PREPARE hands its outcome to a completion callback,
 *	so this file knows nothing of the reads that wait for it.
 *
 *	A server refusing the query (Invalid, Syntax) marks it FAILED: a
 *	configuration error. A node refusing a statement other nodes
 *	prepared is schema disagreement: that node's new connection closes
 *	and backs off, the statement stays READY.
 */
#ifndef PAC_CQL_STMT_H
#define PAC_CQL_STMT_H

#include <stddef.h>
#include <stdint.h>

#include "cql_pool.h"
#include "cql_session_types.h"

struct event;

struct cql_stmt {
	struct cql_stmt *next;
	char *cql;
	size_t len;
	enum cql_stmt_state state;
	uint8_t id[CQL_PREPARED_ID_MAX];
	size_t idlen;
	int preparing;			/* a retry of a refused statement runs */
	int retired;			/* no map uses it: not prepared again */
	int aux;			/* cql_stmts_add_aux: never retired, never fatal */
	struct cql_error err;
	int has_meta;			/* result metadata known (prepared) */
	struct cql_rows_meta meta;	/* of the rows it returns */
};

struct cql_stmts {
	struct cql_pool *pool;
	struct cql_stmt *head;
	struct event *reprepare_timer;
};

/*
 * cql_prepare_fn - a PREPARE sent for a caller is answered: res->status
 * is CQL_STATUS_OK when the statement is ready; current says pc still
 * holds the connection it was sent on
 */
typedef void (*cql_prepare_fn)(const struct cql_result *res, struct cql_pconn *pc,
			       int current, void *arg);

void cql_stmts_init(struct cql_stmts *ss, struct cql_pool *pool);
/* cql_stmts_start - retry refused statements now and then */
void cql_stmts_start(struct cql_stmts *ss);
void cql_stmts_free(struct cql_stmts *ss);
/* cql_stmts_add - register a statement (or bring back the one with this text) */
struct cql_stmt *cql_stmts_add(struct cql_stmts *ss, const char *cql);
/*
 * cql_stmts_add_aux - a statement the daemon can do without (the change
 * table's poll): prepared like the others, but never retired by
 * cql_stmts_keep_only, and a node refusing it still serves the rest
 */
struct cql_stmt *cql_stmts_add_aux(struct cql_stmts *ss, const char *cql);
/* cql_stmts_keep_only - retire every statement not listed (but aux ones) */
void cql_stmts_keep_only(struct cql_stmts *ss, struct cql_stmt *const *keep, size_t n);
/* cql_stmts_prepare_conn - PREPARE every statement in use on a new connection; how many sent */
int cql_stmts_prepare_conn(struct cql_stmts *ss, struct cql_pconn *pc);
/*
 * cql_stmt_prepare - send PREPARE on one connection; done (with arg) is
 * told the outcome, or NULL for a new connection's own PREPAREs. 0: sent;
 * -1: not sent, done is not called.
 */
int cql_stmt_prepare(struct cql_pconn *pc, struct cql_stmt *st, cql_prepare_fn done, void *arg);

#endif
