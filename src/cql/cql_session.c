/*
 * cql_session - the CQL client the rest of the daemon talks to
 *
 * DESCRIPTION
 *	See cql_session.h. This version keeps one connection at a time and
 *	walks the configured hosts (every address of each) when it fails; a
 *	pool of connections per host plugs in at session_pick_conn().
 *
 *	Statements carry one prepared id: Cassandra derives it from the query
 *	text and keyspace, so it is the same on every node. A node that does
 *	not know it answers Unprepared; we then prepare it on that connection
 *	and execute again, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "../clock.h"
#include "../log.h"
#include "cql_session.h"

#define CQL_MAX_ADDRS		64	/* addresses kept per resolution */
#define CQL_PREPARED_ID_MAX	64	/* bytes in a prepared id */
#define CQL_RETRY_FAILED_MS	30000	/* re-prepare refused statements */
#define CQL_LOG_INTERVAL_MS	10000	/* repeated connect errors */
#define CQL_EXEC_MAX_VALUES	8	/* bound values in one EXECUTE */

struct cql_stmt {
	struct cql_stmt *next;
	char *cql;
	size_t len;
	enum cql_stmt_state state;
	uint8_t id[CQL_PREPARED_ID_MAX];
	size_t idlen;
	unsigned gen;			/* connection generation it was prepared on */
	int preparing;
	struct cql_error err;
};

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char label[CQL_HOST_MAX + 64];
	char host[CQL_HOST_MAX];	/* the name it came from: TLS identity */
};

struct cql_session {
	struct event_base *base;
	struct evdns_base *dns;
	struct cql_session_config cfg;
	uint8_t version;

	struct cql_stmt *stmts;
	struct cql_conn *conn;		/* current connection, maybe not ready */
	unsigned gen;			/* bumps on every ready connection */
	int ready;

	size_t host_idx;		/* host being tried */
	struct addr addrs[CQL_MAX_ADDRS];
	size_t naddrs, addr_idx;
	struct evdns_getaddrinfo_request *dns_req;

	struct event *retry_timer;	/* reconnect backoff */
	struct event *reprepare_timer;
	int backoff_ms;
	struct log_limit connect_log;
	struct log_limit auth_log;
	char state_text[640];
	unsigned failures;		/* connection attempts that failed */
	int stopping;
};

/* An EXECUTE in flight. */
struct exec {
	struct cql_session *s;
	struct cql_stmt *st;
	cql_result_fn cb;
	void *arg;
	int reprepared;
	size_t nvals;
	struct cql_value vals[CQL_EXEC_MAX_VALUES];
	/* copies of the bound values follow */
};

static void session_connect(struct cql_session *s);
static void session_schedule(struct cql_session *s);

/* cql_parse_hosts - split a host list */
int cql_parse_hosts(const char *list, uint16_t default_port,
		    struct cql_session_config *cfg, char *err, size_t errlen)
{
	const char *p = list, *end, *colon, *hend;
	struct cql_host_spec *h;

	cfg->nhosts = 0;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		end = p + strcspn(p, ", ");
		if (cfg->nhosts == CQL_MAX_HOSTS) {
			snprintf(err, errlen, "more than %d hosts", CQL_MAX_HOSTS);
			return -1;
		}
		h = &cfg->hosts[cfg->nhosts];
		h->port = default_port;
		if (*p == '[') {		/* [v6]:port */
			hend = memchr(p, ']', (size_t)(end - p));
			if (hend == NULL) {
				snprintf(err, errlen, "unterminated '[' in host '%.*s'",
					 (int)(end - p), p);
				return -1;
			}
			colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
			if (hend + 1 < end && colon == NULL) {
				snprintf(err, errlen, "junk after ']' in host '%.*s'",
					 (int)(end - p), p);
				return -1;
			}
			p++;
		} else {
			colon = memchr(p, ':', (size_t)(end - p));
			if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
				snprintf(err, errlen, "IPv6 address '%.*s' must be written [addr]:port",
					 (int)(end - p), p);
				return -1;
			}
			hend = colon ? colon : end;
		}
		if (hend == p || (size_t)(hend - p) >= sizeof(h->host)) {
			snprintf(err, errlen, "bad host name in '%s'", list);
			return -1;
		}
		memcpy(h->host, p, (size_t)(hend - p));
		h->host[hend - p] = 0;
		if (colon) {
			char *e;
			long port = strtol(colon + 1, &e, 10);

			if (e != end || port < 1 || port > 65535) {
				snprintf(err, errlen, "bad port in '%.*s'",
					 (int)(end - colon - 1), colon + 1);
				return -1;
			}
			h->port = (uint16_t)port;
		}
		cfg->nhosts++;
		p = end;
	}
	if (cfg->nhosts == 0) {
		snprintf(err, errlen, "no host given");
		return -1;
	}
	return 0;
}

