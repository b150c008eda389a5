/*
 * cql_session - the CQL client the rest of the daemon talks to
 *
 * DESCRIPTION
 *	See cql_session.h. The session is the facade over its parts: the
 *	pool of nodes and connections (cql_pool), the nodes' discovery
 *	(cql_discovery) and the prepared statements (cql_stmt), which it
 *	wires together through the pool's hooks. What is its own is a read:
 *	execute, retry on another node, the lookup deadline, and the pages
 *	of a Rows answer (cql_pages). Its state (struct cql_session) is in
 *	cql_session_int.h, what it tells of it in cql_session_info.c.
 *
 *	A throttled read (cql_errclass_throttled: Keyspaces' ReadTimeout
 *	and WriteTimeout, Cassandra's Overloaded) is not retried at once but
 *	after a backoff with full jitter (cql_backoff), as often as the
 *	lookup deadline allows, on another node, else on another connection
 *	of the node, else on the same one: each connection has its own rate.
 *	While it waits it is on the session's list of waiting reads, which
 *	the deadline and cql_session_free take it off.
 *
 *	A read made while the session is starting (no connection has served
 *	yet, and not every node has failed its first attempt) waits for the
 *	first connection in cql_startq instead of failing "not connected";
 *	its deadline runs meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/util.h>

#include "clock.h"
#include "log.h"
#include "cql_backoff.h"
#include "cql_discovery.h"
#include "cql_errclass.h"
#include "cql_pages.h"
#include "cql_pool.h"
#include "cql_session.h"
#include "cql_session_int.h"
#include "cql_startq.h"
#include "cql_stmt.h"

#define CQL_REFRESH_MS		60000	/* default names and peers refresh */
#define CQL_RECONNECT_MIN_MS	100	/* default first backoff */
#define CQL_LOOKUP_TIMEOUTS	3	/* default lookup deadline, in request timeouts */
#define CQL_EXEC_MAX_VALUES	8	/* bound values in one EXECUTE */
#define CQL_VERSION_DEFAULT	4	/* protocol version tried first */
#define CQL_RATE_LIMIT_DEFAULT	3000	/* requests/s a Keyspaces connection serves */
#define CQL_THROTTLE_BASE_MS	10	/* first backoff after a throttled answer, at most */
#define CQL_THROTTLE_CAP_PARTS	4	/* no backoff over this part of the deadline */
#define CQL_THROTTLE_ATTEMPTS	16	/* retries of one throttled read, at most */

/* An EXECUTE in flight. */
struct exec {
	struct cql_session *s;
	struct cql_stmt *st;
	cql_result_fn cb;
	void *arg;
	struct cql_pconn *pc;		/* where it was last sent */
	unsigned tried;			/* id of the node of the first attempt */
	int attempts;
	int reprepared;
	int abandoned;			/* answered at the deadline; a request is still out */
	int backoffs;			/* retries after throttled answers */
	const struct cql_pconn *avoid_pc;	/* the connection that throttled it */
	struct event *backoff;		/* ends the wait before that retry */
	LIST_ENTRY(exec) wlink;		/* on s->waiting while the backoff runs */
	int waits;
	struct cql_startq_item sq;	/* on s->startq before the first connection */
	int64_t deadline_ms;
	struct event *deadline;		/* answers TIMEOUT when the lookup deadline passes */
	struct cql_pages *pages;	/* the result so far, from its first page */
	int one_page;			/* answer with one page and its successor's state */
	const char *query;		/* a QUERY (st NULL): its text, in the copies */
	size_t qlen;
	const uint8_t *state;		/* one_page: the page asked for (NULL: the first) */
	size_t state_len;
	size_t nvals;
	struct cql_value vals[CQL_EXEC_MAX_VALUES];
	/* copies of the bound values follow */
};

static int exec_send(struct exec *x, struct cql_pconn *on, enum cql_status *why);
static void exec_finish(struct exec *x, const struct cql_result *res);
static int exec_retry(struct exec *x, const char *host, const char *failure);
static void exec_waiting_fail(struct cql_session *s);
static void exec_released(struct cql_startq_item *it, int send, void *arg);

