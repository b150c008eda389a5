/*
 * cqld - in-memory CQL test server (native protocol v3 and v4)
 *
 * SYNOPSIS
 *	cqld --listen 127.0.0.1:PORT [--load FILE.cql]... [--port-file PATH]
 *	     [--max-protocol 3|4] [--control 127.0.0.1:PORT]
 *	     [--control-port-file PATH] [--delay-ms N] [--verbose]
 *	     [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
 *	     [--auth password:USER:PASS | --auth sigv4:KEYID:SECRET[:REGION]]
 *	     [--dc NAME] [--schema-mcs]
 *	     [--peers HOST:PORT[@DC],...] [--release-version VERSION]
 *	     [--page-budget BYTES] [--keyspaces REGION
 *	      [--endpoint-addresses N] [--keyspaces-vpce]]
 *	     [--rate-limit N]
 *
 * DESCRIPTION
 *	Stands in for Cassandra in tests: real drivers connect, prepare,
 *	execute and read rows from it. Data lives in memory (store.c), CQL
 *	is parsed by cql_lang.c and run by exec.c. The network side is
 *	this file (options, listeners, the libevent loop), cqld_conn.c (a
 *	client connection: framing, STARTUP, authentication, dispatch),
 *	cqld_request.c (QUERY, PREPARE, EXECUTE, BATCH, the prepared
 *	statement cache) and cqld_control.c (the control port through which
 *	tests inject delays and failures; its commands are listed there).
 *
 *	Requests on one connection are answered independently, each with its
 *	own stream id, so pipelining works. With a delay set, every response
 *	is held back by a timer, never by sleeping.
 *
 *	With --tls-cert and --tls-key the listening socket speaks TLS (1.2
 *	or later; OpenSSL through libevent's bufferevent_openssl, server
 *	side); the files are PEM, the certificate file may hold the chain.
 *	--tls-client-ca also requires a client certificate signed by a CA
 *	of that file. A file that cannot be loaded stops cqld at startup.
 *
 *	With --auth MODE:ARG, STARTUP is answered AUTHENTICATE and the
 *	connection serves nothing but OPTIONS and AUTH_RESPONSE until the
 *	exchange succeeds (auth.h has the modes; password:USER:PASS is
 *	Cassandra's PasswordAuthenticator). Other requests meanwhile get
 *	Cassandra's Protocol error "Unexpected message QUERY, expecting
 *	SASL_RESPONSE"; wrong credentials get Bad credentials (0x0100) and
 *	the client may try again on the same connection.
 *
 *	--peers and --dc emulate a cluster: several cqld processes, each
 *	listing the others, loaded from the same files (writes are not
 *	replicated). system.local reports --dc (default datacenter1) and
 *	rack1; system.peers and system.peers_v2 list each peer with its data
 *	center (@DC, default --dc), rack1, and the host_id and token that
 *	peer reports for itself (both derive from address and port). Only
 *	system.peers_v2 (Cassandra 4) has the native_port, and only it can
 *	hold several peers on one address, as in tests where every node is
 *	on 127.0.0.1: drivers must read peers_v2 to find the others. The
 *	Python driver tries peers_v2 first whatever the version; gocql only
 *	when release_version (--release-version, default 3.11.16) is 4.0 or
 *	later. Every peer reports this node's schema version.
 *
 *	--schema-mcs adds Amazon Keyspaces' system_schema_mcs.tables, each
 *	user table with a status (exec_system.c, control "mcs-status").
 *
 *	Frames of versions other than 3 and 4 (or above --max-protocol) get
 *	Cassandra's "Invalid or unsupported protocol version (N); supported
 *	versions are (3/v3, 4/v4)" Protocol error, in a version the client
 *	can read, and the connection is closed: drivers parse it and retry
 *	with a lower version.
 *
 *	--page-budget cuts result pages after BYTES of cell data, as the
 *	control command "paging" does. --keyspaces REGION behaves as the
 *	Amazon Keyspaces endpoint of REGION (cqld_keyspaces.c).
 *	--rate-limit N refuses the QUERY, EXECUTE and BATCH requests of a
 *	connection past N per second, as Keyspaces refuses those past 3000
 *	(cqld_throttle.c has the errors and the control commands).
 *
 * CONTROL SOCKET
 *	With --control, one command per line, one reply line ("ok ..." or
 *	"error ..."): see cqld_control.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "cqld.h"
#include "exec.h"

#define CQLD_MAX_LOAD		(64L * 1024 * 1024)	/* --load file, bytes */
#define CQLD_MAX_PEERS		64	/* --peers entries */
#define CQLD_VERSION_MAX	32	/* --release-version, bytes */

