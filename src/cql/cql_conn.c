/*
 * cql_conn - one asynchronous CQL connection on the event loop
 *
 * DESCRIPTION
 *	See cql_conn.h. Requests in flight are kept by cql_streams (stream
 *	ids, FIFO of deadlines): one timer, armed for the FIFO head, serves
 *	every request timeout of the connection. A silent connection sends
 *	OPTIONS every heartbeat interval; an unanswered heartbeat closes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "log.h"
#include "cql_auth.h"
#include "cql_conn.h"
#include "cql_tls.h"

#define CQL_HANDSHAKE_STREAM	0	/* stream used before READY */

enum conn_state { CONN_CONNECTING, CONN_STARTUP, CONN_AUTH, CONN_READY, CONN_CLOSED };

struct cql_conn {
	struct event_base *base;
	struct bufferevent *bev;
	SSL *ssl;			/* owned by bev when TLS */
	struct event *timer;
	struct event *hb_timer;		/* heartbeat */
	int64_t last_read_ms;
	int64_t last_timeout_ms;	/* a request last timed out */
	int hb_outstanding;
	enum conn_state state;
	struct cql_conn_options opts;
	struct cql_conn_callbacks cbs;
	void *arg;
	char label[CQL_LABEL_MAX];

	struct cql_streams streams;	/* requests in flight */

	int depth;			/* nesting of our own callbacks */
	int free_pending;		/* cql_conn_free() called inside one */
};

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void hb_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_became_ready(struct cql_conn *c);
static void conn_release(struct cql_conn *c);

/* cql_status_name - printable request status */
const char *cql_status_name(enum cql_status st)
{
	switch (st) {
	case CQL_STATUS_OK: return "ok";
	case CQL_STATUS_SERVER_ERROR: return "server error";
	case CQL_STATUS_TIMEOUT: return "request timeout";
	case CQL_STATUS_CONN_LOST: return "connection lost";
	case CQL_STATUS_NOT_CONNECTED: return "not connected";
	case CQL_STATUS_BUSY: return "too many requests in flight";
	case CQL_STATUS_PROTOCOL: return "protocol error";
	case CQL_STATUS_NOT_PREPARED: return "statement not prepared";
	case CQL_STATUS_NODE_REFUSED: return "statement refused by a node that disagrees on the schema";
	case CQL_STATUS_TOO_LARGE: return "result over the paging bound";
	}
	return "unknown";
}

/* timer_arm - schedule the timer for the FIFO head */
static void timer_arm(struct cql_conn *c)
{
	int64_t ms, deadline = cql_streams_next_deadline(&c->streams);
	struct timeval tv;

	if (deadline < 0) {
		evtimer_del(c->timer);
		return;
	}
	ms = deadline - clock_now_ms();
	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/* deliver - call a request's callback with the conn protected from free */
static void deliver(struct cql_conn *c, cql_response_fn cb, void *arg,
		    const struct cql_response *r)
{
	c->depth++;
	cb(r, arg);
	c->depth--;
}

/* fail_all - every pending request gets CONN_LOST */
static void fail_all(struct cql_conn *c)
{
	struct cql_response r = { .status = CQL_STATUS_CONN_LOST };
	cql_response_fn cb;
	void *arg;

	while (cql_streams_take_any(&c->streams, &cb, &arg))
		deliver(c, cb, arg, &r);
}

/* cql_conn_new - start connecting to one address */
struct cql_conn *cql_conn_new(struct event_base *base,
			      const struct sockaddr *sa, socklen_t salen,
			      const char *label,
			      const struct cql_conn_options *opts,
			      const struct cql_conn_callbacks *cbs, void *arg)
{
	struct cql_conn *c = calloc(1, sizeof(*c));
	struct timeval tv;

	if (c == NULL)
		return NULL;
	c->base = base;
	c->opts = *opts;
	if (c->opts.max_body == 0)
		c->opts.max_body = CQL_CONN_MAX_BODY;
	c->cbs = *cbs;
	c->arg = arg;
	snprintf(c->label, sizeof(c->label), "%s", label);
	c->state = CONN_CONNECTING;
	if (cql_streams_init(&c->streams, CQL_MAX_STREAMS) != 0)
		goto fail;
	c->timer = evtimer_new(base, conn_timer_cb, c);
	c->hb_timer = event_new(base, -1, EV_PERSIST, hb_timer_cb, c);
	if (opts->tls) {
		c->ssl = cql_tls_new_ssl(opts->tls, opts->host ? opts->host : "", opts->tls_verify);
		if (c->ssl == NULL)
			goto fail;
		c->bev = bufferevent_openssl_socket_new(base, -1, c->ssl, BUFFEREVENT_SSL_CONNECTING,
							BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			SSL_free(c->ssl);
			c->ssl = NULL;
		}
	} else {
		c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (c->timer == NULL || c->hb_timer == NULL || c->bev == NULL)
		goto fail;
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	/* The connect timeout covers TCP connect and the handshake. */
	tv.tv_sec = opts->connect_timeout_ms / 1000;
	tv.tv_usec = (opts->connect_timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)sa, (int)salen) != 0)
		goto fail;
	return c;
fail:
	conn_release(c);
	return NULL;
}

