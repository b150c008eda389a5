/*
 * cql_session - the CQL client the rest of the daemon talks to
 *
 * DESCRIPTION
 *	See cql_session.h. Nodes ("hosts") are only ever added, never freed
 *	before the session, so connections and requests may keep pointers
 *	to them. Each host has a fixed pool of connection slots; a slot whose
 *	connection fails is reconnected after the host's backoff.
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
#include "cql_pages.h"
#include "cql_session.h"

#define CQL_MAX_ADDRS		64	/* addresses kept per resolution */
#define CQL_MAX_NODES		64	/* nodes known to a session */
#define CQL_FORGET_REFRESHES	3	/* a node down and unlisted this long goes */
#define CQL_MAX_POOL		16	/* connections per node */
#define CQL_PREPARED_ID_MAX	64	/* bytes in a prepared id */
#define CQL_RETRY_FAILED_MS	30000	/* re-prepare refused statements */
#define CQL_REFRESH_MS		60000	/* default names and peers refresh */
#define CQL_LOG_INTERVAL_MS	10000	/* repeated connect errors */
#define CQL_EXEC_MAX_VALUES	8	/* bound values in one EXECUTE */
#define CQL_SUSPECT_LOAD	1024	/* load of a connection that went silent */
#define CQL_LABEL_MAX		(CQL_HOST_MAX + 64)

struct cql_stmt {
	struct cql_stmt *next;
	char *cql;
	size_t len;
	enum cql_stmt_state state;
	uint8_t id[CQL_PREPARED_ID_MAX];
	size_t idlen;
	int preparing;			/* a retry of a refused statement runs */
	int retired;			/* no map uses it: not prepared again */
	struct cql_error err;
	int has_meta;			/* result metadata known (prepared) */
	struct cql_rows_meta meta;	/* of the rows it returns */
};

struct host;

/* One slot of a node's pool. */
struct pconn {
	struct cql_session *s;
	struct host *h;
	struct cql_conn *c;		/* NULL while waiting to reconnect */
	int usable;			/* ready, statements prepared */
	int prepares;			/* PREPAREs outstanding before usable */
	struct event *retry;
};

struct host {
	unsigned id;			/* never reused within a session */
	unsigned seen;			/* refresh when last resolved or listed */
	int spec;			/* configured name it came from; -1: peers */
	char name[CQL_HOST_MAX];	/* TLS identity: the configured name */
	char label[CQL_LABEL_MAX];	/* address:port for logs */
	struct sockaddr_storage ss;
	socklen_t len;
	char dc[64];
	int failed;			/* failed since it was last up */
	int backoff_ms;
	struct log_limit log;
	struct pconn pool[CQL_MAX_POOL];
};

struct resolve {
	struct cql_session *s;
	size_t spec;			/* index in cfg.hosts */
	unsigned listed;		/* refresh of its last successful resolution */
	struct evdns_getaddrinfo_request *req;
};

struct cql_session {
	struct event_base *base;
	struct evdns_base *dns;
	struct cql_session_config cfg;
	uint8_t version;

	struct cql_stmt *stmts;
	struct host *hosts[CQL_MAX_NODES];
	size_t nhosts;
	size_t rr;			/* rotates the starting node */
	unsigned next_host_id;
	unsigned refreshes;		/* refresh_cb runs so far */
	unsigned peers_listed;		/* refresh of the last peers table read */
	struct resolve resolves[CQL_MAX_HOSTS];
	int discovering, discovered;

