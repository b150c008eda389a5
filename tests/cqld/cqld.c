/*
 * cqld - in-memory CQL test server (native protocol v3 and v4)
 *
 * SYNOPSIS
 *	cqld --listen 127.0.0.1:PORT [--load FILE.cql]... [--port-file PATH]
 *	     [--max-protocol 3|4] [--control 127.0.0.1:PORT]
 *	     [--control-port-file PATH] [--delay-ms N] [--verbose]
 *	     [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
 *	     [--auth password:USER:PASS | --auth sigv4:KEYID:SECRET[:REGION]]
 *	     [--dc NAME]
 *	     [--peers HOST:PORT[@DC],...] [--release-version VERSION]
 *
 * DESCRIPTION
 *	Stands in for Cassandra in tests: real drivers connect, prepare,
 *	execute and read rows from it. Data lives in memory (store.c), CQL
 *	is parsed by cql_lang.c and run by exec.c; this file is the network
 *	side: options, the libevent loop, per-connection framing, the
 *	prepared statement cache, and the control socket through which tests
 *	inject delays and failures (see control_command()).
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
 *	Frames of versions other than 3 and 4 (or above --max-protocol) get
 *	Cassandra's "Invalid or unsupported protocol version (N); supported
 *	versions are (3/v3, 4/v4)" Protocol error, in a version the client
 *	can read, and the connection is closed: drivers parse it and retry
 *	with a lower version.
 *
 * CONTROL SOCKET
 *	One command per line, one reply line, "ok ..." or "error ...":
 *
 *	delay MS	hold every response back MS milliseconds (0: off)
 *	counts		"ok ks.t1=N ks.t2=M ..." sorted by name: QUERY and
 *			EXECUTE requests (and BATCH statements) per user
 *			table since the last reset, failed ones included;
 *			system keyspaces are not counted
 *	reset-counts	zero the counts
 *	fail CODE [N]	answer the next N (default: all, until "fail off")
 *			QUERY/EXECUTE requests on user tables with error CODE:
 *			server_error overloaded unavailable read_timeout
 *			write_timeout read_failure write_failure
 *			is_bootstrapping truncate_error unprepared invalid
 *			syntax unauthorized protocol; Unavailable and the
 *			timeouts/failures carry the request's consistency,
 *			required/blockfor 1, alive/received 0, data_present 0,
 *			write type SIMPLE; Unprepared carries the prepared id
 *	fail off	stop injecting failures
 *	paging BYTES [empty] | paging off
 *			cut every page of a QUERY/EXECUTE result after the
 *			row that brings its cell data to BYTES (as Keyspaces
 *			cuts at 1 MB read), besides the client's page size;
 *			with "empty", every page with rows is preceded by a
 *			page of zero rows that carries a paging state, as
 *			Keyspaces may return ("Paginating results", Amazon
 *			Keyspaces developer guide). "paging 0 empty": only
 *			the empty pages
 *	stall on|off	read requests and drop them, unanswered
 *	hold on|off	keep back the responses to QUERY/EXECUTE on user
 *			tables (the statement runs and is counted at once,
 *			its answer waits) until "hold off" sends them all
 *			("ok hold off released N"); other frames (PREPARE,
 *			system tables) are answered as usual
 *	held		"ok held N": responses kept back now
 *	drop		close all client connections ("ok dropped N")
 *	refuse on|off	close new client connections at once
 *	exec CQL	run a statement ("ok", "ok N rows" for SELECT, or
 *			"error message"); USE sticks to this control connection
 *	ping		"ok pong"
 *	auth ARGS	a command for the --auth backend (sigv4: "key
 *			KEYID:SECRET[:REGION]" changes the accepted key,
 *			"stats" counts accepted and rejected answers)
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
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "buf.h"
#include "cql/cql_proto.h"
#include "cql_lang.h"
#include "exec.h"
#include "store.h"

#define CQLD_MAX_BODY		(16u * 1024 * 1024)	/* request body, bytes */
#define CQLD_MAX_PREPARED	4096	/* cached prepared statements */
#define CQLD_ID_LEN		16	/* prepared statement id, bytes */
#define CQLD_MAX_LOAD		(64L * 1024 * 1024)	/* --load file, bytes */
#define CQLD_CONTROL_LINE_MAX	(1024 * 1024)	/* control command, bytes */
#define CQLD_MAX_DELAY_MS	600000	/* 10 minutes */
#define CQLD_MAX_COUNTED	4096	/* distinct tables in counts */
#define CQLD_MIN_PROTOCOL	3
#define CQLD_MAX_PROTOCOL	4
#define CQLD_CQL_VERSION	"3.4.4"
#define CQLD_MAX_PEERS		64	/* --peers entries */
#define CQLD_VERSION_MAX	32	/* --release-version, bytes */

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

struct prepared {
	uint8_t id[CQLD_ID_LEN];
	char keyspace[CL_NAME_MAX];
	char *query;
	size_t len;
	struct prepared *next;
};

struct counted {
	char name[2 * CL_NAME_MAX];
	unsigned long n;
};

static struct {
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
	struct conn *conns;
	struct ccon *controls;
	struct prepared *prepared;	/* most recent first */
	size_t nprepared;
	struct counted *counts;
	size_t ncounts;
	SSL_CTX *tls;			/* NULL: plain TCP */
	struct auth *auth;		/* NULL: no authentication */
} srv;

static void conn_free(struct conn *c);

/* logmsg - a line on stderr when --verbose */
static void logmsg(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void logmsg(const char *fmt, ...)
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

/* ---- prepared statements ----------------------------------------- */

/* prepared_id - 16-byte id of a query in a keyspace (two FNV-1a 64) */
static void prepared_id(const char *ks, const char *q, size_t len,
			uint8_t id[CQLD_ID_LEN])
{
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	size_t i, k, n = strlen(ks);

	for (k = 0; k < 2; k++) {
		for (i = 0; i < n; i++)
			h[k] = (h[k] ^ (uint8_t)ks[i]) * 0x100000001b3ULL;
		h[k] = (h[k] ^ 0xff) * 0x100000001b3ULL;
		for (i = 0; i < len; i++)
			h[k] = (h[k] ^ (uint8_t)q[i] ^ k) * 0x100000001b3ULL;
	}
	for (i = 0; i < 8; i++) {
		id[i] = (uint8_t)(h[0] >> (56 - 8 * i));
		id[8 + i] = (uint8_t)(h[1] >> (56 - 8 * i));
	}
}

/* prepared_find - cached statement by id */
static struct prepared *prepared_find(const uint8_t *id, size_t len)
{
	struct prepared *p;

	if (len != CQLD_ID_LEN)
		return NULL;
	for (p = srv.prepared; p; p = p->next)
		if (memcmp(p->id, id, CQLD_ID_LEN) == 0)
			return p;
	return NULL;
}

/* prepared_add - cache a statement, evicting the oldest when full */
static void prepared_add(const uint8_t *id, const char *ks, const char *q,
			 size_t len)
{
	struct prepared *p, **pp;

	if (prepared_find(id, CQLD_ID_LEN))
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->query = malloc(len + 1)) == NULL) {
		free(p);
		return;
	}
	memcpy(p->id, id, CQLD_ID_LEN);
	snprintf(p->keyspace, sizeof(p->keyspace), "%s", ks);
	memcpy(p->query, q, len);
	p->query[len] = 0;
	p->len = len;
	p->next = srv.prepared;
	srv.prepared = p;
	if (++srv.nprepared > CQLD_MAX_PREPARED) {
		for (pp = &srv.prepared; (*pp)->next; pp = &(*pp)->next)
			;
		free((*pp)->query);
		free(*pp);
		*pp = NULL;
		srv.nprepared--;
	}
}

