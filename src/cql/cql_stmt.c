/*
 * cql_stmt - the prepared statements of a CQL session
 *
 * DESCRIPTION
 *	See cql_stmt.h. A node that does not know a statement answers
 *	Unprepared; the session then prepares it on that connection through
 *	cql_stmt_prepare with a completion callback, and executes again, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "cql_stmt.h"

#define CQL_RETRY_FAILED_MS	30000	/* re-prepare refused statements */

/* One PREPARE in flight. */
struct prep {
	struct cql_stmt *st;
	struct cql_pconn *pc;
	struct cql_conn *c;		/* the connection it was sent on */
	cql_prepare_fn done;		/* NULL: a new connection's own PREPARE */
	void *arg;
};

static void stmt_prepared(const struct cql_response *r, void *arg);

/* cql_stmt_prepare - send PREPARE on one connection */
int cql_stmt_prepare(struct cql_pconn *pc, struct cql_stmt *st, cql_prepare_fn done, void *arg)
{
	struct prep *p;
	struct buf b;
	enum cql_status why;

	if (pc->c == NULL || !cql_conn_is_ready(pc->c))
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->st = st;
	p->pc = pc;
	p->c = pc->c;
	p->done = done;
	p->arg = arg;
	buf_init(&b);
	cql_encode_prepare(&b, pc->pool->version, 0, st->cql, st->len);
	if (cql_conn_send(pc->c, &b, stmt_prepared, p, &why) != 0) {
		buf_free(&b);
		free(p);
		return -1;
	}
	buf_free(&b);
	return 0;
}

/* stmt_ready - a PREPARED result: record the id and columns; 0 if it is one */
static int stmt_ready(struct cql_stmt *st, const struct cql_response *r)
{
	struct cql_prepared pr;
	struct cql_rd rd;

	cql_rd_init(&rd, r->body, r->len);
	if (cql_rd_int(&rd) != CQL_RESULT_PREPARED ||
	    cql_decode_prepared(&rd, r->version, &pr) != 0 ||
	    pr.idlen == 0 || pr.idlen > sizeof(st->id))
		return -1;
	memcpy(st->id, pr.id, pr.idlen);
	st->idlen = pr.idlen;
	st->state = CQL_STMT_READY;
	st->has_meta = !(pr.result.flags & CQL_META_NO_METADATA);
	st->meta = pr.result;
	st->meta.paging_state = NULL;
	msg_debug("cql: prepared: %s", st->cql);
	return 0;
}

/* stmt_refused - the server's ERROR to a PREPARE, as a result */
static void stmt_refused(struct cql_stmt *st, struct cql_pconn *pc,
			 const struct cql_response *r, struct cql_result *res)
{
	res->status = CQL_STATUS_SERVER_ERROR;
	res->err = r->err;
	if (!cql_error_retryable(r->err->code) && st->state == CQL_STMT_READY) {
		/*
		 * Other nodes prepared it: this one has not caught up with a
		 * schema change (or lost a table). Not the query's fault: keep
		 * it, and keep reads off this node (a new connection closes
		 * and backs off; a read tries another node).
		 */
		msg_limited(&pc->h->log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: %s refuses \"%s\", which other nodes prepared "
			    "(schema disagreement?): %s: %s", pc->h->label, st->cql,
			    cql_error_name(r->err->code), r->err->message);
		res->status = CQL_STATUS_NODE_REFUSED;
	} else if (!cql_error_retryable(r->err->code)) {
		/* The query itself is wrong here: a configuration problem. */
		if ((st->state != CQL_STMT_FAILED ||
		     strcmp(st->err.message, r->err->message) != 0) && !st->aux)
			msg_error("cql: cannot prepare \"%s\": %s: %s", st->cql,
				  cql_error_name(r->err->code), r->err->message);
		st->state = CQL_STMT_FAILED;
		st->err = *r->err;
		res->status = CQL_STATUS_NOT_PREPARED;
		res->err = &st->err;
	}
}

/*
 * stmt_prepared - record the id, or why the server refused; then tell the
 * caller, or count the answer for the new connection it was sent on
 */
static void stmt_prepared(const struct cql_response *r, void *arg)
{
	struct prep *p = arg;
	struct cql_stmt *st = p->st;
	struct cql_pconn *pc = p->pc;
	cql_prepare_fn done = p->done;
	void *done_arg = p->arg;
	int current = pc->c == p->c;	/* not a reply for a replaced connection */
	struct cql_result res;

	free(p);
	if (done == NULL)
		st->preparing = 0;
	memset(&res, 0, sizeof(res));
	if (r->status == CQL_STATUS_OK && r->opcode == CQL_OP_RESULT && stmt_ready(st, r) == 0) {
		res.status = CQL_STATUS_OK;
		if (done)
			done(&res, pc, current, done_arg);
		else if (current)
			cql_pool_prepared_one(pc);
		return;
	}
	if (r->status == CQL_STATUS_OK && r->opcode == CQL_OP_RESULT)
		res.status = CQL_STATUS_PROTOCOL;
	else if (r->status == CQL_STATUS_SERVER_ERROR)
		stmt_refused(st, pc, r, &res);
	else
		res.status = r->status == CQL_STATUS_OK ? CQL_STATUS_PROTOCOL : r->status;
	if (done) {
		done(&res, pc, current, done_arg);
		return;
	}
	if (current && !pc->usable && res.status != CQL_STATUS_NOT_PREPARED &&
	    r->status != CQL_STATUS_CONN_LOST && cql_conn_is_ready(pc->c) && !st->aux) {
		/*
		 * A new connection whose node cannot prepare now (Overloaded,
		 * bootstrapping, no answer) would serve nothing: close it and
		 * let the backoff bring it back, as for a failed connect. Not
		 * for a statement the maps do without: its reads just fail.
		 */
		char detail[CQL_ERROR_MSG_MAX + 64];

		snprintf(detail, sizeof(detail), "cannot prepare statements: %s%s%s",
			 r->err ? cql_error_name(r->err->code) : cql_status_name(res.status),
			 r->err ? ": " : "", r->err ? r->err->message : "");
		cql_conn_close(pc->c, CQL_CLOSE_HANDSHAKE, detail);
		return;
	}
	if (current)
		cql_pool_prepared_one(pc);
}