	struct event *refresh_timer;
	struct event *reprepare_timer;
	struct timeval deadline_tv_storage;
	const struct timeval *deadline_tv;	/* lookup deadline, a common timeout */
	struct log_limit connect_log;
	struct log_limit auth_log;
	struct log_limit full_log;
	struct log_limit paging_log;
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
	struct pconn *pc;		/* where it was last sent */
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

struct prep {
	struct cql_session *s;
	struct cql_stmt *st;
	struct pconn *pc;
	struct cql_conn *c;		/* the connection it was sent on */
	struct exec *then;		/* execute after preparing (Unprepared) */
};

static void pconn_connect(struct pconn *pc);
static int exec_send(struct exec *x, struct pconn *on, enum cql_status *why);
static void exec_finish(struct exec *x, const struct cql_result *res);
static int exec_retry(struct exec *x, const char *host, const char *failure);
static void discover(struct cql_session *s, struct pconn *pc);

/* cql_parse_hosts - split a host list into a session's configuration */
int cql_parse_hosts(const char *list, uint16_t default_port,
		    struct cql_session_config *cfg, char *err, size_t errlen)
{
	return cql_hosts_parse(list, default_port, cfg->hosts, &cfg->nhosts, err, errlen);
}

/* set_state - remember a one-line description of the backend */
static void set_state(struct cql_session *s)
{
	size_t i, up = 0, n = 0;
	int k, len;

	for (i = 0; i < s->nhosts; i++) {
		for (k = 0; k < s->cfg.connections_per_host; k++)
			if (s->hosts[i]->pool[k].usable) {
				up++;
				break;
			}
	}
	len = snprintf(s->state_text, sizeof(s->state_text), "%zu of %zu nodes up", up, s->nhosts);
	for (i = 0; i < s->nhosts && len > 0 && (size_t)len < sizeof(s->state_text) - 80 && n < 4; i++) {
		for (k = 0; k < s->cfg.connections_per_host; k++)
			if (s->hosts[i]->pool[k].usable)
				break;
		if (k < s->cfg.connections_per_host) {
			len += snprintf(s->state_text + len, sizeof(s->state_text) - (size_t)len,
					"%s%s", n++ ? ", " : " (", s->hosts[i]->label);
		}
	}
	if (n && (size_t)len < sizeof(s->state_text) - 2)
		snprintf(s->state_text + len, sizeof(s->state_text) - (size_t)len, ")");
}

/* note_failure - why the backend is not answering, for logs and TEMP */
static void note_failure(struct cql_session *s, const char *label, const char *detail)
{
	size_t up = 0, known = 0;

	cql_session_hosts_up(s, &up, &known);
	if (up == 0)
		snprintf(s->state_text, sizeof(s->state_text), "no node up; %.200s: %.300s",
			 label, detail);
	else
		set_state(s);
}

/* host_up - the node has a usable connection */
static int host_up(const struct host *h, int per_host)
{
	int k;

	for (k = 0; k < per_host; k++)
		if (h->pool[k].usable)
			return 1;
	return 0;
}

/* jitter_ms - full jitter over the upper half of a backoff */
static int jitter_ms(int backoff)
{
	return backoff / 2 + (int)((unsigned)rand() % (unsigned)(backoff / 2 + 1));
}

/* pconn_schedule - reconnect this slot after the node's backoff */
static void pconn_schedule(struct pconn *pc)
{
	struct host *h = pc->h;
	int ms = jitter_ms(h->backoff_ms);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	h->backoff_ms = h->backoff_ms * 2 > pc->s->cfg.reconnect_max_ms ?
			pc->s->cfg.reconnect_max_ms : h->backoff_ms * 2;
	evtimer_add(pc->retry, &tv);
}

/* ---- statements --------------------------------------------------- */

static void stmt_prepared(const struct cql_response *r, void *arg);

/* stmt_prepare - send PREPARE on one connection */
static int stmt_prepare(struct pconn *pc, struct cql_stmt *st, struct exec *then)
{
	struct prep *p;
	struct buf b;
	enum cql_status why;

	if (pc->c == NULL || !cql_conn_is_ready(pc->c))
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->s = pc->s;
	p->st = st;
	p->pc = pc;
	p->c = pc->c;
	p->then = then;
	buf_init(&b);
	cql_encode_prepare(&b, pc->s->version, 0, st->cql, st->len);
	if (cql_conn_send(pc->c, &b, stmt_prepared, p, &why) != 0) {
		buf_free(&b);
		free(p);
		return -1;
	}
	buf_free(&b);
	return 0;
}

/* pconn_prepared_one - one of a new connection's PREPAREs is back */
static void pconn_prepared_one(struct pconn *pc)
{
	struct cql_session *s = pc->s;

	if (pc->prepares > 0 && --pc->prepares == 0 && pc->c && cql_conn_is_ready(pc->c)) {
		int was_up = host_up(pc->h, s->cfg.connections_per_host);

		/* Only a connection that serves resets backoff and log limit. */
		pc->usable = 1;
		pc->h->failed = 0;
		pc->h->backoff_ms = s->cfg.reconnect_min_ms;
		pc->h->log.last_ms = 0;
		if (!was_up)
			msg_info("cql: %s is up (protocol v%u)", pc->h->label, (unsigned)s->version);
		set_state(s);
		if (s->cfg.discovery && !s->discovered && !s->discovering)
			discover(s, pc);
	}
}

/* stmt_prepared - record the id, or why the server refused */
static void stmt_prepared(const struct cql_response *r, void *arg)
{
	struct prep *p = arg;
	struct cql_stmt *st = p->st;
	struct exec *then = p->then;
	struct pconn *pc = p->pc;
	int current = pc->c == p->c;	/* not a reply for a replaced connection */
	struct cql_prepared pr;
	struct cql_rd rd;
	struct cql_result res;
	enum cql_status why = CQL_STATUS_TIMEOUT;

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
			st->has_meta = !(pr.result.flags & CQL_META_NO_METADATA);
			st->meta = pr.result;
			st->meta.paging_state = NULL;
			msg_debug("cql: prepared: %s", st->cql);
			if (then == NULL && current)
				pconn_prepared_one(pc);
			if (then && (then->abandoned ||
				     exec_send(then, current && cql_conn_is_ready(pc->c) ? pc : NULL,
					       &why) != 0)) {
				res.status = why;
				exec_finish(then, &res);
			}
			return;
		}
		res.status = CQL_STATUS_PROTOCOL;
	} else if (r->status == CQL_STATUS_SERVER_ERROR) {
		res.status = CQL_STATUS_SERVER_ERROR;
		res.err = r->err;
		if (!cql_error_retryable(r->err->code) && st->state == CQL_STMT_READY) {
			/*
			 * Other nodes prepared it: this one has not caught up
			 * with a schema change (or lost a table). Not the
			 * query's fault: keep it, and keep reads off this node
			 * (a new connection closes and backs off; a read
			 * tries another node).
			 */
			msg_limited(&pc->h->log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
				    "cql: %s refuses \"%s\", which other nodes prepared "
				    "(schema disagreement?): %s: %s", pc->h->label, st->cql,
				    cql_error_name(r->err->code), r->err->message);
			res.status = CQL_STATUS_NODE_REFUSED;
		} else if (!cql_error_retryable(r->err->code)) {
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
	if (then == NULL && current && !pc->usable && res.status != CQL_STATUS_NOT_PREPARED &&
	    r->status != CQL_STATUS_CONN_LOST && cql_conn_is_ready(pc->c)) {
		/*
		 * A new connection whose node cannot prepare now (Overloaded,
		 * bootstrapping, no answer) would serve nothing: close it and
		 * let the backoff bring it back, as for a failed connect.
		 */
		char detail[CQL_ERROR_MSG_MAX + 64];

		snprintf(detail, sizeof(detail), "cannot prepare statements: %s%s%s",
			 r->err ? cql_error_name(r->err->code) : cql_status_name(res.status),
			 r->err ? ": " : "", r->err ? r->err->message : "");
		cql_conn_close(pc->c, CQL_CLOSE_HANDSHAKE, detail);
		return;
	}
	if (then == NULL && current)
		pconn_prepared_one(pc);
	if (then == NULL)
		return;
	/* Preparing again after Unprepared failed on this node: another may serve. */
	if (res.status != CQL_STATUS_NOT_PREPARED &&
	    exec_retry(then, pc->h->label, cql_status_name(res.status)) == 0)
		return;
	exec_finish(then, &res);
}

/* first_usable - any usable connection */
static struct pconn *first_usable(struct cql_session *s)
{
	size_t i;
	int k;

	for (i = 0; i < s->nhosts; i++)
		for (k = 0; k < s->cfg.connections_per_host; k++)
			if (s->hosts[i]->pool[k].usable)
				return &s->hosts[i]->pool[k];
	return NULL;
}

/* reprepare_cb - retry statements the server refused, now and then */
static void reprepare_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cql_session *s = arg;
	struct pconn *pc = first_usable(s);
	struct cql_stmt *st;

	(void)fd;
	(void)what;
	if (pc == NULL)
		return;
	/* NEW: registered while every node failed to prepare it (a reload). */
	for (st = s->stmts; st; st = st->next)
		if (st->state != CQL_STMT_READY && !st->preparing && !st->retired &&
		    stmt_prepare(pc, st, NULL) == 0)
			st->preparing = 1;
}