/* conn_release - free everything */
static void conn_release(struct cql_conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->timer)
		event_free(c->timer);
	if (c->hb_timer)
		event_free(c->hb_timer);
	cql_streams_free(&c->streams);
	free(c);
}

/* cql_conn_free - release, or defer until our callback returns */
void cql_conn_free(struct cql_conn *c)
{
	if (c == NULL)
		return;
	c->cbs.ready = NULL;
	c->cbs.closed = NULL;
	if (c->depth > 0) {
		c->free_pending = 1;
		return;
	}
	if (c->state != CONN_CLOSED) {
		c->state = CONN_CLOSED;
		fail_all(c);
		if (c->depth > 0) {	/* a request callback freed us again */
			c->free_pending = 1;
			return;
		}
	}
	conn_release(c);
}

/* conn_leave - end of an event handler: run a deferred free */
static int conn_leave(struct cql_conn *c)
{
	if (c->depth == 0 && c->free_pending) {
		c->free_pending = 0;
		cql_conn_free(c);
		return 1;
	}
	return 0;
}

/* cql_conn_close - close, fail pending requests, tell the owner */
void cql_conn_close(struct cql_conn *c, enum cql_close_reason why,
		    const char *detail)
{
	if (c->state == CONN_CLOSED)
		return;
	c->state = CONN_CLOSED;
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	evtimer_del(c->timer);
	event_del(c->hb_timer);
	c->depth++;
	fail_all(c);
	if (c->cbs.closed)
		c->cbs.closed(c, why, detail, c->arg);
	c->depth--;
}

/* write_frame - patch version and stream into a frame and queue it */
static int write_frame(struct cql_conn *c, struct buf *frame, int16_t stream)
{
	if (frame->oom || frame->len < CQL_HEADER_LEN)
		return -1;
	frame->data[0] = c->opts.version;
	frame->data[2] = (uint8_t)((uint16_t)stream >> 8);
	frame->data[3] = (uint8_t)stream;
	return bufferevent_write(c->bev, frame->data, frame->len);
}

/* cql_conn_send - send a request frame under a free stream id */
int cql_conn_send(struct cql_conn *c, struct buf *frame,
		  cql_response_fn cb, void *arg, enum cql_status *st)
{
	int32_t id;
	int first;

	if (c->state != CONN_READY) {
		*st = CQL_STATUS_NOT_CONNECTED;
		return -1;
	}
	first = cql_streams_next_deadline(&c->streams) < 0;
	id = cql_streams_alloc(&c->streams, cb, arg, clock_now_ms() + c->opts.request_timeout_ms);
	if (id < 0) {
		*st = CQL_STATUS_BUSY;
		return -1;
	}
	if (write_frame(c, frame, (int16_t)id) != 0) {
		cql_streams_unalloc(&c->streams, id);
		*st = CQL_STATUS_PROTOCOL;
		return -1;
	}
	if (first)
		timer_arm(c);
	*st = CQL_STATUS_OK;
	return 0;
}