/* retry_cb - the backoff ran out: connect again */
static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_connect(arg);
}

/* cql_session_new - a session that has not started connecting */
struct cql_session *cql_session_new(struct event_base *base,
				    struct evdns_base *dns,
				    const struct cql_session_config *cfg)
{
	struct cql_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	s->dns = dns;
	s->cfg = *cfg;
	s->version = cfg->max_version ? cfg->max_version : 4;
	s->backoff_ms = cfg->reconnect_min_ms;
	s->retry_timer = evtimer_new(base, retry_cb, s);
	s->reprepare_timer = NULL;
	snprintf(s->state_text, sizeof(s->state_text), "not connected yet");
	return s;
}

/* set_state - remember a one-line description of the backend */
static void set_state(struct cql_session *s, const char *fmt, const char *a,
		      const char *b)
{
	snprintf(s->state_text, sizeof(s->state_text), fmt, a, b);
}

/* stmt_prepared - a PREPARE answer arrived */
static void stmt_prepared(const struct cql_response *r, void *arg);

struct prep {
	struct cql_session *s;
	struct cql_stmt *st;
	unsigned gen;
	struct exec *then;		/* execute after preparing (Unprepared) */
};

static int exec_send(struct exec *x, enum cql_status *why);
static void exec_finish(struct exec *x, const struct cql_result *res);

/* stmt_prepare - send PREPARE for one statement on the current connection */
static int stmt_prepare(struct cql_session *s, struct cql_stmt *st,
			struct exec *then)
{
	struct prep *p;
	struct buf b;
	enum cql_status why;

	if (s->conn == NULL || !cql_conn_is_ready(s->conn))
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->s = s;
	p->st = st;
	p->gen = s->gen;
	p->then = then;
	buf_init(&b);
	cql_encode_prepare(&b, s->version, 0, st->cql, st->len);
	if (cql_conn_send(s->conn, &b, stmt_prepared, p, &why) != 0) {
		buf_free(&b);
		free(p);
		return -1;
	}
	buf_free(&b);
	if (then == NULL)
		st->preparing = 1;
	return 0;
}

/* stmt_prepared - record the id, or why the server refused */
static void stmt_prepared(const struct cql_response *r, void *arg)
{
	struct prep *p = arg;
	struct cql_session *s = p->s;
	struct cql_stmt *st = p->st;
	struct exec *then = p->then;
	struct cql_prepared pr;
	struct cql_rd rd;
	struct cql_result res;
	enum cql_status why;

	free(p);
	if (then == NULL)
		st->preparing = 0;
	memset(&res, 0, sizeof(res));
	if (r->status == CQL_STATUS_OK && r->opcode == CQL_OP_RESULT) {
		cql_rd_init(&rd, r->body, r->len);
		if (cql_rd_int(&rd) == CQL_RESULT_PREPARED &&
		    cql_decode_prepared(&rd, r->version, &pr) == 0 &&
		    pr.idlen > 0 && pr.idlen <= sizeof(st->id)) {
			memcpy(st->id, pr.id, pr.idlen);
			st->idlen = pr.idlen;
			st->state = CQL_STMT_READY;
			st->gen = s->gen;
			msg_debug("cql: prepared: %s", st->cql);
			if (then && exec_send(then, &why) != 0) {
				res.status = why;
				exec_finish(then, &res);
			}
			return;
		}
		res.status = CQL_STATUS_PROTOCOL;
	} else if (r->status == CQL_STATUS_SERVER_ERROR) {
		res.status = CQL_STATUS_SERVER_ERROR;
		res.err = r->err;
		if (!cql_error_retryable(r->err->code)) {
			/* The query itself is wrong here: a configuration problem. */
			if (st->state != CQL_STMT_FAILED ||
			    strcmp(st->err.message, r->err->message) != 0)
				msg_error("cql: cannot prepare \"%s\": %s: %s", st->cql,
					  cql_error_name(r->err->code), r->err->message);
			st->state = CQL_STMT_FAILED;
			st->err = *r->err;
			res.status = CQL_STATUS_NOT_PREPARED;
			res.err = &st->err;
		}
	} else {
		res.status = r->status == CQL_STATUS_OK ? CQL_STATUS_PROTOCOL : r->status;
	}
	if (then)
		exec_finish(then, &res);
}

