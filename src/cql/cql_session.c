/*
 * cql_session - the CQL client the rest of the daemon talks to
 *
 * DESCRIPTION
 *	See cql_session.h. The session is the facade over its parts: the
 *	pool of nodes and connections (cql_pool), the nodes' discovery
 *	(cql_discovery) and the prepared statements (cql_stmt), which it
 *	wires together through the pool's hooks. What is its own is a read:
 *	execute, retry on another node, the lookup deadline, and the pages
 *	of a Rows answer (cql_pages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/util.h>

#include "clock.h"
#include "log.h"
#include "cql_discovery.h"
#include "cql_pages.h"
#include "cql_pool.h"
#include "cql_session.h"
#include "cql_stmt.h"

#define CQL_REFRESH_MS		60000	/* default names and peers refresh */
#define CQL_RECONNECT_MIN_MS	100	/* default first backoff */
#define CQL_LOOKUP_TIMEOUTS	3	/* default lookup deadline, in request timeouts */
#define CQL_EXEC_MAX_VALUES	8	/* bound values in one EXECUTE */
#define CQL_VERSION_DEFAULT	4	/* protocol version tried first */

struct cql_session {
	struct cql_session_config cfg;	/* the pool and discovery point here */
	struct event_base *base;
	struct cql_pool pool;
	struct cql_stmts stmts;
	struct cql_discovery disc;

	struct timeval deadline_tv_storage;
	const struct timeval *deadline_tv;	/* lookup deadline, a common timeout */
	struct log_limit paging_log;
};

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
	int64_t deadline_ms;
	struct event *deadline;		/* answers TIMEOUT when the lookup deadline passes */
	struct cql_pages *pages;	/* the result so far, from its first page */
	size_t nvals;
	struct cql_value vals[CQL_EXEC_MAX_VALUES];
	/* copies of the bound values follow */
};

static int exec_send(struct exec *x, struct cql_pconn *on, enum cql_status *why);
static void exec_finish(struct exec *x, const struct cql_result *res);
static int exec_retry(struct exec *x, const char *host, const char *failure);

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

	cql_discovery_usable(&s->disc, pc);
}

static const struct cql_pool_hooks session_hooks = { session_prepare, session_usable };

/* config_defaults - the defaults of settings left at zero, and the bounds */
static void config_defaults(struct cql_session_config *c)
{
	if (c->connections_per_host < 1)
		c->connections_per_host = 1;
	if (c->connections_per_host > CQL_MAX_POOL)
		c->connections_per_host = CQL_MAX_POOL;
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
	return s;
}

/* cql_session_retry_now - connections waiting out a backoff try at once */
void cql_session_retry_now(struct cql_session *s)
{
	cql_pool_retry_now(&s->pool);
}

/* cql_session_start - begin connecting; lookups answer TEMP until ready */
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
	cql_stmts_free(&s->stmts);
	cql_discovery_free(&s->disc);
	free(s);
}

/* cql_session_add - register a statement (cql_stmts_add) */
struct cql_stmt *cql_session_add(struct cql_session *s, const char *cql)
{
	return cql_stmts_add(&s->stmts, cql);
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
	if (x->pages) {
		cql_pages_free(x->pages);
		free(x->pages);
	}
	free(x);
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
	ps = cql_pages_add(x->pages, rd, x->st->has_meta ? &x->st->meta : NULL);
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
		    "(at most %d pages, %u bytes per read)", res->host, x->st->cql,
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
	struct cql_result r;
	enum cql_status why = CQL_STATUS_TIMEOUT;