/* conn_timer_cb - expire requests past their deadline */
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cql_conn *c = arg;
	struct cql_response r = { .status = CQL_STATUS_TIMEOUT };
	int64_t now = clock_now_ms();
	cql_response_fn cb;
	void *cbarg;

	(void)fd;
	(void)what;
	c->depth++;
	while (c->state == CONN_READY && cql_streams_expire(&c->streams, now, &cb, &cbarg)) {
		c->last_timeout_ms = now;
		deliver(c, cb, cbarg, &r);
	}
	if (c->state == CONN_READY) {
		/*
		 * A connection whose ids are mostly held by unanswered
		 * requests is not coming back: replace it.
		 */
		if (c->streams.orphans > (unsigned)CQL_MAX_STREAMS / 2)
			cql_conn_close(c, CQL_CLOSE_PROTOCOL,
				       "too many unanswered requests");
		else
			timer_arm(c);
	}
	c->depth--;
	conn_leave(c);
}

/* handshake_send - STARTUP on the reserved handshake stream */
static void handshake_send(struct cql_conn *c)
{
	struct buf b;

	buf_init(&b);
	cql_encode_startup(&b, c->opts.version, CQL_HANDSHAKE_STREAM);
	if (b.oom || bufferevent_write(c->bev, b.data, b.len) != 0) {
		buf_free(&b);
		cql_conn_close(c, CQL_CLOSE_IO, "cannot queue STARTUP");
		return;
	}
	buf_free(&b);
	c->state = CONN_STARTUP;
}

/* hb_answer - the heartbeat's OPTIONS was answered, or not */
static void hb_answer(const struct cql_response *r, void *arg)
{
	struct cql_conn *c = arg;

	c->hb_outstanding = 0;
	if (r->status == CQL_STATUS_TIMEOUT && c->state == CONN_READY)
		cql_conn_close(c, CQL_CLOSE_PROTOCOL, "heartbeat not answered");
	else if (r->status == CQL_STATUS_OK && r->opcode != CQL_OP_SUPPORTED)
		cql_conn_close(c, CQL_CLOSE_PROTOCOL, "heartbeat answered with the wrong opcode");
}

/* hb_timer_cb - a silent connection sends OPTIONS to prove it is alive */
static void hb_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cql_conn *c = arg;
	enum cql_status st;
	struct buf b;

	(void)fd;
	(void)what;
	if (c->state != CONN_READY || c->hb_outstanding ||
	    clock_now_ms() - c->last_read_ms < c->opts.heartbeat_ms)
		return;
	buf_init(&b);
	cql_encode_options(&b, c->opts.version, 0);
	c->depth++;
	if (cql_conn_send(c, &b, hb_answer, c, &st) == 0)
		c->hb_outstanding = 1;
	c->depth--;
	buf_free(&b);
	conn_leave(c);
}