/* reprepare_cb - retry statements the server refused, now and then */
static void reprepare_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cql_stmts *ss = arg;
	struct cql_pconn *pc = cql_pool_first_usable(ss->pool);
	struct cql_stmt *st;

	(void)fd;
	(void)what;
	if (pc == NULL)
		return;
	/* NEW: registered while every node failed to prepare it (a reload). */
	for (st = ss->head; st; st = st->next)
		if (st->state != CQL_STMT_READY && !st->preparing && !st->retired &&
		    cql_stmt_prepare(pc, st, NULL, NULL) == 0)
			st->preparing = 1;
}

/* cql_stmts_init - no statement yet */
void cql_stmts_init(struct cql_stmts *ss, struct cql_pool *pool)
{
	memset(ss, 0, sizeof(*ss));
	ss->pool = pool;
}

/* cql_stmts_start - start the re-prepare timer */
void cql_stmts_start(struct cql_stmts *ss)
{
	struct timeval tv = { CQL_RETRY_FAILED_MS / 1000, 0 };

	ss->reprepare_timer = event_new(ss->pool->base, -1, EV_PERSIST, reprepare_cb, ss);
	if (ss->reprepare_timer)
		evtimer_add(ss->reprepare_timer, &tv);
}

/* cql_stmts_free - the timer and every statement */
void cql_stmts_free(struct cql_stmts *ss)
{
	struct cql_stmt *st, *next;

	if (ss->reprepare_timer)
		event_free(ss->reprepare_timer);
	for (st = ss->head; st; st = next) {
		next = st->next;
		free(st->cql);
		free(st);
	}
	ss->head = NULL;
}

/* cql_stmts_prepare_conn - a new connection's PREPAREs */
int cql_stmts_prepare_conn(struct cql_stmts *ss, struct cql_pconn *pc)
{
	struct cql_stmt *st;
	int n = 0;

	for (st = ss->head; st; st = st->next)
		if (!st->retired && cql_stmt_prepare(pc, st, NULL, NULL) == 0)
			n++;
	return n;
}

/* slot_prepare - PREPARE statement arg on the slot if it serves */
static int slot_prepare(struct cql_pconn *pc, void *arg)
{
	if (pc->usable)
		(void)cql_stmt_prepare(pc, arg, NULL, NULL);
	return 0;
}

/*
 * cql_stmts_add - register a statement (or find the one with the same
 * text); it is prepared on every usable connection at once, and on every
 * new one before it is used.
 */
struct cql_stmt *cql_stmts_add(struct cql_stmts *ss, const char *cql)
{
	struct cql_stmt *st;

	for (st = ss->head; st; st = st->next)
		if (strcmp(st->cql, cql) == 0)
			break;
	if (st && !st->retired)
		return st;
	if (st) {
		/*
		 * Back in use: prepare it again everywhere (connections made
		 * meanwhile never did), and ask afresh if it was refused.
		 */
		st->retired = 0;
		if (st->state == CQL_STMT_FAILED)
			st->state = CQL_STMT_NEW;
	} else {
		st = calloc(1, sizeof(*st));
		if (st == NULL || (st->cql = strdup(cql)) == NULL) {
			free(st);
			return NULL;
		}
		st->len = strlen(cql);
		st->state = CQL_STMT_NEW;
		st->next = ss->head;
		ss->head = st;
	}
	(void)cql_pool_each(ss->pool, NULL, slot_prepare, st);
	return st;
}

/* cql_stmts_add_aux - register a statement the daemon can do without */
struct cql_stmt *cql_stmts_add_aux(struct cql_stmts *ss, const char *cql)
{
	struct cql_stmt *st = cql_stmts_add(ss, cql);

	if (st)
		st->aux = 1;
	return st;
}

/* cql_stmts_keep_only - retire every statement not listed, but aux ones */
void cql_stmts_keep_only(struct cql_stmts *ss, struct cql_stmt *const *keep, size_t n)
{
	struct cql_stmt *st;
	size_t i;

	for (st = ss->head; st; st = st->next) {
		for (i = 0; i < n && keep[i] != st; i++)
			;
		st->retired = i == n && !st->aux;
	}
}