/* ---- connections --------------------------------------------------- */

/* conn_ready - handshake done: prepare everything, then serve */
static void conn_ready(struct cql_conn *conn, void *arg)
{
	struct pconn *pc = arg;
	struct cql_session *s = pc->s;
	struct cql_stmt *st;

	(void)conn;
	/* +1 holds the count until every PREPARE is sent. */
	pc->prepares = 1;
	for (st = s->stmts; st; st = st->next)
		if (!st->retired && stmt_prepare(pc, st, NULL) == 0)
			pc->prepares++;
	pconn_prepared_one(pc);
}

/* conn_closed - the connection went: fall back, back off, reconnect */
static void conn_closed(struct cql_conn *conn, enum cql_close_reason why,
			const char *detail, void *arg)
{
	struct pconn *pc = arg;
	struct cql_session *s = pc->s;
	struct host *h = pc->h;
	int was_usable = pc->usable;

	cql_conn_free(conn);
	pc->c = NULL;
	pc->usable = 0;
	pc->prepares = 0;
	if (s->stopping)
		return;
	if (why == CQL_CLOSE_VERSION && s->version > 3) {
		msg_warn("cql: %s does not speak protocol v%u (%s); using v%u from now on",
			 h->label, (unsigned)s->version, detail, (unsigned)(s->version - 1));
		s->version--;
		pconn_connect(pc);
		return;
	}
	s->failures++;
	h->failed = 1;
	if (why == CQL_CLOSE_AUTH)
		msg_limited(&h->log, CQL_LOG_INTERVAL_MS * 6, LOG_LEVEL_ERROR,
			    "cql: %s: authentication failed: %s", h->label, detail);
	else if (was_usable)
		msg_warn("cql: lost connection to %s: %s", h->label, detail);
	else
		msg_limited(&h->log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: cannot connect to %s: %s", h->label, detail);
	if (was_usable && !host_up(h, s->cfg.connections_per_host))
		msg_warn("cql: %s is down", h->label);
	note_failure(s, h->label, detail);
	pconn_schedule(pc);
}

/* pconn_connect - open this slot's connection */
static void pconn_connect(struct pconn *pc)
{
	static const struct cql_conn_callbacks cbs = { conn_ready, conn_closed };
	struct cql_session *s = pc->s;
	struct cql_conn_options o;

	if (s->stopping || pc->c)
		return;
	memset(&o, 0, sizeof(o));
	o.version = s->version;
	o.host = pc->h->name;
	o.tls = s->cfg.tls_ctx;
	o.tls_verify = s->cfg.tls.verify;
	o.auth = s->cfg.auth;
	o.connect_timeout_ms = s->cfg.connect_timeout_ms;
	o.request_timeout_ms = s->cfg.request_timeout_ms;
	o.heartbeat_ms = s->cfg.heartbeat_ms;
	o.max_body = CQL_CONN_MAX_BODY;
	pc->c = cql_conn_new(s->base, (struct sockaddr *)&pc->h->ss, pc->h->len,
			     pc->h->label, &o, &cbs, pc);
	if (pc->c == NULL) {
		msg_limited(&pc->h->log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: cannot create a connection to %s", pc->h->label);
		s->failures++;
		pc->h->failed = 1;
		pconn_schedule(pc);
	}
}

/* retry_cb - a slot's backoff ran out */
static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pconn_connect(arg);
}

/* sockaddr_same - same address and port */
static int sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

/* host_find - the known node at this address and port */
static struct host *host_find(struct cql_session *s, const struct sockaddr_storage *ss)
{
	size_t i;

	for (i = 0; i < s->nhosts; i++)
		if (sockaddr_same(&s->hosts[i]->ss, ss))
			return s->hosts[i];
	return NULL;
}

/*
 * host_listed - a node that the resolution of configured name spec, or a
 * peers table (spec -1), lists: the known one, marked as seen now, or a
 * new one to keep connections to (NULL when the table is full).
 */
static struct host *host_listed(struct cql_session *s, const struct sockaddr *sa,
				socklen_t len, const char *name, int spec)
{
	struct sockaddr_storage ss;
	struct host *h;
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	int k;

	if (len > sizeof(ss) || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return NULL;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, len);
	if ((h = host_find(s, &ss)) != NULL) {
		h->seen = s->refreshes;
		return h;
	}
	if (s->nhosts == CQL_MAX_NODES) {
		msg_limited(&s->full_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: more than %d nodes; ignoring the others", CQL_MAX_NODES);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->id = ++s->next_host_id;
	h->seen = s->refreshes;
	h->spec = spec;
	h->ss = ss;
	h->len = len;
	snprintf(h->name, sizeof(h->name), "%s", name);
	if (sa->sa_family == AF_INET) {
		evutil_inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		snprintf(h->label, sizeof(h->label), "%s:%u", ip, port);
	} else {
		evutil_inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		snprintf(h->label, sizeof(h->label), "[%s]:%u", ip, port);
	}
	h->backoff_ms = s->cfg.reconnect_min_ms;
	for (k = 0; k < s->cfg.connections_per_host; k++) {
		h->pool[k].s = s;
		h->pool[k].h = h;
		h->pool[k].retry = evtimer_new(s->base, retry_cb, &h->pool[k]);
		if (h->pool[k].retry == NULL) {
			while (k-- > 0)
				event_free(h->pool[k].retry);
			free(h);
			return NULL;
		}
	}
	s->hosts[s->nhosts++] = h;
	if (spec < 0)
		msg_info("cql: discovered node %s", h->label);
	for (k = 0; k < s->cfg.connections_per_host; k++)
		pconn_connect(&h->pool[k]);
	return h;
}

/* ---- names and discovery -------------------------------------------- */

/* resolved - evdns answered for one configured name */
static void resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct resolve *rv = arg;
	struct cql_session *s = rv->s;
	struct cql_host_spec *spec = &s->cfg.hosts[rv->spec];
	struct evutil_addrinfo *ai;
	size_t n = 0;

	rv->req = NULL;
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0) {
		char detail[300];

		snprintf(detail, sizeof(detail), "cannot resolve %s: %s", spec->host,
			 evutil_gai_strerror(result));
		msg_limited(&s->connect_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN, "cql: %s", detail);
		s->failures++;
		note_failure(s, spec->host, detail);
		return;
	}
	rv->listed = s->refreshes;
	for (ai = res; ai && n < CQL_MAX_ADDRS; ai = ai->ai_next, n++)
		(void)host_listed(s, ai->ai_addr, (socklen_t)ai->ai_addrlen, spec->host,
				  (int)rv->spec);
	evutil_freeaddrinfo(res);
}

/* resolve_all - look every configured name up (again) */
static void resolve_all(struct cql_session *s)
{
	struct evutil_addrinfo hints;
	char port[8];
	size_t i;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	for (i = 0; i < s->cfg.nhosts; i++) {
		struct resolve *rv = &s->resolves[i];

		if (rv->req)
			continue;
		rv->s = s;
		rv->spec = i;
		snprintf(port, sizeof(port), "%u", (unsigned)s->cfg.hosts[i].port);
		/* May call resolved() at once (numeric address, /etc/hosts). */
		rv->req = evdns_getaddrinfo(s->dns, s->cfg.hosts[i].host, port, &hints, resolved, rv);
	}
}

/*
 * forget_gone - drop the nodes that are down (every slot waiting out its
 * backoff, so nothing refers to them) and that the source they came from
 * has not listed for CQL_FORGET_REFRESHES refreshes although it answered:
 * the name resolved to other addresses, or the peers tables were read
 * without them. A source that cannot be asked (DNS down, every node down)
 * forgets nothing, so a long outage never empties the list.
 */
static void forget_gone(struct cql_session *s)
{
	size_t i = 0;
	int k, forgot = 0;

	while (i < s->nhosts) {
		struct host *h = s->hosts[i];
		unsigned last = h->spec < 0 ? s->peers_listed : s->resolves[h->spec].listed;
		int idle = 1;

		for (k = 0; k < s->cfg.connections_per_host; k++)
			if (h->pool[k].c)
				idle = 0;
		if (!idle || last < h->seen + CQL_FORGET_REFRESHES) {
			i++;
			continue;
		}
		msg_info("cql: forgetting node %s: down, and no longer listed by %s", h->label,
			 h->spec < 0 ? "system.peers" : s->cfg.hosts[h->spec].host);
		for (k = 0; k < s->cfg.connections_per_host; k++)
			event_free(h->pool[k].retry);
		free(h);
		s->hosts[i] = s->hosts[--s->nhosts];
		forgot = 1;
	}
	if (forgot)
		set_state(s);
}

/*
 * refresh_cb - the cluster changes under a running daemon: names like
 * Keyspaces' endpoint get new addresses, nodes join and leave. Look the
 * configured names up again and read the peers again on any usable
 * connection: new nodes are added, and nodes gone for good forgotten.
 */
static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cql_session *s = arg;
	struct pconn *pc;

	(void)fd;
	(void)what;
	forget_gone(s);
	s->refreshes++;
	resolve_all(s);
	if (s->cfg.discovery && !s->discovering &&
	    (pc = first_usable(s)) != NULL)
		discover(s, pc);
}

