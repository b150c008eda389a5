/*
 * tool_conn - the admin program's CQL session, driven synchronously
 *
 * SYNOPSIS
 *	#include "tool/tool.h"
 *
 * DESCRIPTION
 *	tool_open() reads the daemon's settings from the environment, builds
 *	TLS and the authenticator (password, or SigV4 with the AWS credential
 *	chain) and connects one session at LOCAL_QUORUM. The subcommands are
 *	sequences of statements; tool_run() sends one and runs the loop until
 *	its answer, tool_wait() runs it until a caller's condition holds (the
 *	writer's window of requests in flight). A ticker wakes the loop every
 *	TOOL_TICK_MS so that conditions are seen without their own events.
 *
 *	Answers are copied out as text (two columns at most), so a caller
 *	never holds a frame past its callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "aws/cred_chain.h"
#include "clock.h"
#include "cql/cql_auth.h"
#include "cql/cql_auth_sigv4.h"
#include "cql/cql_errclass.h"
#include "log.h"
#include "tool/tool.h"

#define TOOL_TICK_MS		20	/* the loop wakes at least this often */
#define TOOL_PREPARE_WAIT_MS	30000	/* for a statement to be prepared */
#define TOOL_ANSWER_COLS	2	/* cells kept per row of an answer */
#define TOOL_CONNECT_TRIES	3	/* failed connection attempts before giving up early */

/* tick - nothing: the wake-up is the point */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* chain_creds - the credential chain's current keys, for the SigV4 authenticator */
static int chain_creds(void *arg, struct sigv4_creds *out)
{
	const struct aws_credentials *now = cred_chain_current(arg);

	if (now != NULL) {
		out->access_key_id = now->access_key_id;
		out->secret_access_key = now->secret_access_key;
		out->session_token = now->session_token;
	}
	return now != NULL ? 0 : -1;
}

/* connect_session - the first credential walk ended, or none is needed */
static void connect_session(void *arg)
{
	cql_session_start(arg);
}

