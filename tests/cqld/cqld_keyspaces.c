/*
 * cqld_keyspaces - cqld as an Amazon Keyspaces service endpoint
 *
 * SYNOPSIS
 *	#include "cqld.h"
 *
 *	cqld --keyspaces REGION --tls-cert FILE --tls-key FILE
 *	     --auth sigv4:KEYID:SECRET[:REGION] [--endpoint-addresses N]
 *	     [--keyspaces-vpce] [--page-budget BYTES] ...
 *
 * DESCRIPTION
 *	--keyspaces REGION makes cqld behave as the Keyspaces endpoint of
 *	that region does, as the Amazon Keyspaces developer guide describes
 *	it (page names quoted):
 *
 *	- TLS only and SigV4 only ("Connections", "Using a Cassandra client
 *	  driver"): --tls-cert/--tls-key and --auth sigv4 are required, the
 *	  key signs for REGION. A plain TCP client fails the TLS handshake.
 *	- release_version 3.11.2 and native protocol v4, as cqlsh shows the
 *	  service ("Cassandra 3.11.2 | CQL spec 3.4.4 | Native protocol v4",
 *	  quoted in openzipkin/zipkin-aws issue 180), v3 too; a v5 frame gets
 *	  Cassandra's Protocol error, on which drivers downgrade (what the
 *	  service itself says to v5 is not documented); data_center and rack
 *	  are the region ("System keyspaces in Amazon Keyspaces").
 *	- The endpoint answers on several addresses: cqld listens on
 *	  --endpoint-addresses consecutive IPv4 addresses from --listen's
 *	  (127.0.0.1, .2, ...; Linux routes all of 127/8 to lo) on one port,
 *	  all with the same certificate. A client sees the address it reached
 *	  as system.local's rpc_address and the others in system.peers: the
 *	  public endpoint has 10 (AWS: "populates the system.peers table with
 *	  nine entries", "Using Amazon Keyspaces with interface VPC
 *	  endpoints"); --keyspaces-vpce models an interface VPC endpoint,
 *	  one address per Availability Zone (3 by default).
 *	- system.peers_v2 does not exist: "unconfigured table peers_v2".
 *	- Reads only at ONE, LOCAL_ONE and LOCAL_QUORUM, writes only at
 *	  LOCAL_QUORUM ("Supported Apache Cassandra consistency levels in
 *	  Amazon Keyspaces"); any other level gets the Invalid error the
 *	  service returns (its words, as reported in
 *	  apache/cassandra-gocql-driver issue 1420 and
 *	  scylladb/scylla-rust-driver issue 350 for reads, and
 *	  akka/akka-persistence-cassandra pull request 1141 for a write).
 *	- Results are paged at a budget of data read, 1 MB unless
 *	  --page-budget (or the control command "paging") says otherwise
 *	  ("Paginate results in Amazon Keyspaces"): every column of a row read
 *	  counts, not only those selected, and the rows a filter (ALLOW
 *	  FILTERING) reads and drops count too, so a page may hold no row at
 *	  all; the page size counts rows read as well ("if you set PAGE SIZE
 *	  to 10 and Keyspaces evaluates 30 rows ... three pages").
 *	  exec_select.c cuts the pages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqld.h"

#define KS_RELEASE		"3.11.2"	/* release_version Keyspaces reports */
#define KS_PAGE_BUDGET		(1024 * 1024)	/* bytes read per page: 1 MB */
#define KS_AUTH_MAX		512	/* --auth with the region added, bytes */
#define KS_BIND_TRIES		20	/* port choices before giving up */

/* Keyspaces' words for a level it does not serve (%s: the level, the levels) */
#define KS_CONSISTENCY_MSG	"Consistency level %s is not supported for " \
	"this operation. Supported consistency levels are: %s"
#define KS_READ_LEVELS		"ONE, LOCAL_QUORUM, LOCAL_ONE"
#define KS_WRITE_LEVELS		"LOCAL_QUORUM"

/* ks_fail - a wrong combination of options: message, exit 2 */
static void ks_fail(const char *msg) __attribute__((noreturn));

static void ks_fail(const char *msg)
{
	fprintf(stderr, "cqld: --keyspaces: %s\n", msg);
	exit(2);
}

/*
 * ks_configure - check what --keyspaces needs and fill in what it implies:
 * the region signed for, data center, rack, version, page budget
 */
