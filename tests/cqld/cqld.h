/*
 * cqld - what the parts of the CQL test server share
 *
 * SYNOPSIS
 *	#include "cqld.h"
 *
 * DESCRIPTION
 *	Private to cqld.c (options, listeners, the loop), cqld_conn.c (a
 *	client connection: frames, STARTUP, authentication, dispatch),
 *	cqld_request.c (QUERY, PREPARE, EXECUTE, BATCH and the prepared
 *	statement cache), cqld_control.c (the control port, and the
 *	counts and failures it sets up) and cqld_keyspaces.c (--keyspaces:
 *	the Amazon Keyspaces endpoint). One process serves one node, so
 *	its state is one structure, srv.
 */
#ifndef CQLD_CQLD_H
#define CQLD_CQLD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "buf.h"
#include "cql/cql_proto.h"
#include "cql_lang.h"
#include "exec.h"
#include "store.h"

#define CQLD_ID_LEN		16	/* prepared statement id, bytes */
#define CQLD_MAX_DELAY_MS	600000	/* 10 minutes */
#define CQLD_MAX_RATE		1000000	/* --rate-limit, requests/s */
#define CQLD_MIN_PROTOCOL	3
#define CQLD_MAX_PROTOCOL	4

/* Cassandra's words for an unknown prepared id (%s: the id in hex) */
#define CQLD_UNPREPARED_MSG	"Prepared query with ID %s not found " \
	"(either the query was not prepared on this host (maybe the host " \
	"has been restarted?) or you have prepared too many queries and " \
	"it has been evicted from the internal cache)"

/* DLIST_INSERT - put e first on the list head (e->prev is NULL) */
#define DLIST_INSERT(head, e) do {					\
	(e)->next = (head);						\
	if (head)							\
		(head)->prev = (e);					\
	(head) = (e);							\
} while (0)

/* DLIST_REMOVE - take e off the list head */
#define DLIST_REMOVE(head, e) do {					\
	if ((e)->prev)							\
		(e)->prev->next = (e)->next;				\
	else								\
		(head) = (e)->next;					\
	if ((e)->next)							\
		(e)->next->prev = (e)->prev;				\
} while (0)

/* A request connection */
struct conn {
	struct bufferevent *bev;
	struct conn *prev, *next;
	uint8_t version;		/* 0 until the first frame */
	uint8_t started;		/* STARTUP accepted */
	uint8_t ready;			/* STARTUP (and authentication) done */
	void *auth;			/* authentication exchange, or NULL */
	uint8_t closing;		/* close when output is flushed */
	char keyspace[CL_NAME_MAX];	/* USE */
	struct pending *pending;	/* delayed responses */
	uint8_t laddr[16];		/* the address it reached (4 or 16 */
	size_t laddrlen;		/* bytes; 0: unknown) */
	double tokens;			/* --rate-limit bucket (cqld_throttle.c) */
	int64_t bucket_ms;		/* when it was last filled; 0: never */
};

/* A response waiting for its delay, or held until "hold off" */
struct pending {
	struct event *ev;
	struct conn *c;
	int held;			/* not armed: waits for "hold off" */
	struct buf frame;
	struct pending *prev, *next;
};

/* A control connection */
struct ccon {
	struct bufferevent *bev;
	struct ccon *prev, *next;
	char keyspace[CL_NAME_MAX];
};

/* A statement PREPARE cached, for EXECUTE and BATCH */
struct prepared {
	uint8_t id[CQLD_ID_LEN];
	char keyspace[CL_NAME_MAX];
	char *query;
	size_t len;
	struct prepared *next;
};

/* Requests on one user table since "reset-counts" */
struct counted {
	char name[2 * CL_NAME_MAX];
	unsigned long n;
};

