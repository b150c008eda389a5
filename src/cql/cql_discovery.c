/*
 * cql_discovery - how a CQL session learns the cluster's nodes
 *
 * DESCRIPTION
 *	See cql_discovery.h. Discovery asks the first usable connection
 *	three things in turn: its own data center (system.local), then the
 *	other nodes from system.peers_v2 (Cassandra 4: it carries each
 *	node's native_port, so nodes on one address but different ports can
 *	be told apart) or, when the server refuses that table (Cassandra 3,
 *	Keyspaces, Scylla), from system.peers, whose nodes listen on the
 *	contact's port. This is what the DataStax drivers do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "log.h"
#include "cql_discovery.h"

#define CQL_MAX_ADDRS		64	/* addresses kept per resolution */
#define CQL_FORGET_REFRESHES	3	/* a node down and unlisted this long goes */
#define CQL_PORT_TEXT_MAX	8	/* "65535" and its NUL */
#define CQL_RESOLVE_DETAIL_MAX	300	/* bytes in "cannot resolve NAME: why" */

enum discovery_step { DISCOVER_LOCAL, DISCOVER_PEERS_V2, DISCOVER_PEERS };

static const char *const discovery_query[] = {
	"SELECT data_center FROM system.local",
	"SELECT peer, peer_port, native_address, native_port, data_center FROM system.peers_v2",
	"SELECT peer, data_center, rpc_address FROM system.peers",
};
static const char *const discovery_table[] = {
	"system.local", "system.peers_v2", "system.peers",
};

/* One discovery under way, on one connection. */
struct discovery {
	struct cql_discovery *d;
	struct cql_pconn *pc;
	struct cql_conn *c;
	enum discovery_step step;
};

static int discover_send(struct discovery *dv);
static void discover(struct cql_discovery *d, struct cql_pconn *pc);

/* resolved - evdns answered for one configured name */
static void resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct cql_resolve *rv = arg;
	struct cql_pool *p = rv->d->pool;
	const struct cql_host_spec *spec = &p->cfg->hosts[rv->spec];
	struct evutil_addrinfo *ai;
	size_t n = 0;

	rv->req = NULL;
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0) {
		char detail[CQL_RESOLVE_DETAIL_MAX];

		snprintf(detail, sizeof(detail), "cannot resolve %s: %s", spec->host,
			 evutil_gai_strerror(result));
		msg_limited(&rv->d->connect_log, CQL_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "cql: %s", detail);
		p->failures++;
		cql_pool_note_failure(p, spec->host, detail);
		return;
	}
	rv->listed = p->refreshes;
	for (ai = res; ai && n < CQL_MAX_ADDRS; ai = ai->ai_next, n++)
		(void)cql_pool_listed(p, ai->ai_addr, (socklen_t)ai->ai_addrlen, spec->host,
				      (int)rv->spec);
	evutil_freeaddrinfo(res);
}

/* resolve_all - look every configured name up (again) */
static void resolve_all(struct cql_discovery *d)
{
	const struct cql_session_config *cfg = d->pool->cfg;
	struct evutil_addrinfo hints;
	char port[CQL_PORT_TEXT_MAX];
	size_t i;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	for (i = 0; i < cfg->nhosts; i++) {
		struct cql_resolve *rv = &d->resolves[i];

		if (rv->req)
			continue;
		rv->d = d;
		rv->spec = i;
		snprintf(port, sizeof(port), "%u", (unsigned)cfg->hosts[i].port);
		/* May call resolved() at once (numeric address, /etc/hosts). */
		rv->req = evdns_getaddrinfo(d->dns, cfg->hosts[i].host, port, &hints, resolved, rv);
	}
}

/*
 * host_gone - the source node h came from (its configured name's
 * resolution, or the peers tables) has answered CQL_FORGET_REFRESHES
 * times without listing it: that source's name; NULL otherwise. A source
 * that cannot be asked (DNS down, every node down) forgets nothing, so a
 * long outage never empties the list.
 */
