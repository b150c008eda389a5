/*
 * cql_pool - the nodes of a CQL session and their connections
 *
 * SYNOPSIS
 *	#include "cql/cql_pool.h"
 *
 * DESCRIPTION
 *	A pool keeps connections_per_host connection slots to every node it
 *	is told of (cql_pool_listed), and more, up to connections_per_host_max,
 *	while the node's request rate nears connection_rate_limit per
 *	connection or the node throttles requests (cql_rate.h decides; a slot
 *	added is given back, idle, once the rate has long been low). A slot whose connection fails is
 *	reconnected after its node's backoff (exponential, with jitter); the
 *	protocol version steps down from v4 to v3 when a server asks.
 *
 *	A new connection serves only once its owner's statements are
 *	prepared on it. The pool knows nothing of statements: it calls
 *	hooks->prepare, which sends the PREPAREs and says how many, counts
 *	their answers (cql_pool_prepared_one), and then reports the
 *	connection usable through hooks->usable (discovery starts from the
 *	first one); a failed attempt or name, or a lost connection, through
 *	hooks->failed. So the pool depends on no other part of the session.
 *
 *	Nodes are only ever added, or forgotten when no slot holds a
 *	connection, so connections and requests may keep pointers to them.
 *	The pool also picks the connection a request goes to, and keeps the
 *	one-line state text of the backend.
 */
#ifndef PAC_CQL_POOL_H
#define PAC_CQL_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"
#include "cql_conn.h"
#include "cql_rate.h"
#include "cql_session_types.h"

struct event;
struct event_base;

#define CQL_MAX_NODES		64	/* nodes known to a session */
#define CQL_MAX_POOL		16	/* connections per node */
#define CQL_STATE_TEXT_MAX	640	/* bytes in the state line, with its NUL */
#define CQL_LOG_INTERVAL_MS	10000	/* repeated connect errors */

struct cql_pool;
struct cql_host;

/* One slot of a node's pool. */
struct cql_pconn {
	struct cql_pool *pool;
	struct cql_host *h;
	struct cql_conn *c;		/* NULL while waiting to reconnect */
	int usable;			/* ready, statements prepared */
	int prepares;			/* PREPAREs outstanding before usable */
	struct event *retry;
};

struct cql_host {
	unsigned id;			/* never reused within a session */
	unsigned seen;			/* refresh when last resolved or listed */
	int spec;			/* configured name it came from; -1: peers */
	char name[CQL_HOST_MAX];	/* TLS identity: the configured name */
	char label[CQL_LABEL_MAX];	/* address:port for logs */
	struct sockaddr_storage ss;
	socklen_t len;
	char dc[CQL_DC_MAX];
	int failed;			/* failed since it was last up */
	int backoff_ms;
	struct log_limit log;
	int nslots;			/* slots in use: the floor .. the ceiling */
	struct cql_rate rate;		/* requests sent, throttled answers */
	int64_t changed_ms;		/* last slot added, or throttled answer */
	int64_t scaled_ms;		/* last time the slots were reconsidered */
	struct cql_pconn pool[CQL_MAX_POOL];
};

/* What the pool asks of its owner. */
struct cql_pool_hooks {
	/* prepare - send the PREPAREs a new connection needs; how many were sent */
	int (*prepare)(struct cql_pconn *pc, void *arg);
	/* usable - a connection now serves */
	void (*usable)(struct cql_pconn *pc, void *arg);
	/* failed - a connection attempt or a name failed, or a connection was lost */
	void (*failed)(void *arg);
};

struct cql_pool {
	struct event_base *base;
	const struct cql_session_config *cfg;	/* the session's (not owned) */
	const struct cql_pool_hooks *hooks;
	void *hooks_arg;
	uint8_t version;		/* protocol version of new connections */
	struct cql_host *hosts[CQL_MAX_NODES];
	size_t nhosts;
	size_t rr;			/* rotates the starting node */
	unsigned next_host_id;
	unsigned refreshes;		/* names and peers refreshes so far */
	struct log_limit full_log;	/* node table or stream ids full */
	char state_text[CQL_STATE_TEXT_MAX];
	unsigned failures;		/* connection attempts that failed */
	unsigned long long throttled;	/* throttled answers */
	int stopping;			/* the session is being freed */
};

/* cql_pconn_fn - visit one slot; non-zero stops the visit there */
typedef int (*cql_pconn_fn)(struct cql_pconn *pc, void *arg);
/* cql_host_gone_fn - who no longer lists node h (it may go); NULL: keep it */
typedef const char *(*cql_host_gone_fn)(const struct cql_host *h, void *arg);

void cql_pool_init(struct cql_pool *p, struct event_base *base,
		   const struct cql_session_config *cfg, uint8_t version,
		   const struct cql_pool_hooks *hooks, void *hooks_arg);
/* cql_pool_free - close every connection (their requests get CONN_LOST), free the nodes */
void cql_pool_free(struct cql_pool *p);

/*
 * cql_pool_each - call fn on every slot of every node (of node only, if
 * not NULL) until it returns non-zero; that slot, or NULL
 */
struct cql_pconn *cql_pool_each(struct cql_pool *p, struct cql_host *only,
				cql_pconn_fn fn, void *arg);
/* cql_pool_first_usable - any usable connection, NULL if none */
struct cql_pconn *cql_pool_first_usable(struct cql_pool *p);
/*
 * cql_pool_pick - the least loaded usable connection, local datacenter
 * first, not on node avoid (0: any) and not avoid_pc (NULL: any)
 */
struct cql_pconn *cql_pool_pick(struct cql_pool *p, unsigned avoid,
				const struct cql_pconn *avoid_pc);
/* cql_pool_sent - a request went out on pc: count it, add or drop a slot */
void cql_pool_sent(struct cql_pool *p, struct cql_pconn *pc);
/* cql_pool_throttled - pc's node throttled a request */
void cql_pool_throttled(struct cql_pool *p, struct cql_pconn *pc);

/*
 * cql_pool_listed - a node that configured name spec, or a peers table
 * (spec -1), lists: the known one, marked as seen now, or a new one that
 * starts connecting (NULL when the table is full)
 */
struct cql_host *cql_pool_listed(struct cql_pool *p, const struct sockaddr *sa,
				 socklen_t len, const char *name, int spec);
/* cql_pool_forget - drop the nodes without a connection that gone() names */
void cql_pool_forget(struct cql_pool *p, cql_host_gone_fn gone, void *arg);
/* cql_pool_prepared_one - one PREPARE of a new connection is answered */
void cql_pool_prepared_one(struct cql_pconn *pc);
/* cql_pool_retry_now - connections waiting out a backoff try at once */
void cql_pool_retry_now(struct cql_pool *p);

/* cql_pool_set_state - the state line from the nodes up, "label xCONNECTIONS" each */
void cql_pool_set_state(struct cql_pool *p);
/* cql_pool_note_failure - why the backend is not answering, for logs and TEMP; hooks->failed */
void cql_pool_note_failure(struct cql_pool *p, const char *label, const char *detail);
/* cql_pool_host_up - node h has a usable connection */
int cql_pool_host_up(const struct cql_pool *p, const struct cql_host *h);
/* cql_pool_host_conns - usable connections of node h */
int cql_pool_host_conns(const struct cql_pool *p, const struct cql_host *h);
/* cql_pool_hosts_up - nodes with a usable connection, and all nodes */
void cql_pool_hosts_up(const struct cql_pool *p, size_t *up, size_t *known);
/* cql_pool_all_failed - every node failed and none is up (none known: any failure) */
int cql_pool_all_failed(const struct cql_pool *p);

#endif