/* The server: options, what the control port set, the connections */
struct cqld_server {
	struct event_base *base;
	struct store store;
	int max_protocol;
	int delay_ms;
	int verbose;
	int stall;
	int hold;			/* "hold on": keep user-table answers */
	int holdable;			/* the answer being sent is one */
	int refuse;
	size_t page_budget;		/* "paging": bytes of cells a page holds */
	int empty_pages;		/* "paging ... empty" */
	int fail_code;			/* -1: no failure injection */
	long fail_left;			/* < 0: until "fail off" */
	long rate_limit;		/* --rate-limit: requests/s per connection */
	long fail_every;		/* > 0: only every Nth request fails */
	long fail_seen;			/* requests seen since "fail CODE every N" */
	struct conn *conns;
	struct ccon *controls;
	struct prepared *prepared;	/* most recent first */
	size_t nprepared;
	struct counted *counts;
	size_t ncounts;
	SSL_CTX *tls;			/* NULL: plain TCP */
	struct auth *auth;		/* NULL: no authentication */
	const char *keyspaces;		/* --keyspaces REGION, or NULL */
	struct conn *running;		/* whose request is being run */
};

extern struct cqld_server srv;

/* A kind of listener: who takes its connections, with which callbacks */
struct listener {
	void *(*accept)(struct bufferevent *bev);	/* NULL: no memory */
	bufferevent_data_cb read, write;
	bufferevent_event_cb event;
	int tls;			/* TLS when srv.tls is set */
	int *refuse;			/* set: connections closed at once */
};

/* cqld.c */
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int parse_long(const char *s, long lo, long hi, long *out);
int parse_addr(const char *spec, struct sockaddr_storage *ss);
struct evconnlistener *listener_bind(const struct listener *who,
				     struct sockaddr_storage *ss, int len);
int bound_port(struct evconnlistener *l);

/* cqld_keyspaces.c */
#define KS_ADDRESSES	10	/* public endpoint: itself and 9 peers */
#define KS_VPCE_AZS	3	/* VPC endpoint: one interface per AZ */
#define KS_MAX_ADDRESSES 64	/* --endpoint-addresses */

/* What --keyspaces asks of the other options */
struct ks_opts {
	const char *region;		/* --keyspaces */
	long naddr;			/* --endpoint-addresses (0: default) */
	int vpce;			/* --keyspaces-vpce */
	int budget_set;			/* --page-budget given */
	const char *auth_spec;		/* completed with the region */
	const char *dc, *rack, *release;
};

void ks_configure(struct ks_opts *k, int have_tls, int have_peers);
size_t ks_listen(const struct ks_opts *k, const char *spec,
		 struct evconnlistener **lst, struct sockaddr_storage *ss,
		 int *port, struct ex_peer *peers);
int ks_request(const struct cl_stmt *st, const char *ks, const char *table,
	       uint16_t consistency, struct cql_error *err);

/* cqld_conn.c; conn_error's how: */
#define CONN_KEEP	0	/* the error is an answer like any other */
#define CONN_CLOSE	1	/* sent at once, then the connection closes */

extern const struct listener conn_listener;
void conn_free(struct conn *c);
void conn_error(struct conn *c, int16_t stream, int how, int code,
		const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void conn_reply(struct conn *c, int16_t stream, int rc, struct buf *body,
		const struct cql_error *err);
unsigned long conn_held(int release);

/* cqld_request.c */
void request_query(struct conn *c, int16_t stream, struct cql_rd *rd);
void request_prepare(struct conn *c, int16_t stream, struct cql_rd *rd);
void request_execute(struct conn *c, int16_t stream, struct cql_rd *rd);
void request_batch(struct conn *c, int16_t stream, struct cql_rd *rd);
void prepared_clear(void);

/* cqld_control.c */
extern const struct listener control_listener;
void control_free(struct ccon *cc);
void count_request(const char *ks, const char *table);
int fail_inject(const char *ks, const char *table, uint16_t cons,
		const uint8_t *id, struct cql_error *err);

/* cqld_throttle.c */
int throttle_conn(struct conn *c, int read, uint16_t cons, struct cql_error *err);
int throttle_table(const char *ks, const char *table, int read, uint16_t cons,
		   struct cql_error *err);
int throttle_command(const char *name, const char *arg, struct buf *rep);

#endif