/* prepared_clear - forget all prepared statements */
static void prepared_clear(void)
{
	struct prepared *p, *next;

	for (p = srv.prepared; p; p = next) {
		next = p->next;
		free(p->query);
		free(p);
	}
	srv.prepared = NULL;
	srv.nprepared = 0;
}

/* ---- counts and failure injection -------------------------------- */

/* count_request - one more request on ks.table (user tables only) */
static void count_request(const char *ks, const char *table)
{
	char name[2 * CL_NAME_MAX];
	struct counted *v;
	size_t i;

	if (ex_is_system_keyspace(ks) || table[0] == 0)
		return;
	snprintf(name, sizeof(name), "%s.%s", ks, table);
	for (i = 0; i < srv.ncounts; i++)
		if (strcmp(srv.counts[i].name, name) == 0) {
			srv.counts[i].n++;
			return;
		}
	if (srv.ncounts >= CQLD_MAX_COUNTED)
		return;
	v = realloc(srv.counts, (srv.ncounts + 1) * sizeof(*v));
	if (v == NULL)
		return;
	srv.counts = v;
	snprintf(v[srv.ncounts].name, sizeof(v[0].name), "%s", name);
	v[srv.ncounts++].n = 1;
}

static const struct {
	const char *name;
	int code;
	const char *message;
} fail_codes[] = {
	{"server_error", CQL_ERR_SERVER, "cqld: injected server error"},
	{"overloaded", CQL_ERR_OVERLOADED, "Server is in overloaded state. "
	 "Cannot accept more requests at this point"},
	{"unavailable", CQL_ERR_UNAVAILABLE, "Cannot achieve consistency "
	 "level %s"},
	{"read_timeout", CQL_ERR_READ_TIMEOUT, "Operation timed out - "
	 "received only 0 responses."},
	{"write_timeout", CQL_ERR_WRITE_TIMEOUT, "Operation timed out - "
	 "received only 0 responses."},
	{"read_failure", CQL_ERR_READ_FAILURE, "Operation failed - received "
	 "0 responses and 1 failures"},
	{"write_failure", CQL_ERR_WRITE_FAILURE, "Operation failed - received "
	 "0 responses and 1 failures"},
	{"is_bootstrapping", CQL_ERR_IS_BOOTSTRAPPING, "Cannot read from a "
	 "bootstrapping node"},
	{"truncate_error", CQL_ERR_TRUNCATE, "cqld: injected truncate error"},
	{"unprepared", CQL_ERR_UNPREPARED, "Prepared query with ID %s not "
	 "found (either the query was not prepared on this host (maybe the "
	 "host has been restarted?) or you have prepared too many queries "
	 "and it has been evicted from the internal cache)"},
	{"invalid", CQL_ERR_INVALID, "cqld: injected invalid request"},
	{"syntax", CQL_ERR_SYNTAX, "cqld: injected syntax error"},
	{"unauthorized", CQL_ERR_UNAUTHORIZED, "cqld: injected unauthorized"},
	{"protocol", CQL_ERR_PROTOCOL, "cqld: injected protocol error"},
};

#define NFAIL_CODES	(sizeof(fail_codes) / sizeof(fail_codes[0]))

/*
 * fail_inject - when failure injection is on, fill err for a request on
 * a user table (id: the prepared id, or NULL for QUERY) and return 1.
 */
static int fail_inject(const char *ks, const char *table, uint16_t cons,
		       const uint8_t *id, struct cql_error *err)
{
	char hex[2 * CQLD_ID_LEN + 1];
	size_t i;

	if (srv.fail_code < 0 || ex_is_system_keyspace(ks) || table[0] == 0)
		return 0;
	if (srv.fail_left == 0)
		return 0;
	if (srv.fail_left > 0 && --srv.fail_left == 0)
		logmsg("failure injection finished");
	memset(err, 0, sizeof(*err));
	err->code = srv.fail_code;
	for (i = 0; i < NFAIL_CODES; i++)
		if (fail_codes[i].code == srv.fail_code)
			break;
	for (size_t k = 0; k < CQLD_ID_LEN; k++)
		snprintf(hex + 2 * k, 3, "%02x", id ? id[k] : 0);
	if (i == NFAIL_CODES)
		snprintf(err->message, sizeof(err->message),
			 "cqld: injected error 0x%04x", srv.fail_code);
	else if (srv.fail_code == CQL_ERR_UNAVAILABLE)
		snprintf(err->message, sizeof(err->message),
			 fail_codes[i].message, cql_consistency_name(cons));
	else if (srv.fail_code == CQL_ERR_UNPREPARED)
		snprintf(err->message, sizeof(err->message),
			 fail_codes[i].message, hex);
	else
		snprintf(err->message, sizeof(err->message), "%s",
			 fail_codes[i].message);
	err->consistency = cons;
	err->required = 1;
	err->alive = 0;
	err->failures = 1;
	err->data_present = 0;
	snprintf(err->write_type, sizeof(err->write_type), "SIMPLE");
	snprintf(err->keyspace, sizeof(err->keyspace), "%.63s", ks);
	snprintf(err->table, sizeof(err->table), "%.63s", table);
	if (id) {
		memcpy(err->unprepared_id, id, CQLD_ID_LEN);
		err->unprepared_id_len = CQLD_ID_LEN;
	}
	return 1;
}

/* ---- output ------------------------------------------------------- */

/* pending_free - release a delayed response */
static void pending_free(struct pending *p)
{
	struct conn *c = p->c;

	if (p->prev)
		p->prev->next = p->next;
	else
		c->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	event_free(p->ev);
	buf_free(&p->frame);
	free(p);
}

/* pending_fire - the delay of a response is over: send it */
static void pending_fire(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	(void)fd;
	(void)what;
	if (!p->c->closing)
		bufferevent_write(p->c->bev, p->frame.data, p->frame.len);
	pending_free(p);
}

