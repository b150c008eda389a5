/*
 * cql_pool - the nodes of a CQL session and their connections
 *
 * DESCRIPTION
 *	See cql_pool.h. Each node has a fixed array of connection slots;
 *	every walk over them goes through cql_pool_each. Only a connection
 *	that serves (statements prepared) resets its node's backoff and log
 *	limit, so a node that accepts connections but cannot prepare is
 *	backed off like one that refuses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <event2/util.h>

#include "clock.h"
#include "log.h"
#include "cql_pool.h"

#define CQL_SUSPECT_LOAD	1024	/* load of a connection that went silent */
#define CQL_STATE_NODES		4	/* nodes named in the state line */
#define CQL_STATE_ROOM		80	/* bytes left for one more node's label */
#define CQL_SCALE_CHECK_MS	250	/* a node's slots reconsidered at most this often */

static void pconn_connect(struct cql_pconn *pc);

/* cql_pool_init - an empty pool, not connecting */
void cql_pool_init(struct cql_pool *p, struct event_base *base,
		   const struct cql_session_config *cfg, uint8_t version,
		   const struct cql_pool_hooks *hooks, void *hooks_arg)
{
	memset(p, 0, sizeof(*p));
	p->base = base;
	p->cfg = cfg;
	p->version = version;
	p->hooks = hooks;
	p->hooks_arg = hooks_arg;
	snprintf(p->state_text, sizeof(p->state_text), "not connected yet");
}

/* cql_pool_each - visit slots until fn says stop */
struct cql_pconn *cql_pool_each(struct cql_pool *p, struct cql_host *only,
				cql_pconn_fn fn, void *arg)
{
	size_t i, n = only ? 1 : p->nhosts;
	int k;

	for (i = 0; i < n; i++) {
		struct cql_host *h = only ? only : p->hosts[i];

		for (k = 0; k < h->nslots; k++)
			if (fn(&h->pool[k], arg))
				return &h->pool[k];
	}
	return NULL;
}

/* slot_usable - the slot serves */
static int slot_usable(struct cql_pconn *pc, void *arg)
{
	(void)arg;
	return pc->usable;
}

/* slot_count_usable - count the slots that serve in *arg */
static int slot_count_usable(struct cql_pconn *pc, void *arg)
{
	if (pc->usable)
		(*(int *)arg)++;
	return 0;
}

/* slot_busy - the slot holds a connection (connecting, or up) */
static int slot_busy(struct cql_pconn *pc, void *arg)
{
	(void)arg;
	return pc->c != NULL;
}

/* cql_pool_host_up - a slot of node h serves */
int cql_pool_host_up(const struct cql_pool *p, const struct cql_host *h)
{
	/* Visiting only reads here: the casts drop const for the walker's sake. */
	return cql_pool_each((struct cql_pool *)p, (struct cql_host *)h, slot_usable, NULL) != NULL;
}

/* cql_pool_host_conns - how many slots of node h serve */
int cql_pool_host_conns(const struct cql_pool *p, const struct cql_host *h)
{
	int n = 0;

	(void)cql_pool_each((struct cql_pool *)p, (struct cql_host *)h, slot_count_usable, &n);
	return n;
}

/* cql_pool_first_usable - any usable connection */
struct cql_pconn *cql_pool_first_usable(struct cql_pool *p)
{
	return cql_pool_each(p, NULL, slot_usable, NULL);
}

/* cql_pool_hosts_up - nodes with a usable connection, and all nodes */
void cql_pool_hosts_up(const struct cql_pool *p, size_t *up, size_t *known)
{
	size_t i;

	*up = 0;
	for (i = 0; i < p->nhosts; i++)
		if (cql_pool_host_up(p, p->hosts[i]))
			(*up)++;
	*known = p->nhosts;
}

/* cql_pool_all_failed - no node is up, and each one known has failed */
int cql_pool_all_failed(const struct cql_pool *p)
{
	size_t i;

	if (p->nhosts == 0)
		return p->failures > 0;
	for (i = 0; i < p->nhosts; i++)
		if (!p->hosts[i]->failed || cql_pool_host_up(p, p->hosts[i]))
			return 0;
	return 1;
}