static const char *host_gone(const struct cql_host *h, void *arg)
{
	const struct cql_discovery *d = arg;
	unsigned last = h->spec < 0 ? d->peers_listed : d->resolves[h->spec].listed;

	if (last < h->seen + CQL_FORGET_REFRESHES)
		return NULL;
	return h->spec < 0 ? "system.peers" : d->pool->cfg->hosts[h->spec].host;
}

/*
 * refresh_cb - the cluster changes under a running daemon: names like
 * Keyspaces' endpoint get new addresses, nodes join and leave. Look the
 * configured names up again and read the peers again on any usable
 * connection: new nodes are added, and nodes gone for good forgotten.
 */
static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cql_discovery *d = arg;
	struct cql_pconn *pc;

	(void)fd;
	(void)what;
	cql_pool_forget(d->pool, host_gone, d);
	d->pool->refreshes++;
	resolve_all(d);
	if (d->pool->cfg->discovery && !d->discovering &&
	    (pc = cql_pool_first_usable(d->pool)) != NULL)
		discover(d, pc);
}

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
	if (a == NULL || a->kind == CQL_CELL_NULL || port < 1 || port > CQL_PORT_MAX)
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
static void host_set_dc(struct cql_host *h, const struct cql_cell *dc)
{
	if (dc->kind == CQL_CELL_TEXT)
		snprintf(h->dc, sizeof(h->dc), "%.*s", (int)dc->len, (const char *)dc->p);
}

/* peer_columns - where a peers table keeps what discovery reads */
struct peer_columns {
	int32_t addr, peer, port, dc;
};

/* peer_address - the address and port of one peers row; 0 if usable */
static int peer_address(const struct peer_columns *col, const struct cql_cell *cells,
			unsigned contact_port, struct sockaddr_storage *ss, socklen_t *len)
{
	const struct cql_cell *a = NULL;
	unsigned port = contact_port;

	if (col->addr >= 0 && cells[col->addr].kind != CQL_CELL_NULL) {
		a = &cells[col->addr];
		/* native_port goes with native_address; peer_port is internode. */
		if (col->port >= 0 && cells[col->port].kind == CQL_CELL_INT)
			port = cells[col->port].i > 0 && cells[col->port].i <= CQL_PORT_MAX ?
			       (unsigned)cells[col->port].i : 0;
	} else if (col->peer >= 0) {
		a = &cells[col->peer];
	}
	return peer_sockaddr(a, port, ss, len);
}

/* add_peers - the nodes of a system.peers(_v2) result */
static void add_peers(struct cql_pool *p, struct cql_host *contact, struct cql_rows *rows, int v2)
{
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct peer_columns col;
	unsigned contact_port;

	col.addr = column_index(rows, v2 ? "native_address" : "rpc_address");
	col.port = v2 ? column_index(rows, "native_port") : -1;
	col.peer = column_index(rows, "peer");
	col.dc = column_index(rows, "data_center");
	contact_port = contact->ss.ss_family == AF_INET ?
		       ntohs(((struct sockaddr_in *)&contact->ss)->sin_port) :
		       ntohs(((struct sockaddr_in6 *)&contact->ss)->sin6_port);
	while (cql_rows_next(rows, cells) == 1) {
		char ip[INET6_ADDRSTRLEN];
		struct sockaddr_storage ss;
		socklen_t len;
		struct cql_host *h;

		if (peer_address(&col, cells, contact_port, &ss, &len) != 0)
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
		h = cql_pool_listed(p, (struct sockaddr *)&ss, len,
				    cql_tls_peer_identity(contact->name, ip), -1);
		if (h && col.dc >= 0)
			host_set_dc(h, &cells[col.dc]);
	}
}

