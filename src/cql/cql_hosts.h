/*
 * cql_hosts - the CASSANDRA_HOSTS list parser
 *
 * SYNOPSIS
 *	#include "cql/cql_hosts.h"
 *
 *	int cql_hosts_parse(const char *list, uint16_t default_port,
 *			    struct cql_host_spec hosts[CQL_MAX_HOSTS],
 *			    size_t *nhosts, char *err, size_t errlen);
 *
 * DESCRIPTION
 *	A host list is names or addresses separated by commas or spaces,
 *	each with an optional ":port"; an IPv6 address with a port is
 *	written "[addr]:port". A pure function: no allocation, no I/O, no
 *	name resolution (the session resolves the names later, with evdns).
 *
 * DIAGNOSTICS
 *	-1 with a one-line reason in err: no host, more than CQL_MAX_HOSTS,
 *	an empty or over-long name, a bad port, an unbracketed IPv6 address.
 */
#ifndef PAC_CQL_HOSTS_H
#define PAC_CQL_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#define CQL_MAX_HOSTS		32	/* entries in CASSANDRA_HOSTS */
#define CQL_HOST_MAX		256	/* bytes in a host name, with its NUL */
#define CQL_DEFAULT_PORT	9042
#define CQL_DEFAULT_TLS_PORT	9142
#define CQL_PORT_MAX		65535	/* ports are 1 to this */

struct cql_host_spec {
	char host[CQL_HOST_MAX];
	uint16_t port;
};

/*
 * cql_hosts_parse - "h1[:port],[v6addr]:port,..." into hosts[] and
 * *nhosts (the entries before an error stay counted). Returns 0, or -1
 * with a message in err.
 */
int cql_hosts_parse(const char *list, uint16_t default_port,
		    struct cql_host_spec hosts[CQL_MAX_HOSTS], size_t *nhosts,
		    char *err, size_t errlen);

#endif
