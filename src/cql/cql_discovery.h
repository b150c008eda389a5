/*
 * cql_discovery - how a CQL session learns the cluster's nodes
 *
 * SYNOPSIS
 *	#include "cql/cql_discovery.h"
 *
 * DESCRIPTION
 *	Tells the pool (cql_pool_listed) which nodes exist: every address
 *	of each configured name, resolved with evdns (never a blocking
 *	resolver call on the loop), and, unless discovery is off, the
 *	contact's data center from system.local and the other nodes from
 *	system.peers_v2 or system.peers, read on the first usable connection
 *	(cql_discovery_usable, the pool's usable hook).
 *
 *	Every refresh_ms both are done again: new nodes are added, and a
 *	node down and no longer listed by the source it came from, for
 *	CQL_FORGET_REFRESHES refreshes in which that source answered, is
 *	forgotten (cql_pool_forget).
 */
#ifndef PAC_CQL_DISCOVERY_H
#define PAC_CQL_DISCOVERY_H

#include <stddef.h>

#include "log.h"
#include "cql_pool.h"
#include "cql_session_types.h"

struct event;
struct evdns_base;
struct evdns_getaddrinfo_request;
struct cql_discovery;

/* The resolution of one configured name. */
struct cql_resolve {
	struct cql_discovery *d;
	size_t spec;			/* index in cfg->hosts */
	unsigned listed;		/* refresh of its last successful resolution */
	struct evdns_getaddrinfo_request *req;
};

struct cql_discovery {
	struct cql_pool *pool;
	struct evdns_base *dns;
	struct cql_resolve resolves[CQL_MAX_HOSTS];
	unsigned peers_listed;		/* refresh of the last peers table read */
	int discovering, discovered;
	struct event *refresh_timer;
	struct log_limit connect_log;
};

void cql_discovery_init(struct cql_discovery *d, struct cql_pool *pool, struct evdns_base *dns);
/* cql_discovery_start - resolve the configured names, refresh every refresh_ms */
void cql_discovery_start(struct cql_discovery *d);
/* cql_discovery_stop - cancel the resolutions under way */
void cql_discovery_stop(struct cql_discovery *d);
void cql_discovery_free(struct cql_discovery *d);
/* cql_discovery_usable - a connection serves: read the peers, once */
void cql_discovery_usable(struct cql_discovery *d, struct cql_pconn *pc);
/* cql_discovery_resolving - a configured name is being looked up */
int cql_discovery_resolving(const struct cql_discovery *d);

#endif