/* cql_parse_hosts - split a host list into a session's configuration */
int cql_parse_hosts(const char *list, uint16_t default_port,
		    struct cql_session_config *cfg, char *err, size_t errlen)
{
	return cql_hosts_parse(list, default_port, cfg->hosts, &cfg->nhosts, err, errlen);
}

/* session_prepare - the pool's prepare hook: a new connection's PREPAREs */
static int session_prepare(struct cql_pconn *pc, void *arg)
{
	struct cql_session *s = arg;

	return cql_stmts_prepare_conn(&s->stmts, pc);
}

/* session_usable - the pool's usable hook: discovery starts from it */
static void session_usable(struct cql_pconn *pc, void *arg)
{
	struct cql_session *s = arg;

	cql_startq_opened(&s->startq);
	cql_discovery_usable(&s->disc, pc);
}

/* session_failed - the pool's failed hook: reads waiting to start may be hopeless */
static void session_failed(void *arg)
{
	struct cql_session *s = arg;

	if (cql_session_all_failed(s))
		cql_startq_hopeless(&s->startq);
}

static const struct cql_pool_hooks session_hooks = {
	session_prepare, session_usable, session_failed
};

/* config_defaults - the defaults of settings left at zero, and the bounds */
static void config_defaults(struct cql_session_config *c)
{
	if (c->connections_per_host < 1)
		c->connections_per_host = 1;
	if (c->connections_per_host > CQL_MAX_POOL)
		c->connections_per_host = CQL_MAX_POOL;
	if (c->connections_per_host_max < c->connections_per_host)
		c->connections_per_host_max = c->connections_per_host;
	if (c->connections_per_host_max > CQL_MAX_POOL)
		c->connections_per_host_max = CQL_MAX_POOL;
	if (c->connection_rate_limit < 1)
		c->connection_rate_limit = CQL_RATE_LIMIT_DEFAULT;
	if (c->reconnect_min_ms < 1)
		c->reconnect_min_ms = CQL_RECONNECT_MIN_MS;
	if (c->refresh_ms <= 0)
		c->refresh_ms = CQL_REFRESH_MS;
	if (c->lookup_timeout_ms <= 0)
		c->lookup_timeout_ms = CQL_LOOKUP_TIMEOUTS * c->request_timeout_ms;
}

/* cql_session_new - a session that has not started connecting */
struct cql_session *cql_session_new(struct event_base *base,
				    struct evdns_base *dns,
				    const struct cql_session_config *cfg)
{
	struct cql_session *s = calloc(1, sizeof(*s));
	int ms;

	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	config_defaults(&s->cfg);
	s->base = base;
	LIST_INIT(&s->waiting);
	s->backoff.base_ms = CQL_THROTTLE_BASE_MS;
	s->backoff.cap_ms = s->cfg.lookup_timeout_ms / CQL_THROTTLE_CAP_PARTS;
	s->backoff.max_attempts = CQL_THROTTLE_ATTEMPTS;
	/* As for any retry: half a request timeout left for its answer. */
	s->backoff.min_left_ms = s->cfg.request_timeout_ms / 2;
	s->seed = (uint32_t)clock_now_ms() ^ (uint32_t)(uintptr_t)s;
	ms = s->cfg.lookup_timeout_ms;
	s->deadline_tv_storage.tv_sec = ms / 1000;
	s->deadline_tv_storage.tv_usec = (ms % 1000) * 1000;
	/* Every execution waits as long: libevent keeps them in one queue. */
	s->deadline_tv = event_base_init_common_timeout(base, &s->deadline_tv_storage);
	if (s->deadline_tv == NULL)
		s->deadline_tv = &s->deadline_tv_storage;
	cql_pool_init(&s->pool, base, &s->cfg,
		      cfg->max_version ? cfg->max_version : CQL_VERSION_DEFAULT,
		      &session_hooks, s);
	cql_stmts_init(&s->stmts, &s->pool);
	cql_discovery_init(&s->disc, &s->pool, dns);
	/* Out of memory for its timer, the queue never waits: reads fail as before. */
	(void)cql_startq_init(&s->startq, base, CQL_STARTQ_MAX, exec_released, s);
	return s;
}