/* open_security - TLS context and authenticator; an exit code */
static int open_security(struct tool *t)
{
	char err[CONFIG_ERR_MAX];
	struct config *c = &t->cfg;

	if (c->cql.tls.enabled) {
		if ((t->tls_ctx = cql_tls_ctx_new(&c->cql.tls, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: configuration error: %s\n", TOOL_NAME, err);
			return TOOL_EXIT_USAGE;
		}
		c->cql.tls_ctx = t->tls_ctx;
	}
	if (c->auth_password)
		t->auth = cql_auth_password_new(c->username, c->password);
	else if (c->auth_sigv4 && (t->creds = cred_chain_new(t->base, t->dns)) != NULL)
		t->auth = cql_auth_sigv4_new(c->aws_region, chain_creds, t->creds);
	if ((c->auth_password || c->auth_sigv4) && t->auth == NULL) {
		fprintf(stderr, "%s: out of memory\n", TOOL_NAME);
		return TOOL_EXIT_FAIL;
	}
	c->cql.auth = t->auth;
	return TOOL_EXIT_OK;
}

/*
 * session_settled - tool_wait's condition: a connection serves, or every
 * node failed TOOL_CONNECT_TRIES attempts (refused, bad credentials): an
 * operator at a prompt wants the reason now, not after the full wait
 */
static int session_settled(void *arg)
{
	return cql_session_is_ready(arg) ||
	       (cql_session_all_failed(arg) && cql_session_failures(arg) >= TOOL_CONNECT_TRIES);
}

/* tool_open - settings, then (if connect) a ready session */
int tool_open(struct tool *t, int connect)
{
	char err[CONFIG_ERR_MAX];
	struct timeval tv = { 0, TOOL_TICK_MS * 1000 };
	int rc;

	if (config_from_env(&t->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: %s\n", TOOL_NAME, err);
		return TOOL_EXIT_USAGE;
	}
	if (!connect)
		return TOOL_EXIT_OK;
	t->cfg.cql.consistency = CQL_CONSISTENCY_LOCAL_QUORUM;
	if ((t->base = event_base_new()) == NULL ||
	    (t->dns = evdns_base_new(t->base, EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL)
		t->dns = t->base ? evdns_base_new(t->base, 0) : NULL;
	if (t->dns == NULL) {
		fprintf(stderr, "%s: cannot create the event loop\n", TOOL_NAME);
		return TOOL_EXIT_FAIL;
	}
	if ((rc = open_security(t)) != TOOL_EXIT_OK)
		return rc;
	if ((t->cql = cql_session_new(t->base, t->dns, &t->cfg.cql)) == NULL ||
	    (t->ticker = event_new(t->base, -1, EV_PERSIST, tick, NULL)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", TOOL_NAME);
		return TOOL_EXIT_FAIL;
	}
	event_add(t->ticker, &tv);
	if (t->creds) {
		cred_chain_on_settled(t->creds, connect_session, t->cql);
		cred_chain_start(t->creds);
	} else {
		connect_session(t->cql);
	}
	if (tool_wait(t, session_settled, t->cql, TOOL_CONNECT_WAIT_MS) != 0 ||
	    !cql_session_is_ready(t->cql)) {
		fprintf(stderr, "%s: cannot connect to the database: %s\n", TOOL_NAME,
			cql_session_state(t->cql));
		return TOOL_EXIT_FAIL;
	}
	return TOOL_EXIT_OK;
}

/* tool_close - free the session and what it used */
void tool_close(struct tool *t)
{
	if (t->ticker)
		event_free(t->ticker);
	cql_session_free(t->cql);
	cql_auth_free(t->auth);
	cred_chain_free(t->creds);
	if (t->tls_ctx)
		SSL_CTX_free(t->tls_ctx);
	if (t->dns)
		evdns_base_free(t->dns, 0);
	if (t->base)
		event_base_free(t->base);
}

/* tool_wait - run the loop until cond(arg), or timeout_ms (0: none) */
int tool_wait(struct tool *t, int (*cond)(void *arg), void *arg, int timeout_ms)
{
	int64_t end = clock_now_ms() + timeout_ms;

	while (!cond(arg)) {
		if (timeout_ms > 0 && clock_now_ms() >= end)
			return -1;
		event_base_loop(t->base, EVLOOP_ONCE);
	}
	return 0;
}

/* stmt_settled - tool_wait's condition: prepared, or refused */
static int stmt_settled(void *arg)
{
	return cql_stmt_state(arg, NULL) != CQL_STMT_NEW;
}

/* tool_prepare - register and wait for the PREPARE's answer */
struct cql_stmt *tool_prepare(struct tool *t, const char *cql)
{
	struct cql_stmt *st = cql_session_add(t->cql, cql);
	const struct cql_error *err = NULL;

	if (st == NULL) {
		fprintf(stderr, "%s: out of memory\n", TOOL_NAME);
		return NULL;
	}
	if (tool_wait(t, stmt_settled, st, TOOL_PREPARE_WAIT_MS) != 0) {
		fprintf(stderr, "%s: \"%s\" was not prepared within %d s: %s\n", TOOL_NAME, cql,
			TOOL_PREPARE_WAIT_MS / 1000, cql_session_state(t->cql));
		return NULL;
	}
	if (cql_stmt_state(st, &err) == CQL_STMT_FAILED) {
		fprintf(stderr, "%s: the database refused \"%s\": %s%s\n", TOOL_NAME, cql,
			err ? err->message : "not prepared",
			err && err->code == CQL_ERR_INVALID ? " (run `schema --apply`?)" : "");
		return NULL;
	}
	return st;
}

/* tool_cell_text - text of a cell */
void tool_cell_text(const struct cql_cell *c, struct buf *out)
{
	if (c->kind == CQL_CELL_BOOL)
		buf_append_str(out, c->i ? "true" : "false");
	else if (c->kind != CQL_CELL_NULL)
		(void)cql_cell_to_text(c, out);
}

/* tool_result_to_answer - copy the outcome and the rows' first two cells */
void tool_result_to_answer(const struct cql_result *res, struct tool_answer *a)
{
	struct cql_failure f;
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_rows rows;
	int col;

	a->done = 1;
	cql_errclass_classify(res->status, res->err, &f);
	a->ok = f.cls == CQL_ERRCLASS_OK;
	a->retry = f.cls == CQL_ERRCLASS_RETRY;
	snprintf(a->reason, sizeof(a->reason), "%s", a->ok ? "" : f.reason);
	if (!a->ok || !res->has_rows)
		return;
	rows = res->rows;
	while (cql_rows_next(&rows, cells) == 1) {
		for (col = 0; col < TOOL_ANSWER_COLS; col++) {
			if (col < rows.meta.ncols)
				tool_cell_text(&cells[col], &a->cells);
			buf_append_byte(&a->cells, 0);
		}
		a->nrows++;
	}
}

/* tool_answer_free - release the copied cells */
void tool_answer_free(struct tool_answer *a)
{
	buf_free(&a->cells);
	memset(a, 0, sizeof(*a));
}

/* tool_answer_cell - cell col of row r; "" past the end */
const char *tool_answer_cell(const struct tool_answer *a, size_t r, int col)
{
	const char *p = (const char *)a->cells.data;
	size_t k, skip = r * TOOL_ANSWER_COLS + (size_t)col;

	if (r >= a->nrows || col >= TOOL_ANSWER_COLS || p == NULL)
		return "";
	for (k = 0; k < skip; k++)
		p += strlen(p) + 1;
	return p;
}

/* answer_cb - the CQL callback of tool_run */
static void answer_cb(const struct cql_result *res, void *arg)
{
	tool_result_to_answer(res, arg);
}

/* answer_done - tool_wait's condition: the answer arrived */
static int answer_done(void *arg)
{
	return ((struct tool_answer *)arg)->done;
}

/* tool_run - one statement, synchronously */
int tool_run(struct tool *t, struct cql_stmt *st, const char *query,
	     const struct cql_value *vals, size_t nvals, struct tool_answer *a)
{
	enum cql_status why;
	struct cql_result res;
	int rc;

	memset(a, 0, sizeof(*a));
	buf_init(&a->cells);
	rc = st ? cql_session_execute(t->cql, st, vals, nvals, answer_cb, a, &why)
		: cql_session_query(t->cql, query, answer_cb, a, &why);
	if (rc != 0) {
		memset(&res, 0, sizeof(res));
		res.status = why;
		tool_result_to_answer(&res, a);
	}
	tool_wait(t, answer_done, a, 0);
	return a->ok ? 0 : -1;
}

/* tool_run_retrying - tool_run with backoff on retryable failures */
int tool_run_retrying(struct tool *t, struct cql_stmt *st, const char *query,
		      const struct cql_value *vals, size_t nvals, struct tool_answer *a)
{
	int attempt = 1;

	while (tool_run(t, st, query, vals, nvals, a) != 0) {
		if (!a->retry || attempt >= TOOL_MAX_ATTEMPTS)
			return -1;
		tool_answer_free(a);
		tool_sleep(t, tool_backoff_ms(attempt++));
	}
	return 0;
}

/* tool_now_us - wall clock, microseconds */
int64_t tool_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * tool_bump_change - tell the daemons that table changed: a serial that
 * differs from the last (wall-clock microseconds; two writers within the
 * same microsecond would both bump anyway)
 */
int tool_bump_change(struct tool *t, const char *table)
{
	char cql[TOOL_STMT_MAX];
	struct tool_answer a;
	struct cql_stmt *st;
	uint8_t be[8];
	uint64_t serial = (uint64_t)tool_now_us();
	struct cql_value v[2] = { { table, (int32_t)strlen(table) }, { be, 8 } };
	int i, rc;

	for (i = 0; i < 8; i++)
		be[i] = (uint8_t)(serial >> (56 - 8 * i));
	snprintf(cql, sizeof(cql), "INSERT INTO %s.%s (table_name, serial) VALUES (?, ?)",
		 t->cfg.keyspace, TOOL_CHANGES_TABLE);
	if ((st = tool_prepare(t, cql)) == NULL) {
		fprintf(stderr, "%s: warning: %s.%s not written: daemons drop their cached answers "
			"of %s only after CACHE_TTL (run `schema --apply` to create it)\n",
			TOOL_NAME, t->cfg.keyspace, TOOL_CHANGES_TABLE, table);
		return -1;
	}
	rc = tool_run_retrying(t, st, NULL, v, 2, &a);
	if (rc != 0)
		fprintf(stderr, "%s: warning: %s.%s not written (%s): daemons drop their cached "
			"answers of %s only after CACHE_TTL\n", TOOL_NAME, t->cfg.keyspace,
			TOOL_CHANGES_TABLE, a.reason, table);
	tool_answer_free(&a);
	return rc;
}