/* discovery_answer - one step of discovery answered: use it, go on */
static void discovery_answer(const struct cql_response *r, void *arg)
{
	struct discovery *dv = arg;
	struct cql_discovery *d = dv->d;
	struct cql_pool *p = d->pool;
	struct cql_host *contact = dv->pc->h;
	const char *table = discovery_table[dv->step];
	int alive = !p->stopping && dv->pc->c == dv->c && cql_conn_is_ready(dv->c);
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_rows rows;
	struct cql_rd rd;
	int32_t col;

	d->discovering = 0;
	if (dv->step == DISCOVER_PEERS_V2 && r->status == CQL_STATUS_SERVER_ERROR && alive) {
		/* No peers_v2 here (before Cassandra 4): ask the older table. */
		msg_debug("cql: %s: no system.peers_v2 (%s); reading system.peers",
			  contact->label, r->err->message);
		dv->step = DISCOVER_PEERS;
		if (discover_send(dv) == 0)
			return;
	}
	if (r->status != CQL_STATUS_OK || r->opcode != CQL_OP_RESULT) {
		if (p->stopping) {	/* cut by the shutdown: not worth a warning */
			free(dv);
			return;
		}
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
	d->discovered = 1;
	d->peers_listed = p->refreshes;
	contact->seen = p->refreshes;	/* no node lists itself */
	add_peers(p, contact, &rows, dv->step == DISCOVER_PEERS_V2);
	free(dv);
	cql_pool_set_state(p);
}

/* discover_send - the current step's query on the contact connection */
static int discover_send(struct discovery *dv)
{
	struct cql_discovery *d = dv->d;
	const char *q = discovery_query[dv->step];
	enum cql_status why;
	struct buf b;
	int rc;

	buf_init(&b);
	cql_encode_query(&b, d->pool->version, 0, q, strlen(q), CQL_CONSISTENCY_ONE, NULL, 0);
	rc = cql_conn_send(dv->c, &b, discovery_answer, dv, &why);
	buf_free(&b);
	if (rc == 0)
		d->discovering = 1;
	return rc;
}

/* discover - learn the cluster's nodes, on a usable connection */
static void discover(struct cql_discovery *d, struct cql_pconn *pc)
{
	struct discovery *dv = calloc(1, sizeof(*dv));

	if (dv == NULL)
		return;
	dv->d = d;
	dv->pc = pc;
	dv->c = pc->c;
	dv->step = DISCOVER_LOCAL;
	if (discover_send(dv) != 0)
		free(dv);
}

/* cql_discovery_usable - the first usable connection starts discovery */
void cql_discovery_usable(struct cql_discovery *d, struct cql_pconn *pc)
{
	if (d->pool->cfg->discovery && !d->discovered && !d->discovering)
		discover(d, pc);
}

/* cql_discovery_init - nothing resolved nor read yet */
void cql_discovery_init(struct cql_discovery *d, struct cql_pool *pool, struct evdns_base *dns)
{
	memset(d, 0, sizeof(*d));
	d->pool = pool;
	d->dns = dns;
}

/* cql_discovery_start - the refresh timer, and the first resolutions */
void cql_discovery_start(struct cql_discovery *d)
{
	int ms = d->pool->cfg->refresh_ms;
	struct timeval rtv = { ms / 1000, (ms % 1000) * 1000 };

	d->refresh_timer = event_new(d->pool->base, -1, EV_PERSIST, refresh_cb, d);
	if (d->refresh_timer)
		evtimer_add(d->refresh_timer, &rtv);
	resolve_all(d);
}

/* cql_discovery_stop - cancel the resolutions under way */
void cql_discovery_stop(struct cql_discovery *d)
{
	size_t i;

	for (i = 0; i < d->pool->cfg->nhosts; i++)
		if (d->resolves[i].req)
			evdns_getaddrinfo_cancel(d->resolves[i].req);
}

/* cql_discovery_free - the refresh timer */
void cql_discovery_free(struct cql_discovery *d)
{
	if (d->refresh_timer)
		event_free(d->refresh_timer);
	d->refresh_timer = NULL;
}

/* cql_discovery_resolving - a name lookup is under way */
int cql_discovery_resolving(const struct cql_discovery *d)
{
	size_t i;

	for (i = 0; i < d->pool->cfg->nhosts; i++)
		if (d->resolves[i].req)
			return 1;
	return 0;
}