/* cql_session_stop_waiting - the daemon stops: no read waits to start any more */
void cql_session_stop_waiting(struct cql_session *s)
{
	cql_startq_close(&s->startq);
}

/* cql_session_retry_now - connections waiting out a backoff try at once */
void cql_session_retry_now(struct cql_session *s)
{
	cql_pool_retry_now(&s->pool);
}

/* cql_session_start - begin connecting; reads wait for the first connection */
void cql_session_start(struct cql_session *s)
{
	cql_stmts_start(&s->stmts);
	cql_discovery_start(&s->disc);
}

/*
 * cql_session_free - close everything. Closing a connection answers its
 * requests (CONN_LOST) at once, so the statements and the executions'
 * callbacks must still be there: the pool goes first.
 */
void cql_session_free(struct cql_session *s)
{
	if (s == NULL)
		return;
	s->pool.stopping = 1;
	cql_discovery_stop(&s->disc);
	cql_pool_free(&s->pool);
	exec_waiting_fail(s);
	cql_startq_free(&s->startq);
	cql_stmts_free(&s->stmts);
	cql_discovery_free(&s->disc);
	free(s);
}

/* cql_session_add - register a statement (cql_stmts_add) */
struct cql_stmt *cql_session_add(struct cql_session *s, const char *cql)
{
	return cql_stmts_add(&s->stmts, cql);
}

/* cql_session_add_aux - register a statement the maps do without (cql_stmts_add_aux) */
struct cql_stmt *cql_session_add_aux(struct cql_session *s, const char *cql)
{
	return cql_stmts_add_aux(&s->stmts, cql);
}

/* cql_session_keep_only - retire every statement not listed */
void cql_session_keep_only(struct cql_session *s, struct cql_stmt *const *keep, size_t n)
{
	cql_stmts_keep_only(&s->stmts, keep, n);
}

/* cql_stmt_result_meta - the columns its rows have, once prepared */
const struct cql_rows_meta *cql_stmt_result_meta(const struct cql_stmt *st)
{
	return st->state == CQL_STMT_READY && st->has_meta ? &st->meta : NULL;
}

/* cql_stmt_state - where a statement stands, and the server's refusal */
enum cql_stmt_state cql_stmt_state(const struct cql_stmt *st,
				   const struct cql_error **err)
{
	if (err)
		*err = st->state == CQL_STMT_FAILED ? &st->err : NULL;
	return st->state;
}

/*
 * exec_finish - deliver a result (unless the deadline already answered)
 * and free the execution
 */
static void exec_finish(struct exec *x, const struct cql_result *res)
{
	if (!x->abandoned)
		x->cb(res, x->arg);
	if (x->deadline)
		event_free(x->deadline);
	if (x->backoff)
		event_free(x->backoff);
	if (x->pages) {
		cql_pages_free(x->pages);
		free(x->pages);
	}
	free(x);
}

/* exec_unwait - off the waiting list, its backoff timer stopped */
static void exec_unwait(struct exec *x)
{
	if (!x->waits)
		return;
	x->waits = 0;
	evtimer_del(x->backoff);
	LIST_REMOVE(x, wlink);
}

/* exec_waiting_fail - the session goes: answer every read still waiting */
static void exec_waiting_fail(struct cql_session *s)
{
	struct cql_result res;

	memset(&res, 0, sizeof(res));
	res.status = CQL_STATUS_CONN_LOST;
	while (!LIST_EMPTY(&s->waiting)) {
		struct exec *x = LIST_FIRST(&s->waiting);

		exec_unwait(x);
		exec_finish(x, &res);
	}
}

/*
 * exec_send_or_finish - send the read again (on connection on, or the
 * best one), or answer why it cannot be (TIMEOUT once abandoned)
 */
static void exec_send_or_finish(struct exec *x, struct cql_pconn *on)
{
	struct cql_result r;
	enum cql_status why = CQL_STATUS_TIMEOUT;

	if (!x->abandoned && exec_send(x, on, &why) == 0)
		return;
	memset(&r, 0, sizeof(r));
	r.status = why;
	exec_finish(x, &r);
}