struct cqld_server srv;		/* the one server this process is */

/* logmsg - a line on stderr when --verbose */
void logmsg(const char *fmt, ...)
{
	va_list ap;

	if (!srv.verbose)
		return;
	va_start(ap, fmt);
	fputs("cqld: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* parse_long - a whole decimal number within [lo, hi] */
int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* ---- startup ----------------------------------------------------- */

/* usage - print usage and exit 2 */
static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fprintf(stderr,
		"usage: cqld --listen ADDR:PORT [--load FILE.cql]... "
		"[--port-file PATH]\n"
		"            [--max-protocol 3|4] [--control ADDR:PORT] "
		"[--control-port-file PATH]\n"
		"            [--delay-ms N] [--verbose]\n"
		"            [--tls-cert FILE --tls-key FILE "
		"[--tls-client-ca FILE]]\n"
		"            [--auth password:USER:PASS|sigv4:ID:SECRET[:REGION]]\n"
		"            [--dc NAME] "
		"[--peers HOST:PORT[@DC],...]\n"
		"            [--release-version VERSION] [--page-budget BYTES]\n"
		"            [--keyspaces REGION [--endpoint-addresses N] "
		"[--keyspaces-vpce]]\n"
		"            [--rate-limit N] [--schema-mcs]\n");
	exit(2);
}

/* tls_fail - report a TLS setup error with OpenSSL's reason; exit 2 */
static void tls_fail(const char *what, const char *path)
	__attribute__((noreturn));

static void tls_fail(const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char msg[256] = "";

	if (e)
		ERR_error_string_n(e, msg, sizeof(msg));
	fprintf(stderr, "cqld: cannot load TLS %s from %s%s%s\n", what, path,
		e ? ": " : "", msg);
	exit(2);
}

/*
 * tls_setup - the server context: TLS 1.2 or later, certificate chain
 * and key (PEM), and when client_ca is set a required, verified client
 * certificate. Exits 2 with the file and OpenSSL's reason on failure.
 */
static SSL_CTX *tls_setup(const char *cert, const char *key,
			  const char *client_ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		fprintf(stderr, "cqld: cannot create the TLS context\n");
		exit(2);
	}
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* a client closing without close_notify is an EOF, not an error */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		tls_fail("certificate", cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		tls_fail("private key", key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		tls_fail("private key (it does not match the certificate)",
			 key);
	if (client_ca) {
		if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1)
			tls_fail("client CA", client_ca);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
}

/* check_word - a --dc or --release-version value: [A-Za-z0-9._-], short */
static int check_word(const char *s, size_t max)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			  "vwxyz0123456789._-");

	return n > 0 && n < max && s[n] == 0;
}


/*
 * parse_peers - HOST:PORT[@DC],... (numeric HOST, [v6]:PORT too) into
 * peers; dc is the default data center. Exits 2 through usage().
 */
static size_t parse_peers(const char *spec, const char *dc,
			  struct ex_peer *peers)
{
	char item[INET6_ADDRSTRLEN + 16 + EX_DC_MAX];
	struct sockaddr_storage ss;
	const char *p = spec, *end, *at;
	size_t n = 0, len;