/* prepare_all - (re)prepare every statement on a new connection */
static void prepare_all(struct cql_session *s)
{
	struct cql_stmt *st;

	for (st = s->stmts; st; st = st->next)
		if (st->gen != s->gen || st->state != CQL_STMT_READY)
			(void)stmt_prepare(s, st, NULL);
}

/* reprepare_cb - retry statements the server refused, now and then */
static void reprepare_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cql_session *s = arg;
	struct cql_stmt *st;

	(void)fd;
	(void)what;
	for (st = s->stmts; st; st = st->next)
		if (st->state == CQL_STMT_FAILED && !st->preparing)
			(void)stmt_prepare(s, st, NULL);
}

/* conn_ready - handshake done: prepare and serve */
static void conn_ready(struct cql_conn *conn, void *arg)
{
	struct cql_session *s = arg;

	s->ready = 1;
	s->gen++;
	s->backoff_ms = s->cfg.reconnect_min_ms;
	s->connect_log.last_ms = 0;
	msg_info("cql: connected to %s (protocol v%u)", cql_conn_label(conn),
		 (unsigned)cql_conn_version(conn));
	set_state(s, "connected to %s%s", cql_conn_label(conn), "");
	prepare_all(s);
}

/* next_target - advance to the next address, or the next host */
static void next_target(struct cql_session *s)
{
	if (++s->addr_idx < s->naddrs)
		return;
	s->naddrs = s->addr_idx = 0;
	s->host_idx = (s->host_idx + 1) % s->cfg.nhosts;
}

/* conn_closed - the connection went: fall back, back off, reconnect */
static void conn_closed(struct cql_conn *conn, enum cql_close_reason why,
			const char *detail, void *arg)
{
	struct cql_session *s = arg;
	char label[CQL_HOST_MAX + 64];

	snprintf(label, sizeof(label), "%s", cql_conn_label(conn));
	cql_conn_free(conn);
	s->conn = NULL;
	if (s->stopping)
		return;
	if (why == CQL_CLOSE_VERSION && s->version > 3) {
		msg_warn("cql: %s does not speak protocol v%u (%s); retrying with v%u",
			 label, (unsigned)s->version, detail, (unsigned)(s->version - 1));
		s->version--;
		s->ready = 0;
		session_connect(s);
		return;
	}
	s->failures++;
	if (why == CQL_CLOSE_AUTH)
		msg_limited(&s->auth_log, CQL_LOG_INTERVAL_MS * 6, LOG_LEVEL_ERROR,
			    "cql: %s: authentication failed: %s", label, detail);
	else if (s->ready)
		msg_warn("cql: lost connection to %s: %s", label, detail);
	else
		msg_limited(&s->connect_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: cannot connect to %s: %s", label, detail);
	set_state(s, "disconnected from %s: %s", label, detail);
	s->ready = 0;
	next_target(s);
	session_schedule(s);
}

/* session_schedule - reconnect after the backoff, with jitter */
static void session_schedule(struct cql_session *s)
{
	struct timeval tv;
	int ms = s->backoff_ms;

	/* Full jitter on the upper half: spread the retries of many daemons. */
	ms = s->backoff_ms / 2 + (int)((unsigned)rand() % (unsigned)(s->backoff_ms / 2 + 1));
	s->backoff_ms = s->backoff_ms * 2 > s->cfg.reconnect_max_ms ?
			s->cfg.reconnect_max_ms : s->backoff_ms * 2;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->retry_timer, &tv);
}