/* exec_backoff_done - a throttled read's wait is over: send it again */
static void exec_backoff_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	exec_unwait(arg);
	exec_send_or_finish(arg, NULL);
}

/*
 * exec_backoff - a throttled read: wait, then retry (0), while the lookup
 * deadline leaves room; -1: answer the failure now
 */
static int exec_backoff(struct exec *x)
{
	struct cql_session *s = x->s;
	struct timeval tv;
	int ms;

	if (x->abandoned || s->pool.stopping)
		return -1;
	ms = cql_backoff_delay(&s->backoff, x->backoffs, x->deadline_ms - clock_now_ms(),
			       &s->seed);
	if (ms < 0)
		return -1;
	if (x->backoff == NULL &&
	    (x->backoff = evtimer_new(s->base, exec_backoff_done, x)) == NULL)
		return -1;
	x->backoffs++;
	x->avoid_pc = x->pc;
	x->reprepared = 0;
	s->throttle_retries++;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(x->backoff, &tv);
	x->waits = 1;
	LIST_INSERT_HEAD(&s->waiting, x, wlink);
	msg_debug("cql: %s: throttled; retry %d in %d ms", x->pc->h->label, x->backoffs, ms);
	return 0;
}

/*
 * exec_deadline - the lookup deadline passed: answer TIMEOUT now. The
 * request still out keeps the execution until its answer, timeout or lost
 * connection comes back, which the connection guarantees.
 */
static void exec_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct exec *x = arg;
	struct cql_result res;

	(void)fd;
	(void)what;
	memset(&res, 0, sizeof(res));
	res.status = CQL_STATUS_TIMEOUT;
	res.host = x->pc ? x->pc->h->label : NULL;
	x->abandoned = 1;
	x->cb(&res, x->arg);
	if (x->sq.queued) {
		/* Never sent: nothing else will free it. */
		cql_startq_remove(&x->s->startq, &x->sq);
		exec_finish(x, &res);
	} else if (x->waits) {
		/* Waiting out a backoff, no request is out: nothing else will free it. */
		exec_unwait(x);
		exec_finish(x, &res);
	}
}

/* exec_retryable - a failure another node may not have */
static int exec_retryable(const struct cql_response *r)
{
	switch (r->status) {
	case CQL_STATUS_TIMEOUT:
	case CQL_STATUS_CONN_LOST:
		return 1;
	case CQL_STATUS_SERVER_ERROR:
		return cql_error_retryable(r->err->code);
	default:
		return 0;
	}
}

/*
 * exec_retry - the one retry on another node, while the lookup deadline
 * leaves it half a request timeout. 0: sent; -1: not allowed or not sent.
 */
static int exec_retry(struct exec *x, const char *host, const char *failure)
{
	const struct cql_session *s = x->s;
	enum cql_status why;

	if (x->abandoned || x->attempts >= 2 || s->pool.stopping ||
	    x->deadline_ms - clock_now_ms() < s->cfg.request_timeout_ms / 2)
		return -1;
	msg_debug("cql: %s: %s; retrying on another node", host, failure);
	return exec_send(x, NULL, &why);
}

/*
 * exec_page - one page of a Rows answer: keep it and ask for the next (0),
 * or settle res with the whole result or why there is none (-1). The
 * paging state is valid on any node, so each page is a read of its own,
 * with its own retry, all within the lookup deadline.
 */