/* conn_became_ready - handshake done: serve, and start the heartbeat */
static void conn_became_ready(struct cql_conn *c)
{
	c->state = CONN_READY;
	c->last_read_ms = clock_now_ms();
	/* From now on only request timeouts apply, not idle ones. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	if (c->opts.heartbeat_ms > 0) {
		struct timeval tv = { c->opts.heartbeat_ms / 1000,
				      (c->opts.heartbeat_ms % 1000) * 1000 };

		event_add(c->hb_timer, &tv);
	}
	if (c->cbs.ready)
		c->cbs.ready(c, c->arg);
}

/* auth_step - answer AUTHENTICATE or AUTH_CHALLENGE with the next token */
static void auth_step(struct cql_conn *c, const struct cql_header *h,
		      const uint8_t *body)
{
	struct cql_rd rd;
	struct buf token, frame;
	char err[256], authenticator[128];
	const char *s;
	const uint8_t *tok;
	size_t n;
	int32_t tlen;
	int rc;

	cql_rd_init(&rd, body, h->length);
	if (h->opcode == CQL_OP_AUTHENTICATE) {
		s = cql_rd_string(&rd, &n);
		snprintf(authenticator, sizeof(authenticator), "%.*s", (int)n, s ? s : "");
		if (rd.err) {
			cql_conn_close(c, CQL_CLOSE_PROTOCOL, "malformed AUTHENTICATE");
			return;
		}
		if (c->opts.auth == NULL) {
			snprintf(err, sizeof(err), "server requires authentication (%s) and CASSANDRA_AUTH is none",
				 authenticator);
			cql_conn_close(c, CQL_CLOSE_AUTH, err);
			return;
		}
	} else if (c->state != CONN_AUTH) {
		cql_conn_close(c, CQL_CLOSE_PROTOCOL, "AUTH_CHALLENGE without authentication");
		return;
	}
	buf_init(&token);
	err[0] = 0;
	if (h->opcode == CQL_OP_AUTHENTICATE) {
		rc = c->opts.auth->initial(c->opts.auth, authenticator, &token, err, sizeof(err));
	} else {
		tok = cql_rd_bytes(&rd, &tlen);
		rc = rd.err ? -1 : c->opts.auth->challenge(c->opts.auth, tok, tlen > 0 ? (size_t)tlen : 0,
							    &token, err, sizeof(err));
		if (rd.err)
			snprintf(err, sizeof(err), "malformed AUTH_CHALLENGE");
	}
	if (rc != 0 || token.oom || token.len > INT32_MAX) {
		buf_free(&token);
		cql_conn_close(c, CQL_CLOSE_AUTH, err[0] ? err : "cannot build the authentication token");
		return;
	}
	buf_init(&frame);
	cql_encode_auth_response(&frame, c->opts.version, CQL_HANDSHAKE_STREAM, token.data,
				 (int32_t)token.len);
	/* The token may hold a password: wipe it. */
	if (token.data)
		OPENSSL_cleanse(token.data, token.cap);
	buf_free(&token);
	rc = frame.oom ? -1 : bufferevent_write(c->bev, frame.data, frame.len);
	if (frame.data)
		OPENSSL_cleanse(frame.data, frame.cap);
	buf_free(&frame);
	if (rc != 0) {
		cql_conn_close(c, CQL_CLOSE_IO, "cannot queue AUTH_RESPONSE");
		return;
	}
	c->state = CONN_AUTH;
}

/* handshake_answer - handle the answer to STARTUP */
static void handshake_answer(struct cql_conn *c, const struct cql_header *h,
			     const uint8_t *body)
{
	struct cql_error err;
	char detail[CQL_ERROR_MSG_MAX + 64];

	switch (h->opcode) {
	case CQL_OP_READY:
		conn_became_ready(c);
		return;
	case CQL_OP_AUTHENTICATE:
	case CQL_OP_AUTH_CHALLENGE:
		auth_step(c, h, body);
		return;
	case CQL_OP_AUTH_SUCCESS:
		if (c->state != CONN_AUTH) {
			cql_conn_close(c, CQL_CLOSE_PROTOCOL, "AUTH_SUCCESS without authentication");
			return;
		}
		conn_became_ready(c);
		return;
	case CQL_OP_ERROR:
		if (cql_error_decode(body, h->length, &err) != 0) {
			cql_conn_close(c, CQL_CLOSE_PROTOCOL, "malformed ERROR during STARTUP");
			return;
		}
		snprintf(detail, sizeof(detail), "%s: %s",
			 cql_error_name(err.code), err.message);
		/*
		 * A server that does not speak our version answers a protocol
		 * error, in a frame of a version it does speak.
		 */
		if (c->state == CONN_AUTH || err.code == CQL_ERR_BAD_CREDENTIALS) {
			char who[192] = "", line[sizeof(detail) + sizeof(who) + 16];

			/* Say as whom (user, access key id: never a secret). */
			if (c->opts.auth && c->opts.auth->identity)
				c->opts.auth->identity(c->opts.auth, who, sizeof(who));
			snprintf(line, sizeof(line), "%s%s%s%s", detail, who[0] ? " (as " : "", who,
				 who[0] ? ")" : "");
			cql_conn_close(c, CQL_CLOSE_AUTH, line);
		} else if (err.code == CQL_ERR_PROTOCOL &&
		    (h->version < c->opts.version ||
		     strstr(err.message, "version") != NULL))
			cql_conn_close(c, CQL_CLOSE_VERSION, detail);
		else
			cql_conn_close(c, CQL_CLOSE_HANDSHAKE, detail);
		return;
	default:
		snprintf(detail, sizeof(detail), "unexpected %s during STARTUP",
			 cql_opcode_name(h->opcode));
		cql_conn_close(c, CQL_CLOSE_PROTOCOL, detail);
		return;
	}
}

/* dispatch - hand one complete frame to its request */
static void dispatch(struct cql_conn *c, const struct cql_header *h,
		     const uint8_t *body)
{
	struct cql_response r;
	struct cql_error err;
	char detail[96];
	cql_response_fn cb;
	void *arg;
	int32_t id = h->stream;

	if (c->state == CONN_STARTUP || c->state == CONN_AUTH) {
		if (h->stream != CQL_HANDSHAKE_STREAM) {
			cql_conn_close(c, CQL_CLOSE_PROTOCOL, "answer on an unknown stream during STARTUP");
			return;
		}
		handshake_answer(c, h, body);
		return;
	}
	if (id < 0)			/* server-pushed EVENT: not registered for */
		return;
	/*
	 * A server answers our requests with RESULT, ERROR or (to OPTIONS)
	 * SUPPORTED, and the body of an ERROR always decodes: anything else
	 * means it is broken, and nothing it sends later can be trusted.
	 * Closing fails the request with CONN_LOST, which is retried.
	 */
	if (h->opcode != CQL_OP_RESULT && h->opcode != CQL_OP_ERROR &&
	    h->opcode != CQL_OP_SUPPORTED) {
		snprintf(detail, sizeof(detail), "unexpected %s (0x%02x) on stream %d",
			 cql_opcode_name(h->opcode), (unsigned)h->opcode, (int)id);
		cql_conn_close(c, CQL_CLOSE_PROTOCOL, detail);
		return;
	}
	if (h->opcode == CQL_OP_ERROR && cql_error_decode(body, h->length, &err) != 0) {
		cql_conn_close(c, CQL_CLOSE_PROTOCOL, "malformed ERROR body");
		return;
	}
	switch (cql_streams_complete(&c->streams, id, &cb, &arg)) {
	case CQL_STREAM_UNKNOWN:
		cql_conn_close(c, CQL_CLOSE_PROTOCOL, "answer for a stream not in use");
		return;
	case CQL_STREAM_LATE:		/* late answer to a timed-out request */
		return;
	case CQL_STREAM_ANSWER:
		break;
	}
	memset(&r, 0, sizeof(r));
	r.version = h->version;
	r.opcode = h->opcode;
	r.body = body;
	r.len = h->length;
	if (h->opcode == CQL_OP_ERROR) {
		r.status = CQL_STATUS_SERVER_ERROR;
		r.err = &err;
	} else {
		r.status = CQL_STATUS_OK;
	}
	deliver(c, cb, arg, &r);
	if (c->state == CONN_READY)
		timer_arm(c);
}

/* conn_read_cb - decode every complete frame in the input */
static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct cql_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[CQL_HEADER_LEN];
	struct cql_header h;
	const char *why;
	char detail[96];
	uint8_t *frame;

	c->depth++;
	c->last_read_ms = clock_now_ms();
	while (c->state == CONN_STARTUP || c->state == CONN_AUTH || c->state == CONN_READY) {
		size_t avail = evbuffer_get_length(in);

		if (avail < CQL_HEADER_LEN)
			break;
		evbuffer_copyout(in, hdr, sizeof(hdr));
		if (cql_header_decode(hdr, sizeof(hdr), c->opts.max_body, &h, &why)
		    != CQL_DECODE_COMPLETE) {
			cql_conn_close(c, CQL_CLOSE_PROTOCOL, why);
			break;
		}
		if (!h.response) {
			cql_conn_close(c, CQL_CLOSE_PROTOCOL, "request frame from the server");
			break;
		}
		if (h.flags & CQL_FLAG_COMPRESSION) {
			cql_conn_close(c, CQL_CLOSE_PROTOCOL, "compressed frame (never asked for)");
			break;
		}
		if (avail < CQL_HEADER_LEN + (size_t)h.length)
			break;
		frame = evbuffer_pullup(in, (ev_ssize_t)(CQL_HEADER_LEN + h.length));
		if (frame == NULL) {
			cql_conn_close(c, CQL_CLOSE_IO, "out of memory");
			break;
		}
		if (h.flags & (CQL_FLAG_TRACING | CQL_FLAG_WARNING |
			       CQL_FLAG_CUSTOM_PAYLOAD)) {
			/*
			 * Tracing id, warnings and custom payload precede the
			 * body; we never ask for them, but warnings may come.
			 */
			struct cql_rd rd;
			size_t skip;

			cql_rd_init(&rd, frame + CQL_HEADER_LEN, h.length);
			if (h.flags & CQL_FLAG_TRACING)
				(void)cql_rd_raw(&rd, 16);
			if (h.flags & CQL_FLAG_WARNING)
				cql_rd_skip_string_list(&rd);
			if (h.flags & CQL_FLAG_CUSTOM_PAYLOAD) {
				uint16_t i, n = cql_rd_short(&rd);
				int32_t bl;

				for (i = 0; i < n && !rd.err; i++) {
					(void)cql_rd_string(&rd, &skip);
					(void)cql_rd_bytes(&rd, &bl);
				}
			}
			if (rd.err) {
				cql_conn_close(c, CQL_CLOSE_PROTOCOL, "malformed frame prefix");
				break;
			}
			skip = rd.off;
			h.length -= (uint32_t)skip;
			dispatch(c, &h, frame + CQL_HEADER_LEN + skip);
			h.length += (uint32_t)skip;
		} else {
			dispatch(c, &h, frame + CQL_HEADER_LEN);
		}
		if (c->state == CONN_CLOSED || c->free_pending)
			break;
		evbuffer_drain(in, CQL_HEADER_LEN + h.length);
	}
	(void)detail;
	c->depth--;
	conn_leave(c);
}