/*
 * Discovery asks the first usable connection three things in turn: its
 * own data center (system.local), then the other nodes from
 * system.peers_v2 (Cassandra 4: it carries each node's native_port, so
 * nodes on one address but different ports can be told apart) or, when
 * the server refuses that table (Cassandra 3, Keyspaces, Scylla), from
 * system.peers, whose nodes listen on the contact's port. This is what
 * the DataStax drivers do.
 */
enum discovery_step { DISCOVER_LOCAL, DISCOVER_PEERS_V2, DISCOVER_PEERS };

static const char *const discovery_query[] = {
	"SELECT data_center FROM system.local",
	"SELECT peer, peer_port, native_address, native_port, data_center FROM system.peers_v2",
	"SELECT peer, data_center, rpc_address FROM system.peers",
};
static const char *const discovery_table[] = {
	"system.local", "system.peers_v2", "system.peers",
};

struct discovery {
	struct cql_session *s;
	struct pconn *pc;
	struct cql_conn *c;
	enum discovery_step step;
};

static int discover_send(struct discovery *dv);

/* column_index - position of a column in a Rows result, -1 if absent */
static int32_t column_index(const struct cql_rows *rows, const char *name)
{
	int32_t i;

	for (i = 0; i < rows->meta.ncols; i++)
		if (!strcmp(rows->meta.cols[i].name, name))
			return i;
	return -1;
}