/* connect_addr - open a connection to the current address */
static void connect_addr(struct cql_session *s)
{
	static const struct cql_conn_callbacks cbs = { conn_ready, conn_closed };
	struct cql_conn_options o;
	struct addr *a = &s->addrs[s->addr_idx];

	o.version = s->version;
	o.host = a->host;
	o.tls = s->cfg.tls_ctx;
	o.tls_verify = s->cfg.tls.verify;
	o.auth = s->cfg.auth;
	o.connect_timeout_ms = s->cfg.connect_timeout_ms;
	o.request_timeout_ms = s->cfg.request_timeout_ms;
	o.max_body = CQL_CONN_MAX_BODY;
	s->conn = cql_conn_new(s->base, (struct sockaddr *)&a->ss, a->len,
			       a->label, &o, &cbs, s);
	if (s->conn == NULL) {
		msg_limited(&s->connect_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: cannot create a connection to %s", a->label);
		next_target(s);
		session_schedule(s);
	}
}

/* resolved - evdns answered for the current host */
static void resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct cql_session *s = arg;
	struct cql_host_spec *h = &s->cfg.hosts[s->host_idx];
	struct evutil_addrinfo *ai;
	char ip[INET6_ADDRSTRLEN];

	s->dns_req = NULL;
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0) {
		msg_limited(&s->connect_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: cannot resolve %s: %s", h->host,
			    evutil_gai_strerror(result));
		set_state(s, "cannot resolve %s: %s", h->host, evutil_gai_strerror(result));
		s->failures++;
		next_target(s);
		session_schedule(s);
		return;
	}
	s->naddrs = s->addr_idx = 0;
	for (ai = res; ai && s->naddrs < CQL_MAX_ADDRS; ai = ai->ai_next) {
		struct addr *a = &s->addrs[s->naddrs];
		const void *inaddr;

		if (ai->ai_addrlen > sizeof(a->ss))
			continue;
		memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
		a->len = (socklen_t)ai->ai_addrlen;
		if (ai->ai_family == AF_INET)
			inaddr = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			inaddr = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		else
			continue;
		evutil_inet_ntop(ai->ai_family, inaddr, ip, sizeof(ip));
		snprintf(a->label, sizeof(a->label),
			 ai->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
			 (unsigned)h->port);
		memcpy(a->host, h->host, sizeof(a->host));	/* same size, terminated */
		s->naddrs++;
	}
	evutil_freeaddrinfo(res);
	if (s->naddrs == 0) {
		next_target(s);
		session_schedule(s);
		return;
	}
	connect_addr(s);
}

/* session_connect - connect to the current target, resolving it first */
static void session_connect(struct cql_session *s)
{
	struct evutil_addrinfo hints;
	struct cql_host_spec *h;
	char port[8];

	if (s->stopping || s->conn != NULL || s->dns_req != NULL)
		return;
	if (s->addr_idx < s->naddrs) {
		connect_addr(s);
		return;
	}
	h = &s->cfg.hosts[s->host_idx];
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%u", (unsigned)h->port);
	/* May call resolved() at once (numeric address, /etc/hosts). */
	s->dns_req = evdns_getaddrinfo(s->dns, h->host, port, &hints, resolved, s);
}

/* cql_session_start - begin connecting; lookups answer TEMP until ready */
void cql_session_start(struct cql_session *s)
{
	struct timeval tv = { CQL_RETRY_FAILED_MS / 1000, 0 };

	s->reprepare_timer = event_new(s->base, -1, EV_PERSIST, reprepare_cb, s);
	if (s->reprepare_timer)
		evtimer_add(s->reprepare_timer, &tv);
	session_connect(s);
}

/* cql_session_free - close everything */
void cql_session_free(struct cql_session *s)
{
	struct cql_stmt *st, *next;

	if (s == NULL)
		return;
	s->stopping = 1;
	if (s->dns_req)
		evdns_getaddrinfo_cancel(s->dns_req);
	if (s->conn)
		cql_conn_free(s->conn);
	if (s->retry_timer)
		event_free(s->retry_timer);
	if (s->reprepare_timer)
		event_free(s->reprepare_timer);
	for (st = s->stmts; st; st = next) {
		next = st->next;
		free(st->cql);
		free(st);
	}
	free(s);
}

/* cql_session_add - register a statement */
struct cql_stmt *cql_session_add(struct cql_session *s, const char *cql)
{
	struct cql_stmt *st;

	/* One statement per query text: maps (and reloads) may share it. */
	for (st = s->stmts; st; st = st->next)
		if (strcmp(st->cql, cql) == 0)
			return st;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->cql = strdup(cql)) == NULL) {
		free(st);
		return NULL;
	}
	st->len = strlen(cql);
	st->state = CQL_STMT_NEW;
	st->next = s->stmts;
	s->stmts = st;
	if (s->ready)
		(void)stmt_prepare(s, st, NULL);
	return st;
}

/* cql_stmt_state - where a statement stands, and the server's refusal */
enum cql_stmt_state cql_stmt_state(const struct cql_stmt *st,
				   const struct cql_error **err)
{
	if (err)
		*err = st->state == CQL_STMT_FAILED ? &st->err : NULL;
	return st->state;
}