/* conn_event_cb - connected, EOF, error or timeout */
static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cql_conn *c = arg;
	char detail[300];

	(void)bev;
	c->depth++;
	if (what & BEV_EVENT_CONNECTED) {
		/*
		 * No Nagle: with several requests in flight, a small request
		 * written while an earlier one is unacknowledged would wait for
		 * the server's ACK, which comes piggybacked on its next answer,
		 * adding a whole round trip. Cassandra's drivers set it too.
		 */
		int one = 1;

		(void)setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY,
				 &one, sizeof(one));
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		handshake_send(c);
	} else if (what & BEV_EVENT_TIMEOUT) {
		cql_conn_close(c, c->state == CONN_CONNECTING ?
			       CQL_CLOSE_CONNECT_FAILED : CQL_CLOSE_HANDSHAKE,
			       c->state == CONN_CONNECTING ? "connect timeout"
							   : "handshake timeout");
	} else if (what & BEV_EVENT_EOF) {
		cql_conn_close(c, c->state == CONN_CONNECTING ?
			       CQL_CLOSE_CONNECT_FAILED : CQL_CLOSE_EOF,
			       "connection closed by server");
	} else if (what & BEV_EVENT_ERROR) {
		int e = EVUTIL_SOCKET_ERROR();
		unsigned long oe = c->ssl ? bufferevent_get_openssl_error(c->bev) : 0;

		if (c->ssl && (oe != 0 || SSL_get_verify_result(c->ssl) != X509_V_OK))
			cql_tls_error(c->ssl, oe, detail, sizeof(detail));
		else
			snprintf(detail, sizeof(detail), "%s",
				 evutil_socket_error_to_string(e));
		ERR_clear_error();
		cql_conn_close(c, c->state == CONN_CONNECTING ?
			       CQL_CLOSE_CONNECT_FAILED : CQL_CLOSE_IO, detail);
	}
	c->depth--;
	conn_leave(c);
}

/* cql_conn_is_ready - handshake done and not closed */
int cql_conn_is_ready(const struct cql_conn *c)
{
	return c->state == CONN_READY;
}

/* cql_conn_version - protocol version in use */
uint8_t cql_conn_version(const struct cql_conn *c)
{
	return c->opts.version;
}

/* cql_conn_in_flight - requests awaiting an answer */
unsigned cql_conn_in_flight(const struct cql_conn *c)
{
	return c->streams.busy;
}

/*
 * cql_conn_suspect - a request timed out and the server has sent nothing
 * since: it may have stopped answering. Any byte read (a late answer, the
 * heartbeat's SUPPORTED) clears it.
 */
int cql_conn_suspect(const struct cql_conn *c)
{
	return c->last_timeout_ms > c->last_read_ms;
}

/* cql_conn_label - "host:port" for log lines */
const char *cql_conn_label(const struct cql_conn *c)
{
	return c->label;
}