/* peer_sockaddr - an inet cell and a port as a socket address; 0 if usable */
static int peer_sockaddr(const struct cql_cell *a, unsigned port,
			 struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a == NULL || a->kind == CQL_CELL_NULL || port < 1 || port > 65535)
		return -1;
	if (a->len == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->p, 4);
		s4->sin_port = htons((uint16_t)port);
		if (s4->sin_addr.s_addr == 0)
			return -1;	/* 0.0.0.0: listening everywhere, says nothing */
		*len = sizeof(*s4);
		return 0;
	}
	if (a->len == 16) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		static const uint8_t any[16];

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->p, 16);
		s6->sin6_port = htons((uint16_t)port);
		if (memcmp(a->p, any, 16) == 0)
			return -1;
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* host_set_dc - record a node's data center from a text cell */
static void host_set_dc(struct host *h, const struct cql_cell *dc)
{
	if (dc->kind == CQL_CELL_TEXT)
		snprintf(h->dc, sizeof(h->dc), "%.*s", (int)dc->len, (const char *)dc->p);
}

/* add_peers - the nodes of a system.peers(_v2) result */
static void add_peers(struct cql_session *s, struct host *contact, struct cql_rows *rows, int v2)
{
	struct cql_cell cells[CQL_MAX_COLUMNS];
	int32_t addr_col, peer_col, port_col, dc_col;
	unsigned contact_port;

	addr_col = column_index(rows, v2 ? "native_address" : "rpc_address");
	port_col = v2 ? column_index(rows, "native_port") : -1;
	peer_col = column_index(rows, "peer");
	dc_col = column_index(rows, "data_center");
	contact_port = contact->ss.ss_family == AF_INET ?
		       ntohs(((struct sockaddr_in *)&contact->ss)->sin_port) :
		       ntohs(((struct sockaddr_in6 *)&contact->ss)->sin6_port);
	while (cql_rows_next(rows, cells) == 1) {
		const struct cql_cell *a = NULL;
		unsigned port = contact_port;
		char ip[INET6_ADDRSTRLEN];
		struct sockaddr_storage ss;
		socklen_t len;
		struct host *h;

		if (addr_col >= 0 && cells[addr_col].kind != CQL_CELL_NULL) {
			a = &cells[addr_col];
			/* native_port goes with native_address; peer_port is internode. */
			if (port_col >= 0 && cells[port_col].kind == CQL_CELL_INT)
				port = cells[port_col].i > 0 && cells[port_col].i <= 65535 ?
				       (unsigned)cells[port_col].i : 0;
		} else if (peer_col >= 0) {
			a = &cells[peer_col];
		}
		if (peer_sockaddr(a, port, &ss, &len) != 0)
			continue;
		/*
		 * Peers are verified under the contact's name for TLS (Amazon
		 * Keyspaces lists the endpoint's addresses, whose certificate
		 * names the endpoint), or under their own address when the
		 * contact was an address. A configured node listed again only
		 * learns its data center.
		 */
		if (evutil_inet_ntop(ss.ss_family, ss.ss_family == AF_INET ?
				     (void *)&((struct sockaddr_in *)&ss)->sin_addr :
				     (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
				     ip, sizeof(ip)) == NULL)
			continue;
		h = host_listed(s, (struct sockaddr *)&ss, len,
				cql_tls_peer_identity(contact->name, ip), -1);
		if (h && dc_col >= 0)
			host_set_dc(h, &cells[dc_col]);
	}
}

/* discovery_answer - one step of discovery answered: use it, go on */
static void discovery_answer(const struct cql_response *r, void *arg)
{
	struct discovery *dv = arg;
	struct cql_session *s = dv->s;
	struct host *contact = dv->pc->h;
	const char *table = discovery_table[dv->step];
	int alive = !s->stopping && dv->pc->c == dv->c && cql_conn_is_ready(dv->c);
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_rows rows;
	struct cql_rd rd;
	int32_t col;

	s->discovering = 0;
	if (dv->step == DISCOVER_PEERS_V2 && r->status == CQL_STATUS_SERVER_ERROR && alive) {
		/* No peers_v2 here (before Cassandra 4): ask the older table. */
		msg_debug("cql: %s: no system.peers_v2 (%s); reading system.peers",
			  contact->label, r->err->message);
		dv->step = DISCOVER_PEERS;
		if (discover_send(dv) == 0)
			return;
	}
	if (r->status != CQL_STATUS_OK || r->opcode != CQL_OP_RESULT) {
		msg_warn("cql: cannot read %s from %s: %s%s%s", table, contact->label,
			 cql_status_name(r->status), r->err ? ": " : "", r->err ? r->err->message : "");
		free(dv);
		return;
	}
	cql_rd_init(&rd, r->body, r->len);
	if (cql_rd_int(&rd) != CQL_RESULT_ROWS || cql_decode_rows(&rd, NULL, &rows) != 0) {
		msg_warn("cql: cannot decode %s from %s", table, contact->label);
		free(dv);
		return;
	}
	if (dv->step == DISCOVER_LOCAL) {
		if ((col = column_index(&rows, "data_center")) >= 0 &&
		    cql_rows_next(&rows, cells) == 1)
			host_set_dc(contact, &cells[col]);
		dv->step = DISCOVER_PEERS_V2;
		if (alive && discover_send(dv) == 0)
			return;
		free(dv);
		return;
	}
	s->discovered = 1;
	s->peers_listed = s->refreshes;
	contact->seen = s->refreshes;	/* no node lists itself */
	add_peers(s, contact, &rows, dv->step == DISCOVER_PEERS_V2);
	free(dv);
	set_state(s);
}

/* discover_send - the current step's query on the contact connection */
static int discover_send(struct discovery *dv)
{
	struct cql_session *s = dv->s;
	const char *q = discovery_query[dv->step];
	enum cql_status why;
	struct buf b;
	int rc;

	buf_init(&b);
	cql_encode_query(&b, s->version, 0, q, strlen(q), CQL_CONSISTENCY_ONE, NULL, 0);
	rc = cql_conn_send(dv->c, &b, discovery_answer, dv, &why);
	buf_free(&b);
	if (rc == 0)
		s->discovering = 1;
	return rc;
}

/* discover - learn the cluster's nodes once, on the first usable connection */
static void discover(struct cql_session *s, struct pconn *pc)
{
	struct discovery *dv = calloc(1, sizeof(*dv));

	if (dv == NULL)
		return;
	dv->s = s;
	dv->pc = pc;
	dv->c = pc->c;
	dv->step = DISCOVER_LOCAL;
	if (discover_send(dv) != 0)
		free(dv);
}

/* ---- the session ---------------------------------------------------- */

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
	if (s->cfg.connections_per_host < 1)
		s->cfg.connections_per_host = 1;
	if (s->cfg.connections_per_host > CQL_MAX_POOL)
		s->cfg.connections_per_host = CQL_MAX_POOL;
	if (s->cfg.reconnect_min_ms < 1)
		s->cfg.reconnect_min_ms = 100;
	if (s->cfg.refresh_ms <= 0)
		s->cfg.refresh_ms = CQL_REFRESH_MS;
	if (s->cfg.lookup_timeout_ms <= 0)
		s->cfg.lookup_timeout_ms = 3 * s->cfg.request_timeout_ms;
	s->version = cfg->max_version ? cfg->max_version : 4;
	s->deadline_tv_storage.tv_sec = s->cfg.lookup_timeout_ms / 1000;
	s->deadline_tv_storage.tv_usec = (s->cfg.lookup_timeout_ms % 1000) * 1000;
	/* Every execution waits as long: libevent keeps them in one queue. */
	s->deadline_tv = event_base_init_common_timeout(base, &s->deadline_tv_storage);
	if (s->deadline_tv == NULL)
		s->deadline_tv = &s->deadline_tv_storage;
	snprintf(s->state_text, sizeof(s->state_text), "not connected yet");
	return s;
}