	while (*p) {
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		if (n == CQLD_MAX_PEERS || len == 0 || len >= sizeof(item)) {
			fprintf(stderr, "cqld: bad --peers '%s' (at most %d "
				"HOST:PORT[@DC] separated by commas)\n", spec,
				CQLD_MAX_PEERS);
			usage();
		}
		memcpy(item, p, len);
		item[len] = 0;
		snprintf(peers[n].dc, sizeof(peers[n].dc), "%s", dc);
		if ((at = strchr(item, '@')) != NULL) {
			if (!check_word(at + 1, EX_DC_MAX)) {
				fprintf(stderr, "cqld: bad data center in "
					"--peers '%s'\n", item);
				usage();
			}
			snprintf(peers[n].dc, sizeof(peers[n].dc), "%s",
				 at + 1);
			item[at - item] = 0;
		}
		(void)parse_addr(item, &ss);
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			memcpy(peers[n].addr, &a->sin6_addr, 16);
			peers[n].addrlen = 16;
			peers[n].port = ntohs(a->sin6_port);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			memcpy(peers[n].addr, &a->sin_addr, 4);
			peers[n].addrlen = 4;
			peers[n].port = ntohs(a->sin_port);
		}
		if (peers[n].port == 0) {
			fprintf(stderr, "cqld: --peers '%s': port 0\n", item);
			usage();
		}
		n++;
		p = *end ? end + 1 : end;
	}
	return n;
}

/* load_file - run the statements of a CQL file; exit 2 on error */
static void load_file(const char *path)
{
	struct cl_cursor cur = {0};
	struct cl_stmt *st;
	struct cl_error perr;
	struct cql_error err;
	char keyspace[CL_NAME_MAX] = "";
	struct buf text, out;
	char chunk[65536];
	FILE *fp;
	size_t n;
	int rc;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "cqld: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	buf_init(&text);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		buf_append(&text, chunk, n);
		if (text.len > (size_t)CQLD_MAX_LOAD || text.oom) {
			fprintf(stderr, "cqld: %s: file too large\n", path);
			exit(2);
		}
	}
	if (ferror(fp)) {
		fprintf(stderr, "cqld: %s: read error\n", path);
		exit(2);
	}
	fclose(fp);
	if ((st = malloc(sizeof(*st))) == NULL) {
		fprintf(stderr, "cqld: out of memory\n");
		exit(2);
	}
	buf_init(&out);
	for (;;) {
		rc = cl_parse_next(text.len ? (const char *)text.data : "",
				   text.len, &cur, st, &perr);
		if (rc == 0)
			break;
		if (rc < 0) {
			fprintf(stderr, "cqld: %s:%d: %s\n", path, perr.line,
				perr.msg);
			goto fail;
		}
		buf_reset(&out);
		if (ex_execute(&srv.store, keyspace, st, NULL, &out, &err) < 0) {
			fprintf(stderr, "cqld: %s:%d: %s\n", path, st->line,
				err.message);
			cl_stmt_free(st);
			goto fail;
		}
		cl_stmt_free(st);
	}
	free(st);
	buf_free(&out);
	buf_free(&text);
	return;
fail:
	free(st);
	buf_free(&out);
	buf_free(&text);
	st_free(&srv.store);
	exit(2);
}

/* write_port_file - write "PORT\n" atomically (temp file + rename) */
static void write_port_file(const char *path, int port)
{
	char tmp[PATH_MAX];
	FILE *fp;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
		     (long)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "cqld: %s: path too long\n", path);
		exit(2);
	}
	if ((fp = fopen(tmp, "w")) == NULL ||
	    fprintf(fp, "%d\n", port) < 0 || fclose(fp) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "cqld: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		exit(2);
	}
}