/* exec_finish - deliver a result and free the execution */
static void exec_finish(struct exec *x, const struct cql_result *res)
{
	x->cb(res, x->arg);
	free(x);
}

/* exec_answer - an EXECUTE answer arrived */
static void exec_answer(const struct cql_response *r, void *arg)
{
	struct exec *x = arg;
	struct cql_session *s = x->s;
	struct cql_result res;
	struct cql_rd rd;
	int32_t kind;

	memset(&res, 0, sizeof(res));
	res.status = r->status;
	res.err = r->err;
	res.host = s->conn ? cql_conn_label(s->conn) : "?";
	if (r->status == CQL_STATUS_SERVER_ERROR &&
	    r->err->code == CQL_ERR_UNPREPARED && !x->reprepared) {
		/* This node lost (or never had) the statement: prepare, retry. */
		x->reprepared = 1;
		msg_debug("cql: %s: statement unprepared, preparing again", res.host);
		if (stmt_prepare(s, x->st, x) == 0)
			return;
		res.status = CQL_STATUS_NOT_CONNECTED;
		res.err = NULL;
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
				if (cql_decode_rows(&rd, NULL, &res.rows) != 0)
					res.status = CQL_STATUS_PROTOCOL;
				else
					res.has_rows = 1;
			}
		}
	}
	exec_finish(x, &res);
}

/* exec_send - encode and send EXECUTE on the current connection */
static int exec_send(struct exec *x, enum cql_status *why)
{
	struct cql_session *s = x->s;
	struct buf b;
	int rc;

	if (s->conn == NULL || !cql_conn_is_ready(s->conn)) {
		*why = CQL_STATUS_NOT_CONNECTED;
		return -1;
	}
	buf_init(&b);
	cql_encode_execute(&b, s->version, 0, x->st->id, x->st->idlen,
			   s->cfg.consistency, x->vals, x->nvals, 0);
	rc = cql_conn_send(s->conn, &b, exec_answer, x, why);
	buf_free(&b);
	return rc;
}

/* cql_session_execute - run a prepared statement */
int cql_session_execute(struct cql_session *s, struct cql_stmt *st,
			const struct cql_value *vals, size_t nvals,
			cql_result_fn cb, void *arg, enum cql_status *why)
{
	struct exec *x;
	size_t i, total = 0;
	uint8_t *p;

	if (!s->ready || s->conn == NULL || !cql_conn_is_ready(s->conn)) {
		*why = CQL_STATUS_NOT_CONNECTED;
		return -1;
	}
	if (st->state == CQL_STMT_FAILED) {
		*why = CQL_STATUS_NOT_PREPARED;
		return -1;
	}
	if (st->state != CQL_STMT_READY) {
		/* Still preparing on this connection: the answer is near. */
		*why = CQL_STATUS_NOT_CONNECTED;
		return -1;
	}
	if (nvals > CQL_EXEC_MAX_VALUES) {
		*why = CQL_STATUS_PROTOCOL;
		return -1;
	}
	for (i = 0; i < nvals; i++)
		if (vals[i].len > 0)
			total += (size_t)vals[i].len;
	if ((x = calloc(1, sizeof(*x) + total)) == NULL) {
		*why = CQL_STATUS_BUSY;
		return -1;
	}
	x->s = s;
	x->st = st;
	x->cb = cb;
	x->arg = arg;
	x->nvals = nvals;
	p = (uint8_t *)(x + 1);
	for (i = 0; i < nvals; i++) {
		x->vals[i].len = vals[i].len;
		x->vals[i].p = p;
		if (vals[i].len > 0) {
			memcpy(p, vals[i].p, (size_t)vals[i].len);
			p += vals[i].len;
		}
	}
	if (exec_send(x, why) != 0) {
		free(x);
		return -1;
	}
	return 0;
}

/* cql_session_is_ready - a connection is up */
int cql_session_is_ready(const struct cql_session *s)
{
	return s->ready;
}

/* cql_session_state - one line for logs and status */
const char *cql_session_state(const struct cql_session *s)
{
	return s->state_text;
}

/* cql_session_failures - failed connection attempts (and lost connections) */
unsigned cql_session_failures(const struct cql_session *s)
{
	return s->failures;
}

/* cql_session_nhosts - hosts configured */
size_t cql_session_nhosts(const struct cql_session *s)
{
	return s->cfg.nhosts;
}
