/*
 * cql_session_types - what a CQL session is told, and what it answers
 *
 * SYNOPSIS
 *	#include "cql/cql_session_types.h"
 *
 * DESCRIPTION
 *	The types the session's parts share (cql_pool, cql_discovery,
 *	cql_stmt, cql_session): the configuration, a read's result and a
 *	statement's state. Types only, so that every part may include it
 *	without including another part.
 */
#ifndef PAC_CQL_SESSION_TYPES_H
#define PAC_CQL_SESSION_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "cql_hosts.h"
#include "cql_proto.h"
#include "cql_tls.h"

struct cql_auth;

#define CQL_DC_MAX		64	/* bytes in a data center name, with its NUL */

struct cql_session_config {
	struct cql_host_spec hosts[CQL_MAX_HOSTS];
	size_t nhosts;
	uint16_t consistency;
	uint8_t max_version;		/* 4, or 3 to never try v4 */
	int connect_timeout_ms;
	int request_timeout_ms;
	int reconnect_min_ms;
	int reconnect_max_ms;
	int lookup_timeout_ms;		/* a read and its retry end by then */
	int heartbeat_ms;		/* OPTIONS on silent connections */
	int connections_per_host;	/* the floor of a node's connections */
	int connections_per_host_max;	/* their ceiling (below the floor: the floor) */
	int connection_rate_limit;	/* requests/s one connection may carry */
	int discovery;			/* learn nodes from system.peers */
	int refresh_ms;			/* names resolved, peers read again */
	char local_dc[CQL_DC_MAX];	/* prefer this datacenter ("": any) */
	struct cql_tls_config tls;	/* settings, read from the environment */
	SSL_CTX *tls_ctx;		/* built from tls when enabled (not owned) */
	const struct cql_auth *auth;	/* NULL: none (not owned) */
};

struct cql_result {
	enum cql_status status;
	const struct cql_error *err;	/* SERVER_ERROR, NOT_PREPARED */
	int has_rows;
	struct cql_rows rows;		/* every page's rows; valid during the callback */
	const char *host;		/* which host answered, for logs */
	const uint8_t *next_state;	/* one-page reads: paging state of the next page, */
	size_t next_state_len;		/* NULL after the last (valid during the callback) */
};

typedef void (*cql_result_fn)(const struct cql_result *res, void *arg);

enum cql_stmt_state {
	CQL_STMT_NEW,		/* never prepared on a live connection */
	CQL_STMT_READY,		/* prepared: can be executed */
	CQL_STMT_FAILED,	/* the server refused it: see the error */
};

#endif