static int exec_page(struct exec *x, struct cql_rd *rd, struct cql_result *res)
{
	struct cql_session *s = x->s;
	enum cql_pages_status ps;
	enum cql_status why;

	if (x->pages == NULL) {
		if ((x->pages = malloc(sizeof(*x->pages))) == NULL) {
			res->status = CQL_STATUS_BUSY;
			return -1;
		}
		cql_pages_init(x->pages);
	}
	ps = cql_pages_add(x->pages, rd, x->st && x->st->has_meta ? &x->st->meta : NULL);
	if (x->one_page && (ps == CQL_PAGES_DONE || ps == CQL_PAGES_MORE)) {
		cql_pages_rows(x->pages, &res->rows);
		res->has_rows = 1;
		if (ps == CQL_PAGES_MORE)
			res->next_state = cql_pages_state(x->pages, &res->next_state_len);
		return -1;
	}
	switch (ps) {
	case CQL_PAGES_DONE:
		cql_pages_rows(x->pages, &res->rows);
		res->has_rows = 1;
		return -1;
	case CQL_PAGES_MORE:
		x->attempts = 0;
		x->reprepared = 0;
		if (exec_send(x, NULL, &why) == 0)
			return 0;
		res->status = why;
		return -1;
	case CQL_PAGES_NO_MEMORY:
		res->status = CQL_STATUS_BUSY;
		return -1;
	case CQL_PAGES_TOO_LARGE:
		res->status = CQL_STATUS_TOO_LARGE;
		break;
	default:
		res->status = CQL_STATUS_PROTOCOL;
		break;
	}
	msg_limited(&s->paging_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
		    "cql: %s: result of \"%s\" not read: %s after %u pages, %zu bytes "
		    "(at most %d pages, %u bytes per read)", res->host, x->st ? x->st->cql : x->query,
		    cql_pages_status_name(ps), x->pages->npages, x->pages->rows.len,
		    CQL_PAGES_MAX, CQL_PAGES_MAX_BYTES);
	return -1;
}

/*
 * exec_reprepared - the statement was prepared again after Unprepared:
 * execute again where it was prepared (not a retry), or, if this node
 * failed to prepare it, retry on another node
 */
static void exec_reprepared(const struct cql_result *res, struct cql_pconn *pc,
			    int current, void *arg)
{
	struct exec *x = arg;

	if (res->status == CQL_STATUS_OK) {
		exec_send_or_finish(x, current && cql_conn_is_ready(pc->c) ? pc : NULL);
		return;
	}
	/* Preparing again after Unprepared failed on this node: another may serve. */
	if (res->status != CQL_STATUS_NOT_PREPARED &&
	    exec_retry(x, pc->h->label, cql_status_name(res->status)) == 0)
		return;
	exec_finish(x, res);
}

/* exec_answer - an EXECUTE answer arrived */
static void exec_answer(const struct cql_response *r, void *arg)
{
	struct exec *x = arg;
	struct cql_result res;
	struct cql_rd rd;
	int32_t kind;

	memset(&res, 0, sizeof(res));
	if (x->abandoned) {
		exec_finish(x, &res);
		return;
	}
	res.status = r->status;
	res.err = r->err;
	res.host = x->pc->h->label;
	if (r->status == CQL_STATUS_SERVER_ERROR && x->st != NULL &&
	    r->err->code == CQL_ERR_UNPREPARED && !x->reprepared) {
		/* This node lost (or never had) the statement: prepare, retry. */
		x->reprepared = 1;
		msg_debug("cql: %s: statement unprepared, preparing again", res.host);
		if (cql_stmt_prepare(x->pc, x->st, exec_reprepared, x) == 0)
			return;
		res.status = CQL_STATUS_NOT_CONNECTED;
		res.err = NULL;
	}
	if (cql_errclass_throttled(r->status, r->err)) {
		cql_pool_throttled(&x->s->pool, x->pc);
		msg_limited(&x->s->throttle_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: %s throttles reads (%s); retrying with backoff",
			    res.host, cql_error_name(r->err->code));
		if (exec_backoff(x) == 0)
			return;
	} else if (exec_retryable(r) &&
		   exec_retry(x, res.host, r->err ? cql_error_name(r->err->code) :
					      cql_status_name(r->status)) == 0) {
		return;
	}
	if (r->status == CQL_STATUS_OK) {
		if (r->opcode != CQL_OP_RESULT) {
			res.status = CQL_STATUS_PROTOCOL;
		} else {
			cql_rd_init(&rd, r->body, r->len);
			kind = cql_rd_int(&rd);
			if (rd.err) {
				res.status = CQL_STATUS_PROTOCOL;
			} else if (kind == CQL_RESULT_ROWS) {
				if (exec_page(x, &rd, &res) == 0)
					return;		/* the next page is asked for */
			}
		}
	}
	exec_finish(x, &res);
}