/* cql_session_retry_now - connections waiting out a backoff try at once */
void cql_session_retry_now(struct cql_session *s)
{
	size_t i;
	int k;

	for (i = 0; i < s->nhosts; i++) {
		struct host *h = s->hosts[i];

		h->backoff_ms = s->cfg.reconnect_min_ms;
		for (k = 0; k < s->cfg.connections_per_host; k++) {
			struct pconn *pc = &h->pool[k];

			if (pc->c == NULL && evtimer_pending(pc->retry, NULL)) {
				evtimer_del(pc->retry);
				pconn_connect(pc);
			}
		}
	}
}

/* cql_session_start - begin connecting; lookups answer TEMP until ready */
void cql_session_start(struct cql_session *s)
{
	struct timeval tv = { CQL_RETRY_FAILED_MS / 1000, 0 };
	struct timeval rtv = { s->cfg.refresh_ms / 1000, (s->cfg.refresh_ms % 1000) * 1000 };

	s->reprepare_timer = event_new(s->base, -1, EV_PERSIST, reprepare_cb, s);
	if (s->reprepare_timer)
		evtimer_add(s->reprepare_timer, &tv);
	s->refresh_timer = event_new(s->base, -1, EV_PERSIST, refresh_cb, s);
	if (s->refresh_timer)
		evtimer_add(s->refresh_timer, &rtv);
	resolve_all(s);
}

