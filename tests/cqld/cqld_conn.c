/*
 * cqld_conn - one client connection of cqld: frames, STARTUP, auth, dispatch
 *
 * SYNOPSIS
 *	#include "cqld.h"
 *
 *	const struct listener conn_listener
 *
 *	void conn_error(struct conn *c, int16_t stream, int how, int code,
 *		const char *fmt, ...)
 *
 *	void conn_reply(struct conn *c, int16_t stream, int rc,
 *		struct buf *body, const struct cql_error *err)
 *
 *	unsigned long conn_held(int release)
 *
 * DESCRIPTION
 *	Through conn_listener, cqld.c hands over each client connection
 *	(TLS when srv.tls is set) and its frames are read here. Each
 *	complete request frame is checked (version, direction, size, no
 *	compression) and dispatched: QUERY, PREPARE, EXECUTE and BATCH go
 *	to cqld_request.c, the connection's own business (OPTIONS,
 *	STARTUP, REGISTER, AUTH_RESPONSE) is done here. Until STARTUP (and with --auth, until the exchange succeeds)
 *	only the requests Cassandra allows then are served.
 *
 *	Every answer goes out through send_frame(): at once, after the
 *	"delay" of the control port (a timer per response, never a sleep),
 *	or kept back while "hold" is on; conn_held() counts or releases the
 *	held ones. conn_error() and conn_reply() build the ERROR or RESULT
 *	frame of a request. Frames of an unsupported version get
 *	Cassandra's Protocol error in a version the client can read.
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "cqld.h"

#define CQLD_MAX_BODY		(16u * 1024 * 1024)	/* request body, bytes */
#define CQLD_CQL_VERSION	"3.4.4"

/* pending_free - release a delayed response */
static void pending_free(struct pending *p)
{
	struct conn *c = p->c;

	DLIST_REMOVE(c->pending, p);
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
	DLIST_INSERT(c->pending, p);
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

/* conn_close_later - stop reading; close once queued output is sent */
static void conn_close_later(struct conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

/*
 * conn_error - answer a request with an error: queued like any answer
 * (CONN_KEEP), or sent at once and the connection closed (CONN_CLOSE)
 */
void conn_error(struct conn *c, int16_t stream, int how, int code,
		const char *fmt, ...)
{
	struct cql_error e;
	struct buf out;
	va_list ap;

	memset(&e, 0, sizeof(e));
	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	buf_init(&out);
	error_frame(&out, c->version, stream, &e);
	send_frame(c, &out, how == CONN_CLOSE);
	buf_free(&out);
	if (how == CONN_CLOSE)
		conn_close_later(c);
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

/* conn_held - count (and with release, send) the held responses */
unsigned long conn_held(int release)
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

/* send_body - frame a response body (NULL: none) and send it */
static void send_body(struct conn *c, int16_t stream, uint8_t opcode,
		      const struct buf *body)
{
	struct buf out;
	size_t off;

	buf_init(&out);
	off = cql_frame_begin(&out, c->version, 1, 0, stream, opcode);
	if (body && body->oom)
		return;		/* as a frame that ran out of memory: unsent */
	if (body && body->len)
		buf_append(&out, body->data, body->len);
	cql_frame_end(&out, off);
	send_frame(c, &out, 0);
	buf_free(&out);
}

/* conn_reply - wrap a RESULT body or an error into a frame and send it */
void conn_reply(struct conn *c, int16_t stream, int rc, struct buf *body,
		const struct cql_error *err)
{
	struct buf out;

	if (rc == 0) {
		send_body(c, stream, CQL_OP_RESULT, body);
		return;
	}
	logmsg("error 0x%04x: %s", err->code, err->message);
	buf_init(&out);
	error_frame(&out, c->version, stream, err);
	send_frame(c, &out, 0);
	buf_free(&out);
}

/* handle_startup - STARTUP <string map> */
static void handle_startup(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	uint16_t i, n = cql_rd_short(rd);
	int have_version = 0;
	struct buf body;

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
				conn_error(c, stream, CONN_KEEP,
					   CQL_ERR_PROTOCOL, "Invalid or "
					   "unsupported CQL version %.*s",
					   (int)(vl > 32 ? 32 : vl), v);
				return;
			}
			have_version = 1;
		} else if (kl == 11 && strncasecmp(k, "COMPRESSION", kl) == 0) {
			conn_error(c, stream, CONN_KEEP, CQL_ERR_PROTOCOL,
				   "Unknown compression algorithm: %.*s",
				   (int)(vl > 32 ? 32 : vl), v);
			return;
		}
	}
	if (rd->err) {
		conn_error(c, stream, CONN_KEEP, CQL_ERR_PROTOCOL,
			   "Invalid STARTUP message");
		return;
	}
	if (!have_version) {
		conn_error(c, stream, CONN_KEEP, CQL_ERR_PROTOCOL, "Missing "
			   "value CQL_VERSION in STARTUP message");
		return;
	}
	c->started = 1;
	if (!srv.auth) {
		c->ready = 1;
		send_body(c, stream, CQL_OP_READY, NULL);
		return;
	}
	/* AUTHENTICATE <string class>; ready after AUTH_SUCCESS */
	if ((c->auth = auth_begin(srv.auth)) == NULL) {
		conn_error(c, stream, CONN_CLOSE, CQL_ERR_SERVER,
			   "out of memory");
		return;
	}
	buf_init(&body);
	cql_wr_cstring(&body, auth_class(srv.auth));
	send_body(c, stream, CQL_OP_AUTHENTICATE, &body);
	buf_free(&body);
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
	struct buf body;
	int32_t len;

	token = cql_rd_bytes(rd, &len);
	if (rd->err) {
		conn_error(c, stream, CONN_KEEP, CQL_ERR_PROTOCOL,
			   "Invalid AUTH_RESPONSE message");
		return;
	}
	buf_init(&res.token);
	auth_evaluate(srv.auth, c->auth, token, len, &res);
	buf_init(&body);
	switch (res.step) {
	case AUTH_SUCCESS:
		logmsg("authenticated");
		auth_end(srv.auth, c->auth);
		c->auth = NULL;
		c->ready = 1;
		cql_wr_bytes(&body, res.token.data, res.null_token ? -1 :
			     (int32_t)res.token.len);
		send_body(c, stream, CQL_OP_AUTH_SUCCESS, &body);
		break;
	case AUTH_CHALLENGE:
		cql_wr_bytes(&body, res.token.data, (int32_t)res.token.len);
		send_body(c, stream, CQL_OP_AUTH_CHALLENGE, &body);
		break;
	case AUTH_FAILED:
		logmsg("authentication failed: %s", res.message);
		auth_end(srv.auth, c->auth);
		if ((c->auth = auth_begin(srv.auth)) == NULL) {
			conn_error(c, stream, CONN_CLOSE, CQL_ERR_SERVER,
				   "out of memory");
			break;
		}
		conn_error(c, stream, CONN_KEEP, CQL_ERR_BAD_CREDENTIALS,
			   "%s", res.message);
		break;
	}
	buf_free(&body);
	buf_free(&res.token);
}