/* bound_port - the port a listener got */
int bound_port(struct evconnlistener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss,
			&len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * parse_addr - ADDR:PORT or [ADDR6]:PORT (numeric, port 0 allowed) into
 * ss; exits 2 through usage() when malformed. Returns the address length.
 */
int parse_addr(const char *spec, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(spec, ':');
	size_t hlen;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || parse_long(colon + 1, 0, 65535, &port) < 0)
		goto bad;
	hlen = (size_t)(colon - spec);
	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, spec, hlen);
	host[hlen] = 0;
	if (inet_pton(AF_INET, host,
		      &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		return sizeof(struct sockaddr_in);
	}
	if (inet_pton(AF_INET6, host,
		      &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		return sizeof(struct sockaddr_in6);
	}
bad:
	fprintf(stderr, "cqld: bad address '%s' (want ADDR:PORT)\n", spec);
	usage();
	return 0;
}

/* tls_bev - a server-side TLS bufferevent for fd, or NULL */
static struct bufferevent *tls_bev(evutil_socket_t fd)
{
	struct bufferevent *bev;
	SSL *ssl = SSL_new(srv.tls);

	/* on failure libevent frees ssl itself (CLOSE_ON_FREE) */
	bev = ssl == NULL ? NULL :
		bufferevent_openssl_socket_new(srv.base, fd, ssl,
					       BUFFEREVENT_SSL_ACCEPTING,
					       BEV_OPT_CLOSE_ON_FREE);
	/* clients may close without close_notify */
	if (bev)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* on_accept - a new connection on a listener: arg says whose it is */
static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	const struct listener *who = arg;
	struct bufferevent *bev;
	void *state;

	(void)l;
	(void)sa;
	(void)salen;
	if (who->refuse && *who->refuse) {
		logmsg("refusing a connection");
		evutil_closesocket(fd);
		return;
	}
	bev = who->tls && srv.tls ? tls_bev(fd) :
		bufferevent_socket_new(srv.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	if ((state = who->accept(bev)) == NULL) {
		bufferevent_free(bev);		/* closes fd */
		return;
	}
	bufferevent_setcb(bev, who->read, who->write, who->event, state);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* listener_bind - a listener for who on ss (len bytes), or NULL (errno) */
struct evconnlistener *listener_bind(const struct listener *who,
				     struct sockaddr_storage *ss, int len)
{
	/* libevent hands arg back as non-const; on_accept only reads it */
	return evconnlistener_new_bind(srv.base, on_accept, (void *)who,
				       LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
				       -1, (struct sockaddr *)ss, len);
}

/*
 * listen_on - bind a listener on ADDR:PORT for who (its address into ss,
 * the port it got into *port); exit 2 on failure
 */
static struct evconnlistener *listen_on(const char *spec,
					const struct listener *who,
					struct sockaddr_storage *ss, int *port)
{
	struct evconnlistener *l;
	int len = parse_addr(spec, ss);

	if ((l = listener_bind(who, ss, len)) == NULL) {
		fprintf(stderr, "cqld: cannot listen on %s: %s\n", spec,
			strerror(errno));
		exit(2);
	}
	if ((*port = bound_port(l)) < 0) {
		fprintf(stderr, "cqld: getsockname: %s\n", strerror(errno));
		exit(2);
	}
	return l;
}

/* on_signal - SIGTERM / SIGINT: leave the loop */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	event_base_loopbreak(srv.base);
}

/* What the command line asks for */
struct cqld_opts {
	const char *listen_spec, *control_spec;
	const char *port_file, *control_port_file;
	const char **loads;		/* --load files, in order */
	size_t nloads;
	const char *tls_cert, *tls_key, *tls_client_ca;
	const char *auth_spec, *peers_spec;
	const char *dc, *release;
	struct ks_opts ks;		/* --keyspaces and its options */
	int schema_mcs;			/* --schema-mcs */
};

/* OPT_STRING - getopt_long's value for an option that only sets a string */
#define OPT_STRING	's'

/* parse_options - the command line into o and srv; exit 2 when wrong */
static void parse_options(int argc, char **argv, struct cqld_opts *o)
{
	/* the options that only set a string come first, as in strings[] */
	static const struct option opts[] = {
		{"listen", required_argument, NULL, OPT_STRING},
		{"port-file", required_argument, NULL, OPT_STRING},
		{"control", required_argument, NULL, OPT_STRING},
		{"control-port-file", required_argument, NULL, OPT_STRING},
		{"tls-cert", required_argument, NULL, OPT_STRING},
		{"tls-key", required_argument, NULL, OPT_STRING},
		{"tls-client-ca", required_argument, NULL, OPT_STRING},
		{"auth", required_argument, NULL, OPT_STRING},
		{"peers", required_argument, NULL, OPT_STRING},
		{"keyspaces", required_argument, NULL, OPT_STRING},
		{"endpoint-addresses", required_argument, NULL, 'n'},
		{"keyspaces-vpce", no_argument, NULL, 'V'},
		{"page-budget", required_argument, NULL, 'b'},
		{"load", required_argument, NULL, 'f'},
		{"max-protocol", required_argument, NULL, 'm'},
		{"delay-ms", required_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, 'v'},
		{"dc", required_argument, NULL, 'D'},
		{"release-version", required_argument, NULL, 'R'},
		{"rate-limit", required_argument, NULL, 'r'},
		{"schema-mcs", no_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char **const strings[] = {
		&o->listen_spec, &o->port_file, &o->control_spec,
		&o->control_port_file, &o->tls_cert, &o->tls_key,
		&o->tls_client_ca, &o->auth_spec, &o->peers_spec,
		&o->ks.region,
	};
	long v;
	int ch, idx;

	memset(o, 0, sizeof(*o));
	o->listen_spec = "127.0.0.1:9042";
	o->dc = EX_DEFAULT_DC;
	o->release = EX_DEFAULT_RELEASE;
	if ((o->loads = calloc((size_t)argc + 1, sizeof(*o->loads))) == NULL)
		exit(2);
	while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (ch) {
		case OPT_STRING:
			*strings[idx] = optarg;
			break;
		case 'f':
			o->loads[o->nloads++] = optarg;
			break;
		case 'm':
			if (parse_long(optarg, CQLD_MIN_PROTOCOL,
				       CQLD_MAX_PROTOCOL, &v) < 0)
				usage();
			srv.max_protocol = (int)v;
			break;
		case 'd':
			if (parse_long(optarg, 0, CQLD_MAX_DELAY_MS, &v) < 0)
				usage();
			srv.delay_ms = (int)v;
			break;
		case 'r':
			if (parse_long(optarg, 0, CQLD_MAX_RATE, &v) < 0)
				usage();
			srv.rate_limit = v;
			break;
		case 'v':
			srv.verbose = 1;
			break;
		case 'n':
			if (parse_long(optarg, 1, KS_MAX_ADDRESSES,
				       &o->ks.naddr) < 0)
				usage();
			break;
		case 'V':
			o->ks.vpce = 1;
			break;
		case 'b':
			if (parse_long(optarg, 0, LONG_MAX, &v) < 0)
				usage();
			srv.page_budget = (size_t)v;
			o->ks.budget_set = 1;
			break;
		case 'M':
			o->schema_mcs = 1;
			break;
		case 'D':
			if (!check_word(optarg, EX_DC_MAX)) {
				fprintf(stderr, "cqld: bad --dc '%s'\n", optarg);
				usage();
			}
			o->dc = optarg;
			break;
		case 'R':
			if (!check_word(optarg, CQLD_VERSION_MAX)) {
				fprintf(stderr, "cqld: bad --release-version "
					"'%s'\n", optarg);
				usage();
			}
			o->release = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (o->control_port_file && !o->control_spec))
		usage();
	if (!o->tls_cert != !o->tls_key || (o->tls_client_ca && !o->tls_cert)) {
		fprintf(stderr, "cqld: --tls-cert and --tls-key go together "
			"(--tls-client-ca needs both)\n");
		usage();
	}
	if (o->ks.region) {
		o->ks.auth_spec = o->auth_spec;
		o->ks.dc = o->dc;
		o->ks.release = o->release;
		ks_configure(&o->ks, o->tls_cert != NULL, o->peers_spec != NULL);
		o->auth_spec = o->ks.auth_spec;
		o->dc = o->ks.dc;
		o->release = o->ks.release;
	} else if (o->ks.naddr || o->ks.vpce) {
		fprintf(stderr, "cqld: --endpoint-addresses and "
			"--keyspaces-vpce go with --keyspaces\n");
		usage();
	}
}

/*
 * node_setup - what system.local and system.peers* report: this node at
 * the address it listens on (loopback for a wildcard), its port, data
 * center, version, and the --peers
 */
static void node_setup(struct ex_node *node, const struct cqld_opts *o,
		       const struct sockaddr_storage *ss, int port,
		       struct ex_peer *peers)
{
	memset(node, 0, sizeof(*node));
	node->max_protocol = srv.max_protocol;
	node->port = port;
	node->dc = o->dc;
	node->rack = o->ks.rack;
	node->no_peers_v2 = o->ks.region != NULL;
	node->release_version = o->release;
	node->schema_mcs = o->schema_mcs;
	node->peers = peers;
	if (o->peers_spec)
		node->npeers = parse_peers(o->peers_spec, o->dc, peers);
	if (ss->ss_family == AF_INET6) {
		struct in6_addr a = ((const struct sockaddr_in6 *)ss)->sin6_addr;

		node->addrlen = 16;
		if (IN6_IS_ADDR_UNSPECIFIED(&a))
			a = in6addr_loopback;
		memcpy(node->addr, &a, 16);
	} else {
		struct in_addr a = ((const struct sockaddr_in *)ss)->sin_addr;

		node->addrlen = 4;
		if (a.s_addr == htonl(INADDR_ANY))
			a.s_addr = htonl(INADDR_LOOPBACK);
		memcpy(node->addr, &a, 4);
	}
}

/* announce - the "listening on" line tests and operators read */
static void announce(const struct sockaddr_storage *ss, int port,
		     const char *dc, size_t npeers)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr,
			  host, sizeof(host));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  host, sizeof(host));
	fprintf(stderr, "cqld: listening on %s:%d%s%s (%s, %zu peers)\n",
		host, port, srv.tls ? " with TLS" : "",
		srv.auth ? " with authentication" : "", dc, npeers);
}

/* teardown - free everything, so leak checkers stay quiet */
static void teardown(void)
{
	while (srv.conns)
		conn_free(srv.conns);
	while (srv.controls)
		control_free(srv.controls);
	prepared_clear();
	free(srv.counts);
	st_free(&srv.store);
	auth_close(srv.auth);
	if (srv.tls)
		SSL_CTX_free(srv.tls);
}

/* main - options, store, listeners, loop */
int main(int argc, char **argv)
{
	static struct ex_peer peers[CQLD_MAX_PEERS];
	static struct evconnlistener *lst[KS_MAX_ADDRESSES];
	struct cqld_opts o;
	char err[AUTH_MSG_MAX];
	struct evconnlistener *ctl = NULL;
	struct event *sigterm, *sigint;
	struct sockaddr_storage ss, css;
	struct ex_node node;
	size_t i, nlst = 1;
	int port, cport;

	srv.max_protocol = CQLD_MAX_PROTOCOL;
	srv.fail_code = -1;
	parse_options(argc, argv, &o);
	if (o.tls_cert)
		srv.tls = tls_setup(o.tls_cert, o.tls_key, o.tls_client_ca);
	if (o.auth_spec && (srv.auth = auth_open(o.auth_spec, err,
						 sizeof(err))) == NULL) {
		fprintf(stderr, "cqld: --auth: %s\n", err);
		free(o.loads);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((srv.base = event_base_new()) == NULL) {
		fprintf(stderr, "cqld: event_base_new failed\n");
		return 2;
	}

	/* listen first: system.local reports the port it got */
	if ((srv.keyspaces = o.ks.region) != NULL)
		nlst = ks_listen(&o.ks, o.listen_spec, lst, &ss, &port, peers);
	else
		lst[0] = listen_on(o.listen_spec, &conn_listener, &ss, &port);
	node_setup(&node, &o, &ss, port, peers);
	if (srv.keyspaces)
		node.npeers = nlst;	/* system.peers: all but the one reached */
	st_init(&srv.store);
	if (ex_init(&srv.store, &node) < 0) {
		fprintf(stderr, "cqld: cannot set up system tables\n");
		return 2;
	}
	for (i = 0; i < o.nloads; i++)
		load_file(o.loads[i]);
	free(o.loads);

	if (o.control_spec) {
		ctl = listen_on(o.control_spec, &control_listener, &css, &cport);
		if (o.control_port_file)
			write_port_file(o.control_port_file, cport);
		fprintf(stderr, "cqld: control on port %d\n", cport);
	}
	if (o.port_file)
		write_port_file(o.port_file, port);
	/* a Keyspaces address lists the others */
	announce(&ss, port, o.dc, srv.keyspaces ? nlst - 1 : node.npeers);

	sigterm = evsignal_new(srv.base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(srv.base, SIGINT, on_signal, NULL);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		fprintf(stderr, "cqld: cannot catch signals\n");
		return 2;
	}
	event_base_dispatch(srv.base);

	/* orderly teardown, so leak checkers stay quiet */
	for (i = 0; i < nlst; i++)
		evconnlistener_free(lst[i]);
	if (ctl)
		evconnlistener_free(ctl);
	event_free(sigterm);
	event_free(sigint);
	teardown();
	event_base_free(srv.base);
	return 0;
}