/* cql_pool_set_state - remember a one-line description of the backend */
void cql_pool_set_state(struct cql_pool *p)
{
	size_t i, up, known, n = 0;
	int len;

	cql_pool_hosts_up(p, &up, &known);
	len = snprintf(p->state_text, sizeof(p->state_text), "%zu of %zu nodes up", up, known);
	for (i = 0; i < p->nhosts && len > 0 &&
		    (size_t)len < sizeof(p->state_text) - CQL_STATE_ROOM && n < CQL_STATE_NODES; i++) {
		if (cql_pool_host_up(p, p->hosts[i]))
			len += snprintf(p->state_text + len, sizeof(p->state_text) - (size_t)len,
					"%s%s x%d", n++ ? ", " : " (", p->hosts[i]->label,
					cql_pool_host_conns(p, p->hosts[i]));
	}
	if (n && (size_t)len < sizeof(p->state_text) - 2)
		snprintf(p->state_text + len, sizeof(p->state_text) - (size_t)len, ")");
}

/* cql_pool_note_failure - why the backend is not answering, for logs and TEMP */
void cql_pool_note_failure(struct cql_pool *p, const char *label, const char *detail)
{
	size_t up = 0, known = 0;

	cql_pool_hosts_up(p, &up, &known);
	if (up == 0)
		snprintf(p->state_text, sizeof(p->state_text), "no node up; %.200s: %.300s",
			 label, detail);
	else
		cql_pool_set_state(p);
	if (p->hooks->failed)
		p->hooks->failed(p->hooks_arg);
}

/* jitter_ms - full jitter over the upper half of a backoff */
static int jitter_ms(int backoff)
{
	return backoff / 2 + (int)((unsigned)rand() % (unsigned)(backoff / 2 + 1));
}

/* pconn_schedule - reconnect this slot after the node's backoff */
static void pconn_schedule(struct cql_pconn *pc)
{
	struct cql_host *h = pc->h;
	int max = pc->pool->cfg->reconnect_max_ms;
	int ms = jitter_ms(h->backoff_ms);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	h->backoff_ms = h->backoff_ms * 2 > max ? max : h->backoff_ms * 2;
	evtimer_add(pc->retry, &tv);
}

/* cql_pool_prepared_one - one of a new connection's PREPAREs is back */
void cql_pool_prepared_one(struct cql_pconn *pc)
{
	struct cql_pool *p = pc->pool;

	if (pc->prepares > 0 && --pc->prepares == 0 && pc->c && cql_conn_is_ready(pc->c)) {
		int was_up = cql_pool_host_up(p, pc->h);

		/* Only a connection that serves resets backoff and log limit. */
		pc->usable = 1;
		pc->h->failed = 0;
		pc->h->backoff_ms = p->cfg->reconnect_min_ms;
		pc->h->log.last_ms = 0;
		if (!was_up)
			msg_info("cql: %s is up (protocol v%u)", pc->h->label, (unsigned)p->version);
		cql_pool_set_state(p);
		p->hooks->usable(pc, p->hooks_arg);
	}
}

/* conn_ready - handshake done: prepare everything, then serve */
static void conn_ready(struct cql_conn *conn, void *arg)
{
	struct cql_pconn *pc = arg;

	(void)conn;
	/* +1 holds the count until every PREPARE is sent. */
	pc->prepares = 1;
	pc->prepares += pc->pool->hooks->prepare(pc, pc->pool->hooks_arg);
	cql_pool_prepared_one(pc);
}