/*
 * exec_pick - where a read goes: the best connection at first; a retry
 * goes to another node, and after a throttled answer, failing that, to
 * another connection of the node, or even the same one (its rate may
 * have dropped during the backoff)
 */
static struct cql_pconn *exec_pick(struct exec *x)
{
	struct cql_pool *p = &x->s->pool;
	struct cql_pconn *pc;

	if (x->attempts == 0)
		return cql_pool_pick(p, 0, NULL);
	if ((pc = cql_pool_pick(p, x->tried, NULL)) != NULL || x->avoid_pc == NULL)
		return pc;
	if ((pc = cql_pool_pick(p, 0, x->avoid_pc)) != NULL)
		return pc;
	return cql_pool_pick(p, 0, NULL);
}

/*
 * exec_send - encode and send EXECUTE on the best connection (a first
 * attempt, or a retry on another node), or on connection "on" (again
 * where the statement was just prepared anew: not a retry)
 */
static int exec_send(struct exec *x, struct cql_pconn *on, enum cql_status *why)
{
	struct cql_session *s = x->s;
	struct cql_pconn *pc = on ? on : exec_pick(x);
	struct cql_paging pg;
	struct buf b;
	int rc;

	if (pc == NULL) {
		*why = CQL_STATUS_NOT_CONNECTED;
		return -1;
	}
	pg.page_size = CQL_PAGE_SIZE_ROWS;
	pg.state = x->pages ? cql_pages_state(x->pages, &pg.state_len) : NULL;
	if (x->one_page) {
		pg.state = x->state;
		pg.state_len = x->state_len;
	}
	buf_init(&b);
	if (x->st == NULL)
		cql_encode_query(&b, s->pool.version, 0, x->query, x->qlen,
				 s->cfg.consistency, x->vals, x->nvals);
	else
		cql_encode_execute(&b, s->pool.version, 0, x->st->id, x->st->idlen,
				   s->cfg.consistency, x->vals, x->nvals, 0, &pg);
	rc = cql_conn_send(pc->c, &b, exec_answer, x, why);
	buf_free(&b);
	if (rc == 0) {
		if (on == NULL && x->attempts++ == 0)
			x->tried = pc->h->id;
		x->pc = pc;
		cql_pool_sent(&s->pool, pc);
	} else if (*why == CQL_STATUS_BUSY) {
		msg_limited(&s->pool.full_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: every stream id of %s is in use", pc->h->label);
	}
	return rc;
}

/* exec_sendable - 0 when statement st (NULL: a QUERY) can be sent now, else -1 and why */
static int exec_sendable(struct cql_session *s, const struct cql_stmt *st, enum cql_status *why)
{
	if (st && st->state == CQL_STMT_FAILED) {
		*why = CQL_STATUS_NOT_PREPARED;
		return -1;
	}
	if ((st && st->state != CQL_STMT_READY) || cql_pool_first_usable(&s->pool) == NULL) {
		*why = CQL_STATUS_NOT_CONNECTED;
		return -1;
	}
	return 0;
}

/*
 * exec_released - a read that waited for the first connection: send it
 * now, or answer why it cannot be (a statement refused, or retired by a
 * reload while the read waited, is not sent)
 */
static void exec_released(struct cql_startq_item *it, int send, void *arg)
{
	struct exec *x = (struct exec *)(void *)((char *)it - offsetof(struct exec, sq));
	enum cql_status why = CQL_STATUS_NOT_CONNECTED;
	struct cql_result r;

	(void)arg;
	if (send && exec_sendable(x->s, x->st, &why) == 0) {
		exec_send_or_finish(x, NULL);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.status = why;
	exec_finish(x, &r);
}

/*
 * exec_start - send an execution, to be answered by deadline_ms (0: the
 * lookup timeout from now), or queue it while the session is starting:
 * the values (and the query text and paging state, when given) are
 * copied, so the caller's may go at once
 */
static int exec_start(struct cql_session *s, struct exec *proto,
		      const struct cql_value *vals, size_t nvals, int64_t deadline_ms,
		      enum cql_status *why)
{
	struct timeval tv;
	struct exec *x;
	size_t vsize;
	uint8_t *p;
	int wait = 0;

	if (exec_sendable(s, proto->st, why) != 0) {
		if (*why != CQL_STATUS_NOT_CONNECTED ||
		    !cql_startq_waits(&s->startq, cql_session_all_failed(s)))
			return -1;
		wait = 1;
	}
	if (nvals > CQL_EXEC_MAX_VALUES) {
		*why = CQL_STATUS_PROTOCOL;
		return -1;
	}
	vsize = cql_values_size(vals, nvals);
	if ((x = calloc(1, sizeof(*x) + vsize + proto->qlen + proto->state_len)) == NULL) {
		*why = CQL_STATUS_BUSY;
		return -1;
	}
	*x = *proto;
	x->s = s;
	x->nvals = nvals;
	x->deadline_ms = deadline_ms ? deadline_ms : clock_now_ms() + s->cfg.lookup_timeout_ms;
	p = (uint8_t *)(x + 1);
	cql_values_copy(x->vals, vals, nvals, p);
	p += vsize;
	if (proto->query) {
		memcpy(p, proto->query, proto->qlen);
		x->query = (const char *)p;
		p += proto->qlen;
	}
	if (proto->state) {
		memcpy(p, proto->state, proto->state_len);
		x->state = p;
	}
	if (wait ? cql_startq_add(&s->startq, &x->sq, clock_now_ms()) : exec_send(x, NULL, why)) {
		free(x);
		return -1;
	}
	/* Without the timer the request and retry timeouts still bound it. */
	tv = clock_timeval(x->deadline_ms > clock_now_ms() ? x->deadline_ms - clock_now_ms() : 0);
	if ((x->deadline = evtimer_new(s->base, exec_deadline, x)) != NULL) {
		evtimer_add(x->deadline, deadline_ms ? &tv : s->deadline_tv);
	} else if (wait) {
		/* Nothing would bound its wait: fail it now, as before the queue. */
		cql_startq_remove(&s->startq, &x->sq);
		free(x);
		return -1;
	}
	return 0;
}

/* exec_proto - an execution's description, before exec_start copies it */
static void exec_proto(struct exec *proto, struct cql_stmt *st, cql_result_fn cb, void *arg)
{
	memset(proto, 0, sizeof(*proto));
	proto->st = st;
	proto->cb = cb;
	proto->arg = arg;
}

/* cql_session_execute - run a prepared statement within the lookup timeout */
int cql_session_execute(struct cql_session *s, struct cql_stmt *st,
			const struct cql_value *vals, size_t nvals,
			cql_result_fn cb, void *arg, enum cql_status *why)
{
	return cql_session_execute_until(s, st, vals, nvals, 0, cb, arg, why);
}

/* cql_session_execute_until - run a prepared statement by deadline_ms */
int cql_session_execute_until(struct cql_session *s, struct cql_stmt *st,
			      const struct cql_value *vals, size_t nvals, int64_t deadline_ms,
			      cql_result_fn cb, void *arg, enum cql_status *why)
{
	struct exec proto;

	exec_proto(&proto, st, cb, arg);
	return exec_start(s, &proto, vals, nvals, deadline_ms, why);
}

/* cql_session_execute_page - one page of a prepared statement's rows */
int cql_session_execute_page(struct cql_session *s, struct cql_stmt *st,
			     const struct cql_value *vals, size_t nvals,
			     const uint8_t *state, size_t state_len,
			     cql_result_fn cb, void *arg, enum cql_status *why)
{
	struct exec proto;

	exec_proto(&proto, st, cb, arg);
	proto.one_page = 1;
	proto.state = state;
	proto.state_len = state ? state_len : 0;
	return exec_start(s, &proto, vals, nvals, 0, why);
}

/* cql_session_query - run a statement unprepared (QUERY), first page only */
int cql_session_query(struct cql_session *s, const char *cql,
		      cql_result_fn cb, void *arg, enum cql_status *why)
{
	struct exec proto;

	exec_proto(&proto, NULL, cb, arg);
	proto.one_page = 1;
	proto.query = cql;
	proto.qlen = strlen(cql);
	return exec_start(s, &proto, NULL, 0, 0, why);
}