void ks_configure(struct ks_opts *k, int have_tls, int have_peers)
{
	static char auth[KS_AUTH_MAX];
	const char *a = k->auth_spec, *c;
	size_t colons = 0;

	if (strspn(k->region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(k->region) || !*k->region || strlen(k->region) >= EX_DC_MAX)
		ks_fail("expected a region name such as us-east-1");
	if (!have_tls)
		ks_fail("needs --tls-cert and --tls-key (Keyspaces speaks TLS "
			"only)");
	if (a == NULL || strncmp(a, "sigv4:", 6) != 0)
		ks_fail("needs --auth sigv4:KEYID:SECRET (Keyspaces "
			"authenticates with SigV4 only here)");
	if (have_peers)
		ks_fail("lists its own peers: use --endpoint-addresses, not "
			"--peers");
	for (c = a; *c; c++)
		colons += *c == ':';
	if (colons == 2) {
		if (snprintf(auth, sizeof(auth), "%s:%s", a, k->region) >=
		    (int)sizeof(auth))
			ks_fail("--auth too long");
		k->auth_spec = auth;
	} else if (strcmp(strrchr(a, ':') + 1, k->region) != 0) {
		ks_fail("--auth signs for another region");
	}
	if (k->naddr == 0)
		k->naddr = k->vpce ? KS_VPCE_AZS : KS_ADDRESSES;
	k->dc = k->region;
	k->rack = k->region;
	k->release = KS_RELEASE;
	if (!k->budget_set)
		srv.page_budget = KS_PAGE_BUDGET;
}

/* ks_free - free the first n listeners of lst, errno kept */
static void ks_free(struct evconnlistener **lst, size_t n)
{
	int e = errno;

	while (n > 0)
		evconnlistener_free(lst[--n]);
	errno = e;
}

/*
 * ks_bind - bind k->naddr listeners on consecutive IPv4 addresses from
 * base, all on one port (base's, or the first one the system gives).
 * Returns the port, or -1 (errno) with nothing left bound.
 */
static int ks_bind(const struct ks_opts *k, const struct sockaddr_in *base,
		   struct evconnlistener **lst, struct ex_peer *peers)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	int port = ntohs(base->sin_port);
	long i;

	for (i = 0; i < k->naddr; i++) {
		memset(&ss, 0, sizeof(ss));
		*a = *base;
		a->sin_addr.s_addr = htonl(ntohl(base->sin_addr.s_addr) +
					   (uint32_t)i);
		a->sin_port = htons((uint16_t)port);
		if ((lst[i] = listener_bind(&conn_listener, &ss,
					    sizeof(*a))) == NULL) {
			ks_free(lst, (size_t)i);
			return -1;
		}
		if (i == 0 && (port = bound_port(lst[0])) < 0) {
			ks_free(lst, 1);
			return -1;
		}
		memcpy(peers[i].addr, &a->sin_addr, 4);
		peers[i].addrlen = 4;
		peers[i].port = port;
		snprintf(peers[i].dc, sizeof(peers[i].dc), "%s", k->region);
	}
	return port;
}

/*
 * ks_listen - listen on the endpoint's addresses (spec: the first, IPv4,
 * port 0 for any); every address goes to peers. ss gets the first
 * address, port the port. Another process may hold the port on a later
 * address: then another port is tried. Returns the number of listeners;
 * exits 2 on failure.
 */
size_t ks_listen(const struct ks_opts *k, const char *spec,
		 struct evconnlistener **lst, struct sockaddr_storage *ss,
		 int *port, struct ex_peer *peers)
{
	struct sockaddr_in *base = (struct sockaddr_in *)ss;
	int tries;

	if (parse_addr(spec, ss) != sizeof(*base) || base->sin_addr.s_addr ==
	    htonl(INADDR_ANY))
		ks_fail("--listen must be one IPv4 address (the first of the "
			"endpoint's)");
	for (tries = 0; tries < KS_BIND_TRIES; tries++) {
		if ((*port = ks_bind(k, base, lst, peers)) >= 0) {
			base->sin_port = htons((uint16_t)*port);
			return (size_t)k->naddr;
		}
		if (errno != EADDRINUSE || base->sin_port != 0)
			break;
	}
	fprintf(stderr, "cqld: cannot listen on %ld addresses from %s: %s\n",
		k->naddr, spec, strerror(errno));
	exit(2);
}

/*
 * ks_request - what Keyspaces checks before it runs a statement on
 * ks.table: reads and writes at a level it serves. Also shows the connection
 * running the request its own view of system.local and system.peers.
 * 0, or -1 with err set.
 */
int ks_request(const struct cl_stmt *st, const char *ks, const char *table,
	       uint16_t consistency, struct cql_error *err)
{
	struct conn *c = srv.running;
	int write = st->kind == CL_INSERT || st->kind == CL_UPDATE ||
		    st->kind == CL_DELETE;

	if (srv.keyspaces == NULL)
		return 0;
	if ((st->kind == CL_SELECT && consistency != CQL_CONSISTENCY_ONE &&
	     consistency != CQL_CONSISTENCY_LOCAL_ONE &&
	     consistency != CQL_CONSISTENCY_LOCAL_QUORUM) ||
	    (write && consistency != CQL_CONSISTENCY_LOCAL_QUORUM)) {
		ex_set_error(err, CQL_ERR_INVALID, KS_CONSISTENCY_MSG,
			     cql_consistency_name(consistency),
			     write ? KS_WRITE_LEVELS : KS_READ_LEVELS);
		return -1;
	}
	if (c && c->laddrlen && strcmp(ks, "system") == 0 &&
	    (strcmp(table, "local") == 0 || strcmp(table, "peers") == 0))
		(void)ex_view(&srv.store, c->laddr, c->laddrlen);
	return 0;
}