	if (res->status == CQL_STATUS_OK) {
		if (x->abandoned ||
		    exec_send(x, current && cql_conn_is_ready(pc->c) ? pc : NULL, &why) != 0) {
			memset(&r, 0, sizeof(r));
			r.status = why;
			exec_finish(x, &r);
		}
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
	if (r->status == CQL_STATUS_SERVER_ERROR &&
	    r->err->code == CQL_ERR_UNPREPARED && !x->reprepared) {
		/* This node lost (or never had) the statement: prepare, retry. */
		x->reprepared = 1;
		msg_debug("cql: %s: statement unprepared, preparing again", res.host);
		if (cql_stmt_prepare(x->pc, x->st, exec_reprepared, x) == 0)
			return;
		res.status = CQL_STATUS_NOT_CONNECTED;
		res.err = NULL;
	}
	if (exec_retryable(r) &&
	    exec_retry(x, res.host, r->err ? cql_error_name(r->err->code) :
				       cql_status_name(r->status)) == 0)
		return;
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
 * exec_send - encode and send EXECUTE on the best connection (a first
 * attempt, or a retry on another node), or on connection "on" (again
 * where the statement was just prepared anew: not a retry)
 */
static int exec_send(struct exec *x, struct cql_pconn *on, enum cql_status *why)
{
	struct cql_session *s = x->s;
	struct cql_pconn *pc = on ? on : cql_pool_pick(&s->pool, x->attempts ? x->tried : 0);
	struct cql_paging pg;
	struct buf b;
	int rc;

	if (pc == NULL) {
		*why = CQL_STATUS_NOT_CONNECTED;
		return -1;
	}
	pg.page_size = CQL_PAGE_SIZE_ROWS;
	pg.state = x->pages ? cql_pages_state(x->pages, &pg.state_len) : NULL;
	buf_init(&b);
	cql_encode_execute(&b, s->pool.version, 0, x->st->id, x->st->idlen,
			   s->cfg.consistency, x->vals, x->nvals, 0, &pg);
	rc = cql_conn_send(pc->c, &b, exec_answer, x, why);
	buf_free(&b);
	if (rc == 0) {
		if (on == NULL && x->attempts++ == 0)
			x->tried = pc->h->id;
		x->pc = pc;
	} else if (*why == CQL_STATUS_BUSY) {
		msg_limited(&s->pool.full_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: every stream id of %s is in use", pc->h->label);
	}
	return rc;
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
	struct timeval tv;
	struct exec *x;

	if (st->state == CQL_STMT_FAILED) {
		*why = CQL_STATUS_NOT_PREPARED;
		return -1;
	}
	if (st->state != CQL_STMT_READY || cql_pool_first_usable(&s->pool) == NULL) {
		*why = CQL_STATUS_NOT_CONNECTED;
		return -1;
	}
	if (nvals > CQL_EXEC_MAX_VALUES) {
		*why = CQL_STATUS_PROTOCOL;
		return -1;
	}
	if ((x = calloc(1, sizeof(*x) + cql_values_size(vals, nvals))) == NULL) {
		*why = CQL_STATUS_BUSY;
		return -1;
	}
	x->s = s;
	x->st = st;
	x->cb = cb;
	x->arg = arg;
	x->nvals = nvals;
	x->deadline_ms = deadline_ms ? deadline_ms : clock_now_ms() + s->cfg.lookup_timeout_ms;
	cql_values_copy(x->vals, vals, nvals, (uint8_t *)(x + 1));
	if (exec_send(x, NULL, why) != 0) {
		free(x);
		return -1;
	}
	/* Without the timer the request and retry timeouts still bound it. */
	tv = clock_timeval(x->deadline_ms > clock_now_ms() ? x->deadline_ms - clock_now_ms() : 0);
	if ((x->deadline = evtimer_new(s->base, exec_deadline, x)) != NULL)
		evtimer_add(x->deadline, deadline_ms ? &tv : s->deadline_tv);
	return 0;
}

/* cql_session_is_ready - a usable connection exists */
int cql_session_is_ready(const struct cql_session *s)
{
	return cql_pool_first_usable((struct cql_pool *)&s->pool) != NULL;
}

/* cql_session_hosts_up - nodes with a usable connection, and all nodes */
void cql_session_hosts_up(const struct cql_session *s, size_t *up, size_t *known)
{
	cql_pool_hosts_up(&s->pool, up, known);
}

/* cql_session_host_info - for metrics */
int cql_session_host_info(const struct cql_session *s, size_t i, const char **label,
			  int *up, int *conns)
{
	if (i >= s->pool.nhosts)
		return -1;
	*label = s->pool.hosts[i]->label;
	*up = cql_pool_host_up(&s->pool, s->pool.hosts[i]);
	*conns = cql_pool_host_conns(&s->pool, s->pool.hosts[i]);
	return 0;
}

/* cql_session_state - one line for logs and status */
const char *cql_session_state(const struct cql_session *s)
{
	return s->pool.state_text;
}

/* cql_session_failures - failed connection attempts (and lost connections) */
unsigned cql_session_failures(const struct cql_session *s)
{
	return s->pool.failures;
}

/*
 * cql_session_all_failed - every name resolved (or failed to), and every
 * node known has failed with none up: waiting longer will not help a
 * one-shot command.
 */
int cql_session_all_failed(const struct cql_session *s)
{
	return !cql_discovery_resolving(&s->disc) && cql_pool_all_failed(&s->pool);
}