/* handle_options - OPTIONS: SUPPORTED <string multimap> */
static void handle_options(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	struct buf body;

	(void)rd;
	buf_init(&body);
	cql_wr_short(&body, 2);
	cql_wr_cstring(&body, "CQL_VERSION");
	cql_wr_short(&body, 1);
	cql_wr_cstring(&body, CQLD_CQL_VERSION);
	cql_wr_cstring(&body, "COMPRESSION");
	cql_wr_short(&body, 0);
	send_body(c, stream, CQL_OP_SUPPORTED, &body);
	buf_free(&body);
}

/* skip_custom_payload - the [bytes map] before the body proper */
static void skip_custom_payload(struct cql_rd *rd)
{
	uint16_t i, n = cql_rd_short(rd);
	size_t kl;
	int32_t vl;

	for (i = 0; i < n && !rd->err; i++) {
		(void)cql_rd_string(rd, &kl);
		(void)cql_rd_bytes(rd, &vl);
	}
}

/*
 * refused_now - the request is one the connection may not make in its
 * state (before STARTUP, while authenticating, a second STARTUP, an
 * AUTH_RESPONSE with no exchange): answer as Cassandra does, return 1.
 */
static int refused_now(struct conn *c, int16_t s, uint8_t op)
{
	const char *why;

	if (!c->started && op != CQL_OP_STARTUP && op != CQL_OP_OPTIONS)
		why = ", expecting STARTUP or OPTIONS";
	else if (c->started && !c->ready && op != CQL_OP_AUTH_RESPONSE &&
		 op != CQL_OP_OPTIONS)
		why = ", expecting SASL_RESPONSE";	/* SASL since v2 */
	else if (c->started && op == CQL_OP_STARTUP)
		why = ", the connection is already initialized";
	else if (c->ready && op == CQL_OP_AUTH_RESPONSE)
		why = ": no authentication in progress";
	else
		return 0;
	/* Cassandra's words */
	conn_error(c, s, CONN_KEEP, CQL_ERR_PROTOCOL, "Unexpected message %s%s",
		   cql_opcode_name(op), why);
	return 1;
}