/* send_frame - send a complete frame now, after the delay, or when held */
static void send_frame(struct conn *c, struct buf *frame, int now)
{
	struct pending *p;
	struct timeval tv;
	int hold = srv.hold && srv.holdable;

	srv.holdable = 0;
	if (frame->oom)
		return;
	if (!hold && (now || srv.delay_ms <= 0)) {
		bufferevent_write(c->bev, frame->data, frame->len);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return;
	p->c = c;
	p->frame = *frame;	/* take over the storage */
	buf_init(frame);
	if ((p->ev = evtimer_new(srv.base, pending_fire, p)) == NULL) {
		buf_free(&p->frame);
		free(p);
		return;
	}
	p->next = c->pending;
	if (c->pending)
		c->pending->prev = p;
	c->pending = p;
	if (hold) {
		p->held = 1;
		return;
	}
	tv.tv_sec = srv.delay_ms / 1000;
	tv.tv_usec = (srv.delay_ms % 1000) * 1000;
	evtimer_add(p->ev, &tv);
}

/* error_frame - an ERROR frame for a request */
static void error_frame(struct buf *out, uint8_t version, int16_t stream,
			const struct cql_error *e)
{
	size_t off = cql_frame_begin(out, version, 1, 0, stream, CQL_OP_ERROR);

	cql_error_encode(out, e);
	cql_frame_end(out, off);
}

/* send_error_v - answer a request with an error, now or after the delay */
static void send_error_v(struct conn *c, int16_t stream, int now, int code,
			 const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void send_error_v(struct conn *c, int16_t stream, int now, int code,
			 const char *fmt, va_list ap)
{
	struct cql_error e;
	struct buf out;

	memset(&e, 0, sizeof(e));
	e.code = code;
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	buf_init(&out);
	error_frame(&out, c->version, stream, &e);
	send_frame(c, &out, now);
	buf_free(&out);
}

/* send_error - answer a request with an error */
static void send_error(struct conn *c, int16_t stream, int code,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void send_error(struct conn *c, int16_t stream, int code,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_error_v(c, stream, 0, code, fmt, ap);
	va_end(ap);
}

static void conn_close_later(struct conn *c);

/* send_error_close - send an error at once, then close the connection */
static void send_error_close(struct conn *c, int16_t stream, int code,
			     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void send_error_close(struct conn *c, int16_t stream, int code,
			     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_error_v(c, stream, 1, code, fmt, ap);
	va_end(ap);
	conn_close_later(c);
}

/* conn_close_later - stop reading; close once queued output is sent */
static void conn_close_later(struct conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

/*
 * protocol_refusal - answer a frame of an unsupported version the way
 * Cassandra does (a Protocol error in a version the client can read),
 * then close. v1/v2 frames have an 8-byte header with a 1-byte stream.
 */
static void protocol_refusal(struct conn *c, uint8_t version,
			     const uint8_t *hdr)
{
	char msg[CQL_ERROR_MSG_MAX];
	struct cql_error e;
	struct buf out;
	size_t off;

	snprintf(msg, sizeof(msg), "Invalid or unsupported protocol version "
		 "(%d); supported versions are (%s)", version,
		 srv.max_protocol >= 4 ? "3/v3, 4/v4" : "3/v3");
	memset(&e, 0, sizeof(e));
	e.code = CQL_ERR_PROTOCOL;
	snprintf(e.message, sizeof(e.message), "%s", msg);
	buf_init(&out);
	if (version < CQLD_MIN_PROTOCOL) {
		/* old-style header: version, flags, stream(1), opcode, length */
		buf_append_byte(&out, (uint8_t)(version | CQL_VERSION_RESPONSE));
		buf_append_byte(&out, 0);
		buf_append_byte(&out, hdr[2]);
		buf_append_byte(&out, CQL_OP_ERROR);
		off = out.len;
		cql_wr_int(&out, 0);
		cql_error_encode(&out, &e);
		if (!out.oom) {
			uint32_t n = (uint32_t)(out.len - off - 4);

			out.data[off] = (uint8_t)(n >> 24);
			out.data[off + 1] = (uint8_t)(n >> 16);
			out.data[off + 2] = (uint8_t)(n >> 8);
			out.data[off + 3] = (uint8_t)n;
		}
	} else {
		int16_t stream = (int16_t)(uint16_t)(hdr[2] << 8 | hdr[3]);

		error_frame(&out, (uint8_t)srv.max_protocol, stream, &e);
	}
	logmsg("refusing protocol version %d", version);
	send_frame(c, &out, 1);
	buf_free(&out);
	conn_close_later(c);
}

/* ---- request handling ------------------------------------------- */

/* Decoded QUERY/EXECUTE parameters with their storage */
struct params {
	struct ex_params ex;
	struct ex_value *values;
	struct ex_name *names;
	uint8_t flags;
};

/* params_free - release decoded parameters */
static void params_free(struct params *p)
{
	free(p->values);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

/*
 * read_params - <consistency><flags>[values][page size][paging state]
 * [serial consistency][timestamp] (v3/v4). -1 with *why when malformed.
 */
static int read_params(struct cql_rd *rd, uint8_t version, struct params *p,
		       const char **why)
{
	uint16_t i, n;
	size_t len;

	memset(p, 0, sizeof(*p));
	p->ex.version = version;
	p->ex.consistency = cql_rd_short(rd);
	p->flags = cql_rd_byte(rd);
	if (p->flags & CQL_QF_VALUES) {
		n = cql_rd_short(rd);
		if (n > 0) {
			p->values = calloc(n, sizeof(*p->values));
			if (p->flags & CQL_QF_NAMES_FOR_VALUES)
				p->names = calloc(n, sizeof(*p->names));
			if (p->values == NULL ||
			    ((p->flags & CQL_QF_NAMES_FOR_VALUES) &&
			     p->names == NULL)) {
				*why = "out of memory";
				return -1;
			}
		}
		for (i = 0; i < n && !rd->err; i++) {
			if (p->flags & CQL_QF_NAMES_FOR_VALUES)
				p->names[i].p = cql_rd_string(rd,
							      &p->names[i].len);
			p->values[i].len = cql_rd_int(rd);
			if (p->values[i].len >= 0) {
				p->values[i].p = cql_rd_raw(rd, (size_t)
							    p->values[i].len);
			} else if (p->values[i].len < EX_UNSET ||
				   (p->values[i].len == EX_UNSET &&
				    version < 4)) {
				*why = "Invalid value length";
				return -1;
			}
		}
		p->ex.values = p->values;
		p->ex.names = p->names;
		p->ex.nvalues = n;
	}
	if (p->flags & CQL_QF_PAGE_SIZE)
		p->ex.page_size = cql_rd_int(rd);
	if (p->flags & CQL_QF_PAGING_STATE) {
		int32_t plen;

		p->ex.paging_state = cql_rd_bytes(rd, &plen);
		p->ex.paging_state_len = plen > 0 ? (size_t)plen : 0;
	}
	if (p->flags & CQL_QF_SERIAL_CONSISTENCY)
		(void)cql_rd_short(rd);
	if (p->flags & CQL_QF_DEFAULT_TIMESTAMP)
		(void)cql_rd_long(rd);
	p->ex.skip_metadata = (p->flags & CQL_QF_SKIP_METADATA) != 0;
	p->ex.page_budget = srv.page_budget;
	p->ex.empty_pages = srv.empty_pages;
	(void)len;
	if (rd->err) {
		*why = "Invalid query parameters: not enough bytes";
		return -1;
	}
	return 0;
}

/*
 * run_statement - parse and run one CQL text for a connection. keyspace
 * is the keyspace to resolve names in (updated by USE); id the prepared
 * id (EXECUTE) or NULL. Appends a RESULT body to out, or fills err.
 */
static int run_statement(const char *q, size_t qlen, char *keyspace,
			 const uint8_t *id, const struct ex_params *pp,
			 struct buf *out, struct cql_error *err)
{
	struct cl_stmt *st;
	struct cl_error perr;
	char ks[CL_NAME_MAX], table[CL_NAME_MAX];
	int rc;

	if ((st = malloc(sizeof(*st))) == NULL) {
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
		return -1;
	}
	if (cl_parse(q, qlen, st, &perr) < 0) {
		ex_set_error(err, perr.code, "%s", perr.msg);
		free(st);
		return -1;
	}
	srv.holdable = 0;
	if (ex_target(keyspace, st, ks, table) == 0 && table[0]) {
		count_request(ks, table);
		srv.holdable = !ex_is_system_keyspace(ks);
		if (st->kind != CL_CREATE_TABLE && st->kind != CL_DROP_TABLE &&
		    fail_inject(ks, table, pp ? pp->consistency : 0, id, err)) {
			cl_stmt_free(st);
			free(st);
			return -1;
		}
	}
	rc = ex_execute(&srv.store, keyspace, st, pp, out, err);
	cl_stmt_free(st);
	free(st);
	return rc;
}

/* held_release - count (and with release, send) the held responses */
static unsigned long held_release(int release)
{
	struct timeval now = { 0, 0 };
	struct pending *p;
	struct conn *c;
	unsigned long n = 0;

	for (c = srv.conns; c; c = c->next)
		for (p = c->pending; p; p = p->next)
			if (p->held) {
				n++;
				if (release) {
					p->held = 0;
					evtimer_add(p->ev, &now);
				}
			}
	return n;
}

/* reply - wrap a RESULT body or an error into a frame and send it */
static void reply(struct conn *c, int16_t stream, int rc, struct buf *body,
		  const struct cql_error *err)
{
	struct buf out;
	size_t off;

	buf_init(&out);
	if (rc == 0) {
		off = cql_frame_begin(&out, c->version, 1, 0, stream,
				      CQL_OP_RESULT);
		buf_append(&out, body->data, body->len);
		cql_frame_end(&out, off);
	} else {
		logmsg("error 0x%04x: %s", err->code, err->message);
		error_frame(&out, c->version, stream, err);
	}
	send_frame(c, &out, 0);
	buf_free(&out);
}

/* handle_query - QUERY <long string><params> */
static void handle_query(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	struct params p;
	struct cql_error err;
	struct buf body;
	const char *q, *why = NULL;
	size_t qlen;
	int rc;

	memset(&p, 0, sizeof(p));
	q = cql_rd_long_string(rd, &qlen);
	if (rd->err || read_params(rd, c->version, &p, &why) < 0) {
		params_free(&p);
		send_error(c, stream, CQL_ERR_PROTOCOL, "%s",
			   why ? why : "Invalid QUERY message");
		return;
	}
	logmsg("QUERY %.*s", (int)(qlen > 200 ? 200 : qlen), q);
	buf_init(&body);
	rc = run_statement(q, qlen, c->keyspace, NULL, &p.ex, &body, &err);
	reply(c, stream, rc, &body, &err);
	buf_free(&body);
	params_free(&p);
}

/* handle_prepare - PREPARE <long string> */
static void handle_prepare(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	struct cl_stmt *st;
	struct cl_error perr;
	struct cql_error err;
	struct buf body;
	uint8_t id[CQLD_ID_LEN];
	const char *q;
	size_t qlen;
	int rc = -1;

	q = cql_rd_long_string(rd, &qlen);
	if (rd->err) {
		send_error(c, stream, CQL_ERR_PROTOCOL, "Invalid PREPARE message");
		return;
	}
	logmsg("PREPARE %.*s", (int)(qlen > 200 ? 200 : qlen), q);
	buf_init(&body);
	if ((st = malloc(sizeof(*st))) == NULL) {
		ex_set_error(&err, CQL_ERR_SERVER, "out of memory");
	} else if (cl_parse(q, qlen, st, &perr) < 0) {
		ex_set_error(&err, perr.code, "%s", perr.msg);
	} else {
		prepared_id(c->keyspace, q, qlen, id);
		rc = ex_prepare(&srv.store, c->keyspace, st, id, sizeof(id),
				c->version, &body, &err);
		if (rc == 0)
			prepared_add(id, c->keyspace, q, qlen);
		cl_stmt_free(st);
	}
	free(st);
	reply(c, stream, rc, &body, &err);
	buf_free(&body);
}

/* handle_execute - EXECUTE <short bytes id><params> */
static void handle_execute(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	struct prepared *pr;
	struct params p;
	struct cql_error err;
	struct buf body;
	char ks[CL_NAME_MAX];
	const uint8_t *id;
	const char *why = NULL;
	size_t idlen;
	int rc;

	memset(&p, 0, sizeof(p));
	id = cql_rd_short_bytes(rd, &idlen);
	if (rd->err || read_params(rd, c->version, &p, &why) < 0) {
		params_free(&p);
		send_error(c, stream, CQL_ERR_PROTOCOL, "%s",
			   why ? why : "Invalid EXECUTE message");
		return;
	}
	if ((pr = prepared_find(id, idlen)) == NULL) {
		char hex[2 * 64 + 1] = "";
		size_t i;

		memset(&err, 0, sizeof(err));
		for (i = 0; i < idlen && i < 64; i++)
			snprintf(hex + 2 * i, 3, "%02x", id[i]);
		err.code = CQL_ERR_UNPREPARED;
		snprintf(err.message, sizeof(err.message), "Prepared query with "
			 "ID %s not found (either the query was not prepared "
			 "on this host (maybe the host has been restarted?) or "
			 "you have prepared too many queries and it has been "
			 "evicted from the internal cache)", hex);
		if (idlen <= sizeof(err.unprepared_id)) {
			memcpy(err.unprepared_id, id, idlen);
			err.unprepared_id_len = idlen;
		}
		reply(c, stream, -1, NULL, &err);
		params_free(&p);
		return;
	}
	logmsg("EXECUTE %.*s", (int)(pr->len > 200 ? 200 : pr->len),
	       pr->query);
	/* names resolve in the keyspace the statement was prepared in */
	snprintf(ks, sizeof(ks), "%s", pr->keyspace[0] ? pr->keyspace :
		 c->keyspace);
	buf_init(&body);
	rc = run_statement(pr->query, pr->len, ks, pr->id, &p.ex, &body, &err);
	if (rc == 0 && body.len >= 4 && body.data[3] == CQL_RESULT_SET_KEYSPACE)
		snprintf(c->keyspace, sizeof(c->keyspace), "%s", ks);
	reply(c, stream, rc, &body, &err);
	buf_free(&body);
	params_free(&p);
}

/*
 * handle_batch - BATCH: every statement is checked (parsed, prepared ids
 * known) and then run in order; the first error stops it, so a failing
 * batch may be partly applied (Cassandra's would not be).
 */
static void handle_batch(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	struct item {
		const char *q;
		size_t qlen;
		const char *ks;
		const uint8_t *id;
		struct ex_params ex;
		struct ex_value *values;
	} *items = NULL;
	struct cql_error err;
	struct buf body;
	uint16_t n, i, k, cons;
	uint8_t flags;
	int rc = 0;

	(void)cql_rd_byte(rd);		/* logged, unlogged, counter */
	n = cql_rd_short(rd);
	if (n > 0 && (items = calloc(n, sizeof(*items))) == NULL) {
		send_error(c, stream, CQL_ERR_SERVER, "out of memory");
		return;
	}
	for (i = 0; i < n && !rd->err; i++) {
		uint8_t kind = cql_rd_byte(rd);
		uint16_t nv;

		if (kind == 0) {
			items[i].q = cql_rd_long_string(rd, &items[i].qlen);
		} else if (kind == 1) {
			size_t idlen;

			items[i].id = cql_rd_short_bytes(rd, &idlen);
			if (!rd->err) {
				struct prepared *pr = prepared_find(items[i].id,
								    idlen);

				if (pr == NULL) {
					char hex[2 * 64 + 1] = "";
					size_t j;

					memset(&err, 0, sizeof(err));
					err.code = CQL_ERR_UNPREPARED;
					for (j = 0; j < idlen && j < 64; j++)
						snprintf(hex + 2 * j, 3, "%02x",
							 items[i].id[j]);
					snprintf(err.message,
						 sizeof(err.message),
						 "Prepared query with ID %s "
						 "not found", hex);
					if (idlen <= sizeof(err.unprepared_id)) {
						memcpy(err.unprepared_id,
						       items[i].id, idlen);
						err.unprepared_id_len = idlen;
					}
					rc = -1;
					break;
				}
				items[i].q = pr->query;
				items[i].qlen = pr->len;
				items[i].ks = pr->keyspace;
				items[i].id = pr->id;
			}
		} else {
			rd->err = 1;
			break;
		}
		nv = cql_rd_short(rd);
		if (nv > 0 && (items[i].values = calloc(nv,
				sizeof(*items[i].values))) == NULL) {
			rd->err = 1;
			break;
		}
		for (k = 0; k < nv && !rd->err; k++) {
			items[i].values[k].len = cql_rd_int(rd);
			if (items[i].values[k].len >= 0)
				items[i].values[k].p = cql_rd_raw(rd, (size_t)
					items[i].values[k].len);
			else if (items[i].values[k].len < EX_UNSET)
				rd->err = 1;
		}
		items[i].ex.values = items[i].values;
		items[i].ex.nvalues = nv;
		items[i].ex.version = c->version;
	}
	cons = cql_rd_short(rd);
	flags = cql_rd_byte(rd);
	if (flags & CQL_QF_SERIAL_CONSISTENCY)
		(void)cql_rd_short(rd);
	if (flags & CQL_QF_DEFAULT_TIMESTAMP)
		(void)cql_rd_long(rd);
	buf_init(&body);
	if (rc == 0 && (rd->err || (flags & CQL_QF_NAMES_FOR_VALUES))) {
		memset(&err, 0, sizeof(err));
		err.code = CQL_ERR_PROTOCOL;
		snprintf(err.message, sizeof(err.message), rd->err ?
			 "Invalid BATCH message" : "Names for values are not "
			 "supported in BATCH");
		rc = -1;
	}
	/* check every statement kind before running any */
	for (i = 0; rc == 0 && i < n; i++) {
		struct cl_stmt *st = malloc(sizeof(*st));
		struct cl_error perr;

		if (st == NULL || cl_parse(items[i].q, items[i].qlen, st,
					   &perr) < 0) {
			ex_set_error(&err, st ? perr.code : CQL_ERR_SERVER,
				     "%s", st ? perr.msg : "out of memory");
			rc = -1;
		} else {
			if (st->kind != CL_INSERT && st->kind != CL_UPDATE &&
			    st->kind != CL_DELETE) {
				ex_set_error(&err, CQL_ERR_INVALID, "Invalid "
					     "statement in batch: only UPDATE, "
					     "INSERT and DELETE statements are "
					     "allowed.");
				rc = -1;
			}
			cl_stmt_free(st);
		}
		free(st);
	}
	for (i = 0; rc == 0 && i < n; i++) {
		char ks[CL_NAME_MAX];

		items[i].ex.consistency = cons;
		snprintf(ks, sizeof(ks), "%s", items[i].ks && items[i].ks[0] ?
			 items[i].ks : c->keyspace);
		buf_reset(&body);
		rc = run_statement(items[i].q, items[i].qlen, ks, items[i].id,
				   &items[i].ex, &body, &err);
	}
	buf_reset(&body);
	if (rc == 0)
		cql_wr_int(&body, CQL_RESULT_VOID);
	logmsg("BATCH of %u", (unsigned)n);
	reply(c, stream, rc, &body, &err);
	buf_free(&body);
	for (i = 0; i < n; i++)
		free(items[i].values);
	free(items);
}

/* handle_startup - STARTUP <string map> */
static void handle_startup(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	uint16_t i, n = cql_rd_short(rd);
	int have_version = 0;
	struct buf out;
	size_t off;

	for (i = 0; i < n && !rd->err; i++) {
		const char *k, *v;
		size_t kl, vl;

		k = cql_rd_string(rd, &kl);
		v = cql_rd_string(rd, &vl);
		if (rd->err)
			break;
		if (kl == 11 && strncasecmp(k, "CQL_VERSION", kl) == 0) {
			if (vl == 0 || v[0] < '3' || v[0] > '3' ||
			    (vl > 1 && v[1] != '.')) {
				send_error(c, stream, CQL_ERR_PROTOCOL,
					   "Invalid or unsupported CQL version "
					   "%.*s", (int)(vl > 32 ? 32 : vl), v);
				return;
			}
			have_version = 1;
		} else if (kl == 11 && strncasecmp(k, "COMPRESSION", kl) == 0) {
			send_error(c, stream, CQL_ERR_PROTOCOL, "Unknown "
				   "compression algorithm: %.*s",
				   (int)(vl > 32 ? 32 : vl), v);
			return;
		}
	}
	if (rd->err) {
		send_error(c, stream, CQL_ERR_PROTOCOL, "Invalid STARTUP message");
		return;
	}
	if (!have_version) {
		send_error(c, stream, CQL_ERR_PROTOCOL, "Missing value "
			   "CQL_VERSION in STARTUP message");
		return;
	}
	c->started = 1;
	buf_init(&out);
	if (srv.auth) {
		/* AUTHENTICATE <string class>; ready after AUTH_SUCCESS */
		if ((c->auth = auth_begin(srv.auth)) == NULL) {
			buf_free(&out);
			send_error_close(c, stream, CQL_ERR_SERVER,
					 "out of memory");
			return;
		}
		off = cql_frame_begin(&out, c->version, 1, 0, stream,
				      CQL_OP_AUTHENTICATE);
		cql_wr_cstring(&out, auth_class(srv.auth));
	} else {
		c->ready = 1;
		off = cql_frame_begin(&out, c->version, 1, 0, stream,
				      CQL_OP_READY);
	}
	cql_frame_end(&out, off);
	send_frame(c, &out, 0);
	buf_free(&out);
}

/*
 * handle_auth_response - AUTH_RESPONSE <bytes token>: AUTH_CHALLENGE,
 * AUTH_SUCCESS, or Bad credentials (then a new exchange may begin).
 */
static void handle_auth_response(struct conn *c, int16_t stream,
				 struct cql_rd *rd)
{
	struct auth_result res;
	const uint8_t *token;
	struct buf out;
	int32_t len;
	size_t off;

	token = cql_rd_bytes(rd, &len);
	if (rd->err) {
		send_error(c, stream, CQL_ERR_PROTOCOL,
			   "Invalid AUTH_RESPONSE message");
		return;
	}
	buf_init(&res.token);
	auth_evaluate(srv.auth, c->auth, token, len, &res);
	buf_init(&out);
	switch (res.step) {
	case AUTH_SUCCESS:
		logmsg("authenticated");
		auth_end(srv.auth, c->auth);
		c->auth = NULL;
		c->ready = 1;
		off = cql_frame_begin(&out, c->version, 1, 0, stream,
				      CQL_OP_AUTH_SUCCESS);
		cql_wr_bytes(&out, res.token.data, res.null_token ? -1 :
			     (int32_t)res.token.len);
		cql_frame_end(&out, off);
		send_frame(c, &out, 0);
		break;
	case AUTH_CHALLENGE:
		off = cql_frame_begin(&out, c->version, 1, 0, stream,
				      CQL_OP_AUTH_CHALLENGE);
		cql_wr_bytes(&out, res.token.data, (int32_t)res.token.len);
		cql_frame_end(&out, off);
		send_frame(c, &out, 0);
		break;
	case AUTH_FAILED:
		logmsg("authentication failed: %s", res.message);
		auth_end(srv.auth, c->auth);
		if ((c->auth = auth_begin(srv.auth)) == NULL) {
			send_error_close(c, stream, CQL_ERR_SERVER,
					 "out of memory");
			break;
		}
		send_error(c, stream, CQL_ERR_BAD_CREDENTIALS, "%s",
			   res.message);
		break;
	}
	buf_free(&out);
	buf_free(&res.token);
}

/* handle_options - OPTIONS: SUPPORTED <string multimap> */
static void handle_options(struct conn *c, int16_t stream)
{
	struct buf out;
	size_t off;

	buf_init(&out);
	off = cql_frame_begin(&out, c->version, 1, 0, stream, CQL_OP_SUPPORTED);
	cql_wr_short(&out, 2);
	cql_wr_cstring(&out, "CQL_VERSION");
	cql_wr_short(&out, 1);
	cql_wr_cstring(&out, CQLD_CQL_VERSION);
	cql_wr_cstring(&out, "COMPRESSION");
	cql_wr_short(&out, 0);
	cql_frame_end(&out, off);
	send_frame(c, &out, 0);
	buf_free(&out);
}

/* handle_frame - dispatch one complete request frame */
static void handle_frame(struct conn *c, const struct cql_header *h,
			 const uint8_t *body)
{
	struct cql_rd rd;
	struct buf out;
	size_t off;

	cql_rd_init(&rd, body, h->length);
	if (h->flags & CQL_FLAG_COMPRESSION) {
		send_error(c, h->stream, CQL_ERR_PROTOCOL, "Compression is not "
			   "supported by cqld (no compression was negotiated)");
		return;
	}
	if (h->flags & CQL_FLAG_CUSTOM_PAYLOAD) {
		/* [bytes map] before the body proper: skip it */
		uint16_t i, n = cql_rd_short(&rd);
		size_t kl;
		int32_t vl;

		for (i = 0; i < n && !rd.err; i++) {
			(void)cql_rd_string(&rd, &kl);
			(void)cql_rd_bytes(&rd, &vl);
		}
		if (rd.err) {
			send_error(c, h->stream, CQL_ERR_PROTOCOL,
				   "Invalid custom payload");
			return;
		}
	}
	if (!c->started && h->opcode != CQL_OP_STARTUP &&
	    h->opcode != CQL_OP_OPTIONS) {
		send_error(c, h->stream, CQL_ERR_PROTOCOL, "Unexpected message "
			   "%s, expecting STARTUP or OPTIONS",
			   cql_opcode_name(h->opcode));
		return;
	}
	if (c->started && !c->ready && h->opcode != CQL_OP_AUTH_RESPONSE &&
	    h->opcode != CQL_OP_OPTIONS) {
		/* Cassandra's words while authenticating (SASL since v2) */
		send_error(c, h->stream, CQL_ERR_PROTOCOL, "Unexpected message "
			   "%s, expecting SASL_RESPONSE",
			   cql_opcode_name(h->opcode));
		return;
	}
	switch (h->opcode) {
	case CQL_OP_OPTIONS:
		handle_options(c, h->stream);
		break;
	case CQL_OP_STARTUP:
		if (c->started) {
			send_error(c, h->stream, CQL_ERR_PROTOCOL, "Unexpected "
				   "message STARTUP, the connection is already "
				   "initialized");
			break;
		}
		handle_startup(c, h->stream, &rd);
		break;
	case CQL_OP_REGISTER:
		cql_rd_skip_string_list(&rd);
		if (rd.err) {
			send_error(c, h->stream, CQL_ERR_PROTOCOL,
				   "Invalid REGISTER message");
			break;
		}
		buf_init(&out);
		off = cql_frame_begin(&out, c->version, 1, 0, h->stream,
				      CQL_OP_READY);
		cql_frame_end(&out, off);
		send_frame(c, &out, 0);
		buf_free(&out);
		break;
	case CQL_OP_QUERY:
		handle_query(c, h->stream, &rd);
		break;
	case CQL_OP_PREPARE:
		handle_prepare(c, h->stream, &rd);
		break;
	case CQL_OP_EXECUTE:
		handle_execute(c, h->stream, &rd);
		break;
	case CQL_OP_BATCH:
		handle_batch(c, h->stream, &rd);
		break;
	case CQL_OP_AUTH_RESPONSE:
		if (c->ready) {
			send_error(c, h->stream, CQL_ERR_PROTOCOL, "Unexpected "
				   "message AUTH_RESPONSE: no authentication "
				   "in progress");
			break;
		}
		handle_auth_response(c, h->stream, &rd);
		break;
	default:
		send_error(c, h->stream, CQL_ERR_PROTOCOL, "Unknown or "
			   "unexpected opcode 0x%02x (%s)", h->opcode,
			   cql_opcode_name(h->opcode));
		break;
	}
}

/* conn_read - frames arrived (maybe several, maybe part of one) */
static void conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->closing) {
		uint8_t hdr[CQL_HEADER_LEN];
		struct cql_header h;
		const char *why;
		size_t avail = evbuffer_get_length(in);
		uint8_t version;
		const uint8_t *frame;

		if (avail < 1)
			return;
		evbuffer_copyout(in, hdr, avail < sizeof(hdr) ? avail :
				 sizeof(hdr));
		version = hdr[0] & 0x7F;
		if (version < CQLD_MIN_PROTOCOL || version > srv.max_protocol) {
			/* enough to know the stream id */
			if (avail < (version < CQLD_MIN_PROTOCOL ? 3u : 4u))
				return;
			protocol_refusal(c, version, hdr);
			return;
		}
		if (avail < CQL_HEADER_LEN)
			return;
		if (cql_header_decode(hdr, sizeof(hdr), CQLD_MAX_BODY, &h,
				      &why) != CQL_DECODE_COMPLETE) {
			if (c->version == 0)
				c->version = version;
			send_error_close(c, (int16_t)(uint16_t)(hdr[2] << 8 |
								hdr[3]),
					 CQL_ERR_PROTOCOL,
					 "Request is too big or malformed: %s "
					 "(limit %u bytes)", why ? why :
					 "bad header", CQLD_MAX_BODY);
			return;
		}
		if (h.response) {
			if (c->version == 0)
				c->version = h.version;
			send_error_close(c, h.stream, CQL_ERR_PROTOCOL, "Wrong "
					 "protocol direction (expected REQUEST, "
					 "got RESPONSE)");
			return;
		}
		if (c->version == 0) {
			c->version = h.version;
		} else if (h.version != c->version) {
			send_error_close(c, h.stream, CQL_ERR_PROTOCOL,
					 "Invalid message version. Got %d but "
					 "previous messages on this connection "
					 "had version %d", h.version,
					 c->version);
			return;
		}
		if (avail < CQL_HEADER_LEN + (size_t)h.length)
			return;		/* wait for the rest of the body */
		frame = evbuffer_pullup(in, (ev_ssize_t)(CQL_HEADER_LEN +
							 h.length));
		if (frame == NULL) {
			conn_free(c);
			return;
		}
		if (srv.stall)
			logmsg("stalled: dropping %s", cql_opcode_name(h.opcode));
		else
			handle_frame(c, &h, frame + CQL_HEADER_LEN);
		evbuffer_drain(in, CQL_HEADER_LEN + (size_t)h.length);
	}
}

/* conn_write - output drained: finish a pending close */
static void conn_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing)
		conn_free(c);
}

/* conn_event - EOF or error (a failed TLS handshake too) on a connection */
static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	unsigned long e;
	char msg[256];

	if (srv.tls && (what & BEV_EVENT_ERROR))
		while ((e = bufferevent_get_openssl_error(bev)) != 0) {
			if (ERR_GET_LIB(e) == 0)
				continue;	/* libevent's errno marker */
			ERR_error_string_n(e, msg, sizeof(msg));
			logmsg("tls: %s", msg);
		}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

/* conn_free - close a connection and drop what it had pending */
static void conn_free(struct conn *c)
{
	while (c->pending)
		pending_free(c->pending);
	if (srv.auth)
		auth_end(srv.auth, c->auth);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
}

/* on_accept - a new client connection */
static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct conn *c;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (srv.refuse) {
		logmsg("refusing a connection");
		evutil_closesocket(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	if (srv.tls) {
		SSL *ssl = SSL_new(srv.tls);

		/* on failure libevent frees ssl itself (CLOSE_ON_FREE) */
		c->bev = ssl == NULL ? NULL :
			bufferevent_openssl_socket_new(srv.base, fd, ssl,
						BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			evutil_closesocket(fd);
			free(c);
			return;
		}
		/* clients may close without close_notify */
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else if ((c->bev = bufferevent_socket_new(srv.base, fd,
					BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = srv.conns;
	if (srv.conns)
		srv.conns->prev = c;
	srv.conns = c;
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	logmsg("new connection");
}

/* ---- control socket --------------------------------------------- */

/* ccon_free - close a control connection */
static void ccon_free(struct ccon *cc)
{
	if (cc->prev)
		cc->prev->next = cc->next;
	else
		srv.controls = cc->next;
	if (cc->next)
		cc->next->prev = cc->prev;
	bufferevent_free(cc->bev);
	free(cc);
}

/* count_cmp - order of counts by name */
static int count_cmp(const void *a, const void *b)
{
	return strcmp(((const struct counted *)a)->name,
		      ((const struct counted *)b)->name);
}

/* parse_long - a whole decimal number within [lo, hi] */
static int parse_long(const char *s, long lo, long hi, long *out)
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

/*
 * control_command - run one control line, append the reply line:
 *	delay MS | counts | reset-counts | fail CODE [N] | fail off |
 *	paging BYTES [empty] | paging off | stall on|off | hold on|off |
 *	held | drop | refuse on|off | exec CQL | ping
 */
static void control_command(struct ccon *cc, char *line, struct buf *rep)
{
	char *cmd = line, *arg;
	long v;
	size_t i;

	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	arg = cmd + strcspn(cmd, " \t");
	if (*arg)
		*arg++ = 0;
	while (*arg == ' ' || *arg == '\t')
		arg++;
	/* "auth key ID:SECRET" holds a secret: not logged. */
	logmsg("control: %s %s", cmd, strcmp(cmd, "auth") == 0 ? "..." : arg);
	if (strcmp(cmd, "ping") == 0) {
		buf_append_str(rep, "ok pong");
	} else if (strcmp(cmd, "auth") == 0) {
		(void)auth_control(srv.auth, arg, rep);
	} else if (strcmp(cmd, "delay") == 0) {
		if (parse_long(arg, 0, CQLD_MAX_DELAY_MS, &v) < 0) {
			buf_printf(rep, "error usage: delay MS (0..%d)",
				   CQLD_MAX_DELAY_MS);
			return;
		}
		srv.delay_ms = (int)v;
		buf_printf(rep, "ok delay %ld", v);
	} else if (strcmp(cmd, "counts") == 0) {
		if (srv.ncounts > 1)
			qsort(srv.counts, srv.ncounts, sizeof(srv.counts[0]),
			      count_cmp);
		buf_append_str(rep, "ok");
		for (i = 0; i < srv.ncounts; i++)
			buf_printf(rep, " %s=%lu", srv.counts[i].name,
				   srv.counts[i].n);
	} else if (strcmp(cmd, "reset-counts") == 0) {
		free(srv.counts);
		srv.counts = NULL;
		srv.ncounts = 0;
		buf_append_str(rep, "ok");
	} else if (strcmp(cmd, "fail") == 0) {
		char *n = arg + strcspn(arg, " \t");
		long left = -1;

		if (*n)
			*n++ = 0;
		while (*n == ' ' || *n == '\t')
			n++;
		if (strcmp(arg, "off") == 0) {
			srv.fail_code = -1;
			buf_append_str(rep, "ok fail off");
			return;
		}
		for (i = 0; i < NFAIL_CODES; i++)
			if (strcmp(arg, fail_codes[i].name) == 0)
				break;
		if (i == NFAIL_CODES) {
			buf_append_str(rep, "error usage: fail CODE [N] | fail "
				       "off; CODE is one of");
			for (i = 0; i < NFAIL_CODES; i++)
				buf_printf(rep, " %s", fail_codes[i].name);
			return;
		}
		if (*n && parse_long(n, 1, LONG_MAX, &left) < 0) {
			buf_append_str(rep, "error usage: fail CODE [N], N > 0");
			return;
		}
		srv.fail_code = fail_codes[i].code;
		srv.fail_left = left;
		if (left > 0)
			buf_printf(rep, "ok fail %s %ld", fail_codes[i].name,
				   left);
		else
			buf_printf(rep, "ok fail %s", fail_codes[i].name);
	} else if (strcmp(cmd, "paging") == 0) {
		char *mode = arg + strcspn(arg, " \t");

		if (*mode)
			*mode++ = 0;
		while (*mode == ' ' || *mode == '\t')
			mode++;
		if (strcmp(arg, "off") == 0 && !*mode) {
			srv.page_budget = 0;
			srv.empty_pages = 0;
			buf_append_str(rep, "ok paging off");
			return;
		}
		if (parse_long(arg, 0, LONG_MAX, &v) < 0 ||
		    (*mode && strcmp(mode, "empty") != 0)) {
			buf_append_str(rep, "error usage: paging BYTES [empty] | paging off");
			return;
		}
		srv.page_budget = (size_t)v;
		srv.empty_pages = *mode != 0;
		buf_printf(rep, "ok paging %ld%s", v, srv.empty_pages ? " empty" : "");
	} else if (strcmp(cmd, "stall") == 0 || strcmp(cmd, "refuse") == 0) {
		int *flag = cmd[0] == 's' ? &srv.stall : &srv.refuse;

		if (strcmp(arg, "on") == 0)
			*flag = 1;
		else if (strcmp(arg, "off") == 0)
			*flag = 0;
		else {
			buf_printf(rep, "error usage: %s on|off", cmd);
			return;
		}
		buf_printf(rep, "ok %s %s", cmd, arg);
	} else if (strcmp(cmd, "hold") == 0) {
		if (strcmp(arg, "on") == 0) {
			srv.hold = 1;
			buf_append_str(rep, "ok hold on");
		} else if (strcmp(arg, "off") == 0) {
			srv.hold = 0;
			buf_printf(rep, "ok hold off released %lu", held_release(1));
		} else {
			buf_append_str(rep, "error usage: hold on|off");
		}
	} else if (strcmp(cmd, "held") == 0) {
		buf_printf(rep, "ok held %lu", held_release(0));
	} else if (strcmp(cmd, "drop") == 0) {
		unsigned long n = 0;

		while (srv.conns) {
			conn_free(srv.conns);
			n++;
		}
		buf_printf(rep, "ok dropped %lu", n);
	} else if (strcmp(cmd, "exec") == 0) {
		struct cql_error err;
		struct cl_stmt *st = malloc(sizeof(*st));
		struct cl_error perr;
		struct buf out;

		if (st == NULL) {
			buf_append_str(rep, "error out of memory");
			return;
		}
		if (cl_parse(arg, strlen(arg), st, &perr) < 0) {
			buf_printf(rep, "error %s", perr.msg);
			free(st);
			return;
		}
		buf_init(&out);
		if (ex_execute(&srv.store, cc->keyspace, st, NULL, &out,
			       &err) < 0) {
			buf_printf(rep, "error %s", err.message);
		} else if (st->kind == CL_SELECT && out.len >= 8) {
			struct cql_rd rd;
			struct cql_rows_meta *m = malloc(sizeof(*m));

			/* report the row count of a SELECT */
			cql_rd_init(&rd, out.data + 4, out.len - 4);
			if (m) {
				cql_rd_rows_meta(&rd, m);
				buf_printf(rep, "ok %d rows",
					   rd.err ? -1 : (int)cql_rd_int(&rd));
				free(m);
			} else {
				buf_append_str(rep, "ok");
			}
		} else {
			buf_append_str(rep, "ok");
		}
		buf_free(&out);
		cl_stmt_free(st);
		free(st);
	} else {
		buf_printf(rep, "error unknown command '%.40s' (delay, counts, "
			   "reset-counts, fail, paging, stall, hold, held, drop, "
			   "refuse, "
			   "exec, ping)", cmd);
	}
}

/* ccon_read - control lines arrived */
static void ccon_read(struct bufferevent *bev, void *arg)
{
	struct ccon *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct buf rep;
	char *line;
	size_t n;

	buf_init(&rep);
	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		buf_reset(&rep);
		control_command(cc, line, &rep);
		free(line);
		buf_append_byte(&rep, '\n');
		if (!rep.oom)
			bufferevent_write(bev, rep.data, rep.len);
	}
	buf_free(&rep);
	if (evbuffer_get_length(in) > CQLD_CONTROL_LINE_MAX) {
		static const char msg[] = "error line too long\n";

		evbuffer_drain(in, evbuffer_get_length(in));
		bufferevent_write(bev, msg, sizeof(msg) - 1);
	}
}

/* ccon_event - EOF or error on a control connection */
static void ccon_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ccon_free(arg);
}

/* on_control_accept - a new control connection */
static void on_control_accept(struct evconnlistener *l, evutil_socket_t fd,
			      struct sockaddr *sa, int salen, void *arg)
{
	struct ccon *cc;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	cc->bev = bufferevent_socket_new(srv.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (cc->bev == NULL) {
		evutil_closesocket(fd);
		free(cc);
		return;
	}
	cc->next = srv.controls;
	if (srv.controls)
		srv.controls->prev = cc;
	srv.controls = cc;
	bufferevent_setcb(cc->bev, ccon_read, NULL, ccon_event, cc);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
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
		"            [--release-version VERSION]\n");
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

static int parse_addr(const char *spec, struct sockaddr_storage *ss);

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
static int bound_port(struct evconnlistener *l)
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
static int parse_addr(const char *spec, struct sockaddr_storage *ss)
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

/* listen_on - bind a listener on ADDR:PORT; exit 2 on failure */
static struct evconnlistener *listen_on(const char *spec, evconnlistener_cb cb,
					struct sockaddr_storage *ss)
{
	struct evconnlistener *l;
	int len = parse_addr(spec, ss);

	l = evconnlistener_new_bind(srv.base, cb, NULL,
				    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
				    -1, (struct sockaddr *)ss, len);
	if (l == NULL) {
		fprintf(stderr, "cqld: cannot listen on %s: %s\n", spec,
			strerror(errno));
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

/* main - options, store, listeners, loop */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"load", required_argument, NULL, 'f'},
		{"port-file", required_argument, NULL, 'p'},
		{"max-protocol", required_argument, NULL, 'm'},
		{"control", required_argument, NULL, 'c'},
		{"control-port-file", required_argument, NULL, 'P'},
		{"delay-ms", required_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, 'v'},
		{"tls-cert", required_argument, NULL, 'C'},
		{"tls-key", required_argument, NULL, 'K'},
		{"tls-client-ca", required_argument, NULL, 'A'},
		{"auth", required_argument, NULL, 'a'},
		{"peers", required_argument, NULL, 'e'},
		{"dc", required_argument, NULL, 'D'},
		{"release-version", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_spec = "127.0.0.1:9042", *control_spec = NULL;
	const char *port_file = NULL, *control_port_file = NULL;
	const char **loads = NULL;
	const char *tls_cert = NULL, *tls_key = NULL, *tls_client_ca = NULL;
	const char *auth_spec = NULL, *peers_spec = NULL;
	const char *dc = EX_DEFAULT_DC, *release = EX_DEFAULT_RELEASE;
	static struct ex_peer peers[CQLD_MAX_PEERS];
	char err[AUTH_MSG_MAX];
	struct evconnlistener *lst, *ctl = NULL;
	struct event *sigterm, *sigint;
	struct sockaddr_storage ss, css;
	struct ex_node node;
	size_t nloads = 0, i;
	long v;
	int ch, port;

	srv.max_protocol = CQLD_MAX_PROTOCOL;
	srv.fail_code = -1;
	if ((loads = calloc((size_t)argc + 1, sizeof(*loads))) == NULL)
		return 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen_spec = optarg;
			break;
		case 'f':
			loads[nloads++] = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'm':
			if (parse_long(optarg, CQLD_MIN_PROTOCOL,
				       CQLD_MAX_PROTOCOL, &v) < 0)
				usage();
			srv.max_protocol = (int)v;
			break;
		case 'c':
			control_spec = optarg;
			break;
		case 'P':
			control_port_file = optarg;
			break;
		case 'd':
			if (parse_long(optarg, 0, CQLD_MAX_DELAY_MS, &v) < 0)
				usage();
			srv.delay_ms = (int)v;
			break;
		case 'v':
			srv.verbose = 1;
			break;
		case 'C':
			tls_cert = optarg;
			break;
		case 'K':
			tls_key = optarg;
			break;
		case 'A':
			tls_client_ca = optarg;
			break;
		case 'a':
			auth_spec = optarg;
			break;
		case 'e':
			peers_spec = optarg;
			break;
		case 'D':
			if (!check_word(optarg, EX_DC_MAX)) {
				fprintf(stderr, "cqld: bad --dc '%s'\n", optarg);
				usage();
			}
			dc = optarg;
			break;
		case 'R':
			if (!check_word(optarg, CQLD_VERSION_MAX)) {
				fprintf(stderr, "cqld: bad --release-version "
					"'%s'\n", optarg);
				usage();
			}
			release = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (control_port_file && !control_spec))
		usage();
	if (!tls_cert != !tls_key || (tls_client_ca && !tls_cert)) {
		fprintf(stderr, "cqld: --tls-cert and --tls-key go together "
			"(--tls-client-ca needs both)\n");
		usage();
	}
	if (tls_cert)
		srv.tls = tls_setup(tls_cert, tls_key, tls_client_ca);
	if (auth_spec && (srv.auth = auth_open(auth_spec, err,
					       sizeof(err))) == NULL) {
		fprintf(stderr, "cqld: --auth: %s\n", err);
		free(loads);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((srv.base = event_base_new()) == NULL) {
		fprintf(stderr, "cqld: event_base_new failed\n");
		return 2;
	}

	/* listen first: system.local reports the port it got */
	lst = listen_on(listen_spec, on_accept, &ss);
	if ((port = bound_port(lst)) < 0) {
		fprintf(stderr, "cqld: getsockname: %s\n", strerror(errno));
		return 2;
	}
	memset(&node, 0, sizeof(node));
	node.max_protocol = srv.max_protocol;
	node.port = port;
	node.dc = dc;
	node.release_version = release;
	node.peers = peers;
	if (peers_spec)
		node.npeers = parse_peers(peers_spec, dc, peers);
	if (ss.ss_family == AF_INET6) {
		struct in6_addr a = ((struct sockaddr_in6 *)&ss)->sin6_addr;

		node.addrlen = 16;
		if (IN6_IS_ADDR_UNSPECIFIED(&a))
			a = in6addr_loopback;
		memcpy(node.addr, &a, 16);
	} else {
		struct in_addr a = ((struct sockaddr_in *)&ss)->sin_addr;

		node.addrlen = 4;
		if (a.s_addr == htonl(INADDR_ANY))
			a.s_addr = htonl(INADDR_LOOPBACK);
		memcpy(node.addr, &a, 4);
	}
	st_init(&srv.store);
	if (ex_init(&srv.store, &node) < 0) {
		fprintf(stderr, "cqld: cannot set up system tables\n");
		return 2;
	}
	for (i = 0; i < nloads; i++)
		load_file(loads[i]);
	free(loads);

	if (control_spec) {
		int cport;

		ctl = listen_on(control_spec, on_control_accept, &css);
		if ((cport = bound_port(ctl)) < 0) {
			fprintf(stderr, "cqld: getsockname: %s\n",
				strerror(errno));
			return 2;
		}
		if (control_port_file)
			write_port_file(control_port_file, cport);
		fprintf(stderr, "cqld: control on port %d\n", cport);
	}
	if (port_file)
		write_port_file(port_file, port);
	{
		char host[INET6_ADDRSTRLEN] = "?";

		if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
				  host, sizeof(host));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
				  host, sizeof(host));
		fprintf(stderr, "cqld: listening on %s:%d%s%s (%s, %zu peers)\n",
			host, port, srv.tls ? " with TLS" : "",
			srv.auth ? " with authentication" : "", dc,
			node.npeers);
	}

	sigterm = evsignal_new(srv.base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(srv.base, SIGINT, on_signal, NULL);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		fprintf(stderr, "cqld: cannot catch signals\n");
		return 2;
	}
	event_base_dispatch(srv.base);

	/* orderly teardown, so leak checkers stay quiet */
	while (srv.conns)
		conn_free(srv.conns);
	while (srv.controls)
		ccon_free(srv.controls);
	evconnlistener_free(lst);
	if (ctl)
		evconnlistener_free(ctl);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(srv.base);
	prepared_clear();
	free(srv.counts);
	st_free(&srv.store);
	auth_close(srv.auth);
	if (srv.tls)
		SSL_CTX_free(srv.tls);
	return 0;
}
