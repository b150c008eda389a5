/*
 * cql_conn - one asynchronous CQL connection on the event loop
 *
 * SYNOPSIS
 *	#include "cql/cql_conn.h"
 *
 * DESCRIPTION
 *	A connection connects to one address, performs the STARTUP handshake
 *	and then carries many requests at once, each under its own stream id.
 *	Callers hand it a complete frame (built with cql_proto.h, any stream
 *	and version in the header); the connection writes its own version and
 *	a free stream id into the header, sends it, and calls back exactly once
 *	per request: with the answer, with CQL_STATUS_TIMEOUT after the
 *	request timeout, or with CQL_STATUS_CONN_LOST when the connection goes.
 *
 *	A stream id whose request timed out stays reserved until its late
 *	answer arrives (or the connection is replaced), so a late answer can
 *	never be taken for the answer to a newer request.
 *
 *	Anything the server sends that breaks the protocol (a bad header, an
 *	answer for a stream not in use, a body over the limit) closes the
 *	connection: with one peer we cannot resynchronise safely.
 *
 *	The owner learns of readiness and closing through callbacks; it may
 *	call cql_conn_free() from inside any callback.
 */
#ifndef PAC_CQL_CONN_H
#define PAC_CQL_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cql_proto.h"
#include "cql_streams.h"

struct event_base;
struct cql_conn;

/* How a request ended. Errors stay typed up to the lookup engine. */
enum cql_status {
	CQL_STATUS_OK = 0,		/* an answer other than ERROR */
	CQL_STATUS_SERVER_ERROR,	/* an ERROR frame: see err */
	CQL_STATUS_TIMEOUT,		/* no answer within the request timeout */
	CQL_STATUS_CONN_LOST,		/* the connection went before the answer */
	CQL_STATUS_NOT_CONNECTED,	/* no usable connection to send on */
	CQL_STATUS_BUSY,		/* every stream id in use */
	CQL_STATUS_PROTOCOL,		/* the answer could not be decoded */
	CQL_STATUS_NOT_PREPARED,	/* the statement failed to prepare */
	CQL_STATUS_NODE_REFUSED,	/* one node refused a statement others prepared */
	CQL_STATUS_TOO_LARGE,		/* a paged result over the per-read bound */
};

const char *cql_status_name(enum cql_status st);

struct cql_response {
	enum cql_status status;
	uint8_t version;
	uint8_t opcode;
	const uint8_t *body;		/* valid only during the callback */
	size_t len;
	const struct cql_error *err;	/* SERVER_ERROR and NOT_PREPARED */
};


/* Why a connection closed; VERSION means "retry with a lower version". */
enum cql_close_reason {
	CQL_CLOSE_CONNECT_FAILED,
	CQL_CLOSE_HANDSHAKE,
	CQL_CLOSE_VERSION,
	CQL_CLOSE_AUTH,
	CQL_CLOSE_EOF,
	CQL_CLOSE_IO,
	CQL_CLOSE_PROTOCOL,
	CQL_CLOSE_LOCAL,
};

struct cql_conn_callbacks {
	void (*ready)(struct cql_conn *conn, void *arg);
	void (*closed)(struct cql_conn *conn, enum cql_close_reason why,
		       const char *detail, void *arg);
};

struct cql_auth;
struct ssl_ctx_st;

struct cql_conn_options {
	uint8_t version;		/* protocol version to start with */
	const char *host;		/* name connected to: TLS SNI and verification */
	struct ssl_ctx_st *tls;		/* NULL: plain TCP */
	int tls_verify;
	const struct cql_auth *auth;	/* NULL: no credentials to offer */
	int connect_timeout_ms;		/* TCP connect + STARTUP */
	int request_timeout_ms;		/* each request */
	int heartbeat_ms;		/* OPTIONS after this much silence; 0: off */
	uint32_t max_body;		/* largest answer accepted */
};

#define CQL_CONN_MAX_BODY	(16u * 1024 * 1024)	/* default answer limit */
#define CQL_LABEL_MAX		128	/* bytes in a node's "address:port", for logs */

struct cql_conn *cql_conn_new(struct event_base *base,
			      const struct sockaddr *sa, socklen_t salen,
			      const char *label,
			      const struct cql_conn_options *opts,
			      const struct cql_conn_callbacks *cbs, void *arg);
/* cql_conn_send - send a frame; 0, or -1 with *st why not (cb not called) */
int cql_conn_send(struct cql_conn *conn, struct buf *frame,
		  cql_response_fn cb, void *arg, enum cql_status *st);
/* cql_conn_close - close now: pending requests get CONN_LOST, then closed() */
void cql_conn_close(struct cql_conn *conn, enum cql_close_reason why,
		    const char *detail);
/* cql_conn_free - close silently (no callbacks) and release */
void cql_conn_free(struct cql_conn *conn);

int cql_conn_is_ready(const struct cql_conn *conn);
uint8_t cql_conn_version(const struct cql_conn *conn);
unsigned cql_conn_in_flight(const struct cql_conn *conn);
/* cql_conn_suspect - a request timed out and nothing was read since */
int cql_conn_suspect(const struct cql_conn *conn);
const char *cql_conn_label(const struct cql_conn *conn);

#endif