/* conn_closed - the connection went: fall back, back off, reconnect */
static void conn_closed(struct cql_conn *conn, enum cql_close_reason why,
			const char *detail, void *arg)
{
	struct cql_pconn *pc = arg;
	struct cql_pool *p = pc->pool;
	struct cql_host *h = pc->h;
	int was_usable = pc->usable;

	cql_conn_free(conn);
	pc->c = NULL;
	pc->usable = 0;
	pc->prepares = 0;
	if (p->stopping)
		return;
	if (why == CQL_CLOSE_VERSION && p->version > 3) {
		msg_warn("cql: %s does not speak protocol v%u (%s); using v%u from now on",
			 h->label, (unsigned)p->version, detail, (unsigned)(p->version - 1));
		p->version--;
		pconn_connect(pc);
		return;
	}
	p->failures++;
	h->failed = 1;
	if (why == CQL_CLOSE_AUTH)
		msg_limited(&h->log, CQL_LOG_INTERVAL_MS * 6, LOG_LEVEL_ERROR,
			    "cql: %s: authentication failed: %s", h->label, detail);
	else if (was_usable)
		msg_warn("cql: lost connection to %s: %s", h->label, detail);
	else
		msg_limited(&h->log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: cannot connect to %s: %s", h->label, detail);
	if (was_usable && !cql_pool_host_up(p, h))
		msg_warn("cql: %s is down", h->label);
	cql_pool_note_failure(p, h->label, detail);
	pconn_schedule(pc);
}

/* pconn_connect - open this slot's connection */
static void pconn_connect(struct cql_pconn *pc)
{
	static const struct cql_conn_callbacks cbs = { conn_ready, conn_closed };
	struct cql_pool *p = pc->pool;
	const struct cql_session_config *cfg = p->cfg;
	struct cql_conn_options o;

	if (p->stopping || pc->c)
		return;
	memset(&o, 0, sizeof(o));
	o.version = p->version;
	o.host = cfg->tls.server_name[0] ? cfg->tls.server_name : pc->h->name;
	o.tls = cfg->tls_ctx;
	o.tls_verify = cfg->tls.verify;
	o.auth = cfg->auth;
	o.connect_timeout_ms = cfg->connect_timeout_ms;
	o.request_timeout_ms = cfg->request_timeout_ms;
	o.heartbeat_ms = cfg->heartbeat_ms;
	o.max_body = CQL_CONN_MAX_BODY;
	pc->c = cql_conn_new(p->base, (struct sockaddr *)&pc->h->ss, pc->h->len,
			     pc->h->label, &o, &cbs, pc);
	if (pc->c == NULL) {
		msg_limited(&pc->h->log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: cannot create a connection to %s", pc->h->label);
		p->failures++;
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

/* slot_retry_now - a slot waiting out its backoff connects now */
static int slot_retry_now(struct cql_pconn *pc, void *arg)
{
	(void)arg;
	if (pc->c == NULL && evtimer_pending(pc->retry, NULL)) {
		evtimer_del(pc->retry);
		pconn_connect(pc);
	}
	return 0;
}

/* cql_pool_retry_now - end every node's backoff */
void cql_pool_retry_now(struct cql_pool *p)
{
	size_t i;

	for (i = 0; i < p->nhosts; i++) {
		p->hosts[i]->backoff_ms = p->cfg->reconnect_min_ms;
		(void)cql_pool_each(p, p->hosts[i], slot_retry_now, NULL);
	}
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
static struct cql_host *host_find(struct cql_pool *p, const struct sockaddr_storage *ss)
{
	size_t i;

	for (i = 0; i < p->nhosts; i++)
		if (sockaddr_same(&p->hosts[i]->ss, ss))
			return p->hosts[i];
	return NULL;
}

/* host_label - "address:port" (IPv6 in brackets) of a node */
static void host_label(struct cql_host *h, const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		evutil_inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		snprintf(h->label, sizeof(h->label), "%s:%u", ip, port);
	} else {
		evutil_inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		snprintf(h->label, sizeof(h->label), "[%s]:%u", ip, port);
	}
}

/* host_new - a node with idle slots, not yet in the table; NULL if out of memory */
static struct cql_host *host_new(struct cql_pool *p, const struct sockaddr *sa,
				 const struct sockaddr_storage *ss, socklen_t len,
				 const char *name, int spec)
{
	struct cql_host *h;
	int k;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->id = ++p->next_host_id;
	h->seen = p->refreshes;
	h->spec = spec;
	h->ss = *ss;
	h->len = len;
	snprintf(h->name, sizeof(h->name), "%s", name);
	host_label(h, sa);
	h->backoff_ms = p->cfg->reconnect_min_ms;
	h->nslots = p->cfg->connections_per_host;
	for (k = 0; k < p->cfg->connections_per_host_max; k++) {
		h->pool[k].pool = p;
		h->pool[k].h = h;
		h->pool[k].retry = evtimer_new(p->base, retry_cb, &h->pool[k]);
		if (h->pool[k].retry == NULL) {
			while (k-- > 0)
				event_free(h->pool[k].retry);
			free(h);
			return NULL;
		}
	}
	return h;
}

/* cql_pool_listed - the node at this address: known, or new and connecting */
struct cql_host *cql_pool_listed(struct cql_pool *p, const struct sockaddr *sa,
				 socklen_t len, const char *name, int spec)
{
	struct sockaddr_storage ss;
	struct cql_host *h;
	int k;

	if (len > sizeof(ss) || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return NULL;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, len);
	if ((h = host_find(p, &ss)) != NULL) {
		h->seen = p->refreshes;
		return h;
	}
	if (p->nhosts == CQL_MAX_NODES) {
		msg_limited(&p->full_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: more than %d nodes; ignoring the others", CQL_MAX_NODES);
		return NULL;
	}
	if ((h = host_new(p, sa, &ss, len, name, spec)) == NULL)
		return NULL;
	p->hosts[p->nhosts++] = h;
	if (spec < 0)
		msg_info("cql: discovered node %s", h->label);
	for (k = 0; k < h->nslots; k++)
		pconn_connect(&h->pool[k]);
	return h;
}

/* host_free - a node whose slots hold no connection */
static void host_free(struct cql_pool *p, struct cql_host *h)
{
	int k;

	for (k = 0; k < p->cfg->connections_per_host_max; k++)
		event_free(h->pool[k].retry);
	free(h);
}

/*
 * cql_pool_forget - drop the nodes that are down (every slot waiting out
 * its backoff, so nothing refers to them) and that gone() says their
 * source no longer lists
 */
void cql_pool_forget(struct cql_pool *p, cql_host_gone_fn gone, void *arg)
{
	size_t i = 0;
	int forgot = 0;

	while (i < p->nhosts) {
		struct cql_host *h = p->hosts[i];
		const char *source;

		if (cql_pool_each(p, h, slot_busy, NULL) != NULL || (source = gone(h, arg)) == NULL) {
			i++;
			continue;
		}
		msg_info("cql: forgetting node %s: down, and no longer listed by %s", h->label,
			 source);
		host_free(p, h);
		p->hosts[i] = p->hosts[--p->nhosts];
		forgot = 1;
	}
	if (forgot)
		cql_pool_set_state(p);
}

/* pick_state - the best slot seen so far */
struct pick_state {
	struct cql_pconn *best;
	unsigned best_load;
	const struct cql_pconn *avoid;	/* never this one */
};

/* slot_lighter - keep the slot if it serves and is less loaded than the best */
static int slot_lighter(struct cql_pconn *pc, void *arg)
{
	struct pick_state *ps = arg;
	unsigned load;

	if (!pc->usable || pc->c == NULL || pc == ps->avoid)
		return 0;
	/*
	 * A connection silent since a request timed out may have stopped
	 * answering: steer away until it is heard from again (a late answer,
	 * or the heartbeat) or closed.
	 */
	load = cql_conn_in_flight(pc->c) + (cql_conn_suspect(pc->c) ? CQL_SUSPECT_LOAD : 0);
	if (ps->best == NULL || load < ps->best_load) {
		ps->best = pc;
		ps->best_load = load;
	}
	return 0;
}

/*
 * cql_pool_pick - the least loaded usable connection, local datacenter
 * first, avoiding one node (the one a retry must not go back to). The
 * starting node rotates so that idle nodes share the load.
 */
struct cql_pconn *cql_pool_pick(struct cql_pool *p, unsigned avoid,
				const struct cql_pconn *avoid_pc)
{
	const char *local_dc = p->cfg->local_dc;
	struct pick_state ps = { NULL, 0, avoid_pc };
	size_t i, n = p->nhosts, start;
	int pass;

	/*
	 * Retries do not turn the wheel, or with two nodes every first try
	 * would land on the same one.
	 */
	start = n ? (avoid || avoid_pc ? p->rr : p->rr++) % n : 0;

	for (pass = 0; pass < 2 && ps.best == NULL; pass++) {
		for (i = 0; i < n; i++) {
			struct cql_host *h = p->hosts[(start + i) % n];

			if (h->id == avoid)
				continue;
			/* Pass 0: the local datacenter only (or every node without one). */
			if (pass == 0 && local_dc[0] && h->dc[0] && strcmp(h->dc, local_dc) != 0)
				continue;
			(void)cql_pool_each(p, h, slot_lighter, &ps);
		}
		if (!local_dc[0])
			break;
	}
	return ps.best;
}

/* slot_close - drop the slot's connection silently, its requests get CONN_LOST */
static int slot_close(struct cql_pconn *pc, void *arg)
{
	(void)arg;
	if (pc->c) {
		struct cql_conn *c = pc->c;

		pc->c = NULL;
		pc->usable = 0;
		cql_conn_free(c);	/* pending requests get CONN_LOST */
	}
	return 0;
}

/* cql_pool_free - stop, close every connection, free the nodes */
void cql_pool_free(struct cql_pool *p)
{
	size_t i;

	p->stopping = 1;
	(void)cql_pool_each(p, NULL, slot_close, NULL);
	for (i = 0; i < p->nhosts; i++)
		host_free(p, p->hosts[i]);
	p->nhosts = 0;
}

/* pool_grow - open one more slot of node h */
static void pool_grow(struct cql_pool *p, struct cql_host *h, double per_s, int64_t now)
{
	struct cql_pconn *pc = &h->pool[h->nslots++];

	h->changed_ms = now;
	msg_info("cql: %s: %.0f requests/s%s on %d connections; opening one more (at most %d)",
		 h->label, per_s, cql_rate_throttles(&h->rate, now) ? " and throttled" : "",
		 h->nslots - 1, p->cfg->connections_per_host_max);
	pconn_connect(pc);
}

/*
 * pool_shrink - give back node h's last slot when it is idle (no request
 * is cut short; otherwise the next check tries again)
 */
static void pool_shrink(struct cql_pool *p, struct cql_host *h, double per_s)
{
	struct cql_pconn *pc = &h->pool[h->nslots - 1];

	if (pc->c && cql_conn_in_flight(pc->c) > 0)
		return;
	msg_info("cql: %s: %.0f requests/s; closing connection %d of %d", h->label, per_s,
		 h->nslots, p->cfg->connections_per_host_max);
	evtimer_del(pc->retry);
	(void)slot_close(pc, NULL);
	pc->prepares = 0;
	h->nslots--;
	cql_pool_set_state(p);
}

/* cql_pool_sent - count the request; now and then, reconsider the node's slots */
void cql_pool_sent(struct cql_pool *p, struct cql_pconn *pc)
{
	struct cql_host *h = pc->h;
	int64_t now = clock_now_ms();
	struct cql_rate_scale sc;
	double per_s;

	cql_rate_add(&h->rate, now);
	if (now - h->scaled_ms < CQL_SCALE_CHECK_MS || p->stopping)
		return;
	h->scaled_ms = now;
	if (h->changed_ms == 0)
		h->changed_ms = now;
	sc.slots = h->nslots;
	sc.usable = cql_pool_host_conns(p, h);
	sc.floor = p->cfg->connections_per_host;
	sc.ceiling = p->cfg->connections_per_host_max;
	sc.limit = p->cfg->connection_rate_limit;
	sc.quiet_ms = now - h->changed_ms;
	per_s = cql_rate_per_s(&h->rate, now);
	switch (cql_rate_decide(&sc, per_s, cql_rate_throttles(&h->rate, now))) {
	case CQL_RATE_GROW:
		pool_grow(p, h, per_s, now);
		break;
	case CQL_RATE_SHRINK:
		pool_shrink(p, h, per_s);
		break;
	default:
		break;
	}
}

/* cql_pool_throttled - count a throttled answer of pc's node */
void cql_pool_throttled(struct cql_pool *p, struct cql_pconn *pc)
{
	int64_t now = clock_now_ms();

	p->throttled++;
	cql_rate_throttled(&pc->h->rate, now);
	pc->h->changed_ms = now;
}