/* cql_session_free - close everything */
void cql_session_free(struct cql_session *s)
{
	struct cql_stmt *st, *next;
	size_t i;
	int k;

	if (s == NULL)
		return;
	s->stopping = 1;
	for (i = 0; i < s->cfg.nhosts; i++)
		if (s->resolves[i].req)
			evdns_getaddrinfo_cancel(s->resolves[i].req);
	for (i = 0; i < s->nhosts; i++) {
		struct host *h = s->hosts[i];

		for (k = 0; k < s->cfg.connections_per_host; k++) {
			if (h->pool[k].c) {
				struct cql_conn *c = h->pool[k].c;

				h->pool[k].c = NULL;
				h->pool[k].usable = 0;
				cql_conn_free(c);	/* pending requests get CONN_LOST */
			}
			event_free(h->pool[k].retry);
		}
	}
	for (i = 0; i < s->nhosts; i++)
		free(s->hosts[i]);
	if (s->reprepare_timer)
		event_free(s->reprepare_timer);
	if (s->refresh_timer)
		event_free(s->refresh_timer);
	for (st = s->stmts; st; st = next) {
		next = st->next;
		free(st->cql);
		free(st);
	}
	free(s);
}

/*
 * cql_session_add - register a statement (or find the one with the same
 * text); it is prepared on every usable connection at once, and on every
 * new one before it is used.
 */
struct cql_stmt *cql_session_add(struct cql_session *s, const char *cql)
{
	struct cql_stmt *st;
	size_t i;
	int k;

	for (st = s->stmts; st; st = st->next)
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
		st->next = s->stmts;
		s->stmts = st;
	}
	for (i = 0; i < s->nhosts; i++)
		for (k = 0; k < s->cfg.connections_per_host; k++)
			if (s->hosts[i]->pool[k].usable)
				(void)stmt_prepare(&s->hosts[i]->pool[k], st, NULL);
	return st;
}