/* handle_register - REGISTER <string list>: READY (no events are sent) */
static void handle_register(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	cql_rd_skip_string_list(rd);
	if (rd->err)
		conn_error(c, stream, CONN_KEEP, CQL_ERR_PROTOCOL,
			   "Invalid REGISTER message");
	else
		send_body(c, stream, CQL_OP_READY, NULL);
}

/* The requests cqld serves */
static const struct {
	uint8_t opcode;
	void (*handle)(struct conn *c, int16_t stream, struct cql_rd *rd);
} handlers[] = {
	{CQL_OP_STARTUP, handle_startup},
	{CQL_OP_OPTIONS, handle_options},
	{CQL_OP_QUERY, request_query},
	{CQL_OP_PREPARE, request_prepare},
	{CQL_OP_EXECUTE, request_execute},
	{CQL_OP_REGISTER, handle_register},
	{CQL_OP_BATCH, request_batch},
	{CQL_OP_AUTH_RESPONSE, handle_auth_response},
};

#define NHANDLERS	(sizeof(handlers) / sizeof(handlers[0]))

/* handle_frame - dispatch one complete request frame */
static void handle_frame(struct conn *c, const struct cql_header *h,
			 const uint8_t *body)
{
	int16_t s = h->stream;
	struct cql_rd rd;
	size_t i;

	cql_rd_init(&rd, body, h->length);
	if (h->flags & CQL_FLAG_COMPRESSION) {
		conn_error(c, s, CONN_KEEP, CQL_ERR_PROTOCOL, "Compression is "
			   "not supported by cqld (no compression was "
			   "negotiated)");
		return;
	}
	if (h->flags & CQL_FLAG_CUSTOM_PAYLOAD) {
		skip_custom_payload(&rd);
		if (rd.err) {
			conn_error(c, s, CONN_KEEP, CQL_ERR_PROTOCOL,
				   "Invalid custom payload");
			return;
		}
	}
	if (refused_now(c, s, h->opcode))
		return;
	for (i = 0; i < NHANDLERS; i++)
		if (handlers[i].opcode == h->opcode) {
			handlers[i].handle(c, s, &rd);
			return;
		}
	conn_error(c, s, CONN_KEEP, CQL_ERR_PROTOCOL, "Unknown or unexpected "
		   "opcode 0x%02x (%s)", h->opcode, cql_opcode_name(h->opcode));
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
			conn_error(c, (int16_t)(uint16_t)(hdr[2] << 8 | hdr[3]),
				   CONN_CLOSE, CQL_ERR_PROTOCOL, "Request is too "
				   "big or malformed: %s (limit %u bytes)",
				   why ? why : "bad header", CQLD_MAX_BODY);
			return;
		}
		if (h.response) {
			if (c->version == 0)
				c->version = h.version;
			conn_error(c, h.stream, CONN_CLOSE, CQL_ERR_PROTOCOL,
				   "Wrong protocol direction (expected REQUEST, "
				   "got RESPONSE)");
			return;
		}
		if (c->version == 0) {
			c->version = h.version;
		} else if (h.version != c->version) {
			conn_error(c, h.stream, CONN_CLOSE, CQL_ERR_PROTOCOL,
				   "Invalid message version. Got %d but "
				   "previous messages on this connection had "
				   "version %d", h.version, c->version);
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
void conn_free(struct conn *c)
{
	while (c->pending)
		pending_free(c->pending);
	if (srv.auth)
		auth_end(srv.auth, c->auth);
	DLIST_REMOVE(srv.conns, c);
	bufferevent_free(c->bev);
	free(c);
}

/* conn_accept - a new client connection on its bufferevent */
static void *conn_accept(struct bufferevent *bev)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		c->bev = bev;
		/* the address reached: a Keyspaces endpoint has several */
		if (getsockname(bufferevent_getfd(bev), (struct sockaddr *)&ss,
				&len) == 0) {
			const struct sockaddr_in *a4 = (void *)&ss;
			const struct sockaddr_in6 *a6 = (void *)&ss;

			if (ss.ss_family == AF_INET) {
				memcpy(c->laddr, &a4->sin_addr, 4);
				c->laddrlen = 4;
			} else if (ss.ss_family == AF_INET6) {
				memcpy(c->laddr, &a6->sin6_addr, 16);
				c->laddrlen = 16;
			}
		}
		DLIST_INSERT(srv.conns, c);
		logmsg("new connection");
	}
	return c;
}

const struct listener conn_listener = {
	conn_accept, conn_read, conn_write, conn_event, 1, &srv.refuse,
};