/* cql_session_keep_only - retire every statement not listed */
void cql_session_keep_only(struct cql_session *s, struct cql_stmt *const *keep, size_t n)
{
	struct cql_stmt *st;
	size_t i;

	for (st = s->stmts; st; st = st->next) {
		for (i = 0; i < n && keep[i] != st; i++)
			;
		st->retired = i == n;
	}
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
 * pick - the least loaded usable connection, local datacenter first,
 * avoiding one node (the one a retry must not go back to). The starting
 * node rotates so that idle nodes share the load.
 */
static struct pconn *pick(struct cql_session *s, unsigned avoid)
{
	struct pconn *best = NULL;
	unsigned best_load = 0;
	size_t i, n = s->nhosts, start;
	int k, pass;

	/*
	 * Retries do not turn the wheel, or with two nodes every first try
	 * would land on the same one.
	 */
	start = n ? (avoid ? s->rr : s->rr++) % n : 0;

	for (pass = 0; pass < 2 && best == NULL; pass++) {
		for (i = 0; i < n; i++) {
			struct host *h = s->hosts[(start + i) % n];

			if (h->id == avoid)
				continue;
			/* Pass 0: the local datacenter only (or every node without one). */
			if (pass == 0 && s->cfg.local_dc[0] && h->dc[0] &&
			    strcmp(h->dc, s->cfg.local_dc) != 0)
				continue;
			for (k = 0; k < s->cfg.connections_per_host; k++) {
				struct pconn *pc = &h->pool[k];
				unsigned load;

				if (!pc->usable || pc->c == NULL)
					continue;
				/*
				 * A connection silent since a request timed
				 * out may have stopped answering: steer away
				 * until it is heard from again (a late answer,
				 * or the heartbeat) or closed.
				 */
				load = cql_conn_in_flight(pc->c) +
				       (cql_conn_suspect(pc->c) ? CQL_SUSPECT_LOAD : 0);
				if (best == NULL || load < best_load) {
					best = pc;
					best_load = load;
				}
			}
		}
		if (!s->cfg.local_dc[0])
			break;
	}
	return best;
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

	if (x->abandoned || x->attempts >= 2 || s->stopping ||
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
		if (stmt_prepare(x->pc, x->st, x) == 0)
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
static int exec_send(struct exec *x, struct pconn *on, enum cql_status *why)
{
	struct cql_session *s = x->s;
	struct pconn *pc = on ? on : pick(s, x->attempts ? x->tried : 0);
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
	cql_encode_execute(&b, s->version, 0, x->st->id, x->st->idlen,
			   s->cfg.consistency, x->vals, x->nvals, 0, &pg);
	rc = cql_conn_send(pc->c, &b, exec_answer, x, why);
	buf_free(&b);
	if (rc == 0) {
		if (on == NULL && x->attempts++ == 0)
			x->tried = pc->h->id;
		x->pc = pc;
	} else if (*why == CQL_STATUS_BUSY) {
		msg_limited(&s->full_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: every stream id of %s is in use", pc->h->label);
	}
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

	if (st->state == CQL_STMT_FAILED) {
		*why = CQL_STATUS_NOT_PREPARED;
		return -1;
	}
	if (st->state != CQL_STMT_READY || first_usable(s) == NULL) {
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
	x->deadline_ms = clock_now_ms() + s->cfg.lookup_timeout_ms;
	p = (uint8_t *)(x + 1);
	for (i = 0; i < nvals; i++) {
		x->vals[i].len = vals[i].len;
		x->vals[i].p = p;
		if (vals[i].len > 0) {
			memcpy(p, vals[i].p, (size_t)vals[i].len);
			p += vals[i].len;
		}
	}
	if (exec_send(x, NULL, why) != 0) {
		free(x);
		return -1;
	}
	/* Without the timer the request and retry timeouts still bound it. */
	if ((x->deadline = evtimer_new(s->base, exec_deadline, x)) != NULL)
		evtimer_add(x->deadline, s->deadline_tv);
	return 0;
}

/* cql_session_is_ready - a usable connection exists */
int cql_session_is_ready(const struct cql_session *s)
{
	return first_usable((struct cql_session *)s) != NULL;
}

/* cql_session_hosts_up - nodes with a usable connection, and all nodes */
void cql_session_hosts_up(const struct cql_session *s, size_t *up, size_t *known)
{
	size_t i;

	*up = 0;
	for (i = 0; i < s->nhosts; i++)
		if (host_up(s->hosts[i], s->cfg.connections_per_host))
			(*up)++;
	*known = s->nhosts;
}

/* cql_session_host_info - for metrics */
int cql_session_host_info(const struct cql_session *s, size_t i, const char **label,
			  int *up, int *conns)
{
	int k;

	if (i >= s->nhosts)
		return -1;
	*label = s->hosts[i]->label;
	*up = host_up(s->hosts[i], s->cfg.connections_per_host);
	*conns = 0;
	for (k = 0; k < s->cfg.connections_per_host; k++)
		if (s->hosts[i]->pool[k].usable)
			(*conns)++;
	return 0;
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

/*
 * cql_session_all_failed - every name resolved (or failed to), and every
 * node known has failed with none up: waiting longer will not help a
 * one-shot command.
 */
int cql_session_all_failed(const struct cql_session *s)
{
	size_t i;

	for (i = 0; i < s->cfg.nhosts; i++)
		if (s->resolves[i].req)
			return 0;
	if (s->nhosts == 0)
		return s->failures > 0;
	for (i = 0; i < s->nhosts; i++)
		if (!s->hosts[i]->failed || host_up(s->hosts[i], s->cfg.connections_per_host))
			return 0;
	return 1;
}
