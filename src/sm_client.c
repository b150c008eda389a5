/*
 * sm_client - one Postfix connection (see sm_client.h)
 *
 * DESCRIPTION
 *	Four events per client: rev (readable; persistent, no timeout),
 *	idle (a timer for the idle timeout, added and deleted with rev), wev
 *	(writable; added only while replies wait, its timeout is the write
 *	timeout) and kick (run client_process() from the loop, for the
 *	engine's callback, where freeing the client is not safe).
 *
 *	The idle timeout restarts with every read, but the timer is not
 *	re-armed on every read: re-adding a timed event was a timer-heap
 *	update per request (libevent re-adds a persistent event's timeout
 *	each time it fires). A read only stamps the time (the coarse clock,
 *	no hardware counter); when the timer fires it compares the stamp
 *	with the clock and closes the client, or waits the rest of the
 *	timeout from the last read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "lookup_engine.h"
#include "netstring.h"
#include "sm_client.h"
#include "socketmap.h"

#define SM_OUT_SOFT_LIMIT	(256 * 1024)	/* queued reply bytes: stop reading */
#define SM_OUT_HARD_LIMIT	(1024 * 1024)	/* queued reply bytes: close */
#define SM_IN_MAX	(NETSTRING_MAX_LEN + NETSTRING_MAX_DIGITS + 2)	/* longest netstring */
#define SM_BUF_KEEP		4096	/* bytes of an emptied buffer kept for reuse */
#define SM_SPARE_MAX		64	/* answered request records kept for reuse */

struct pending {
	struct pending *next;
	struct sm_client *cl;
	struct lookup *lk;		/* while the engine works on it */
	int done;
	struct buf reply;
};

struct sm_client {
	LIST_ENTRY(sm_client) link;	/* the server's clients */
	struct sm_clients *set;
	int fd;
	struct event *rev;		/* readable */
	struct event *idle;		/* the idle timeout, while rev is added */
	int64_t last_read_ms;		/* clock_coarse_ms() of the latest read */
	struct event *wev;		/* writable, or no progress for the idle timeout */
	struct event *kick;		/* client_process() from the loop */
	struct buf in;			/* bytes read and not decoded: in.data[in_off..] */
	size_t in_off;
	struct buf out;			/* replies the socket did not take: out.data[out_off..] */
	size_t out_off;
	struct pending *head, *tail;
	unsigned npending;
	unsigned eof:1;			/* client sent EOF: answer, then close */
	unsigned busy:1;		/* client_process() is on the stack */
	unsigned reading:1;		/* rev is added */
	unsigned writing:1;		/* wev is added */
	unsigned paused:1;		/* reading stopped by a limit */
	unsigned doomed:1;		/* over the hard limit: close soon */
	unsigned broken:1;		/* the socket failed: close soon */
	char peer[SM_PEER_MAX];
};

/* sm_clients_init - an empty set */
void sm_clients_init(struct sm_clients *set, struct event_base *base,
		     struct lookup_engine *engine, const struct sm_server_config *cfg)
{
	set->base = base;
	set->engine = engine;
	set->cfg = *cfg;
	LIST_INIT(&set->list);
	set->n = 0;
	set->in_flight = 0;
	spare_init(&set->spare, sizeof(struct pending), SM_SPARE_MAX);
}

/* buf_drop - empty a buffer, giving back memory a burst made it grow to */
static void buf_drop(struct buf *b, size_t *off)
{
	*off = 0;
	if (b->cap > SM_BUF_KEEP)
		buf_free(b);
	else
		buf_reset(b);
}

/* pending_new - a cleared request record, a kept one if there is one */
static struct pending *pending_new(struct sm_clients *set)
{
	struct pending *p = spare_get(&set->spare);

	if (p != NULL)
		memset(p, 0, sizeof(*p));
	return p;
}

/* pending_put - a record done with, kept for the next request */
static void pending_put(struct sm_clients *set, struct pending *p)
{
	buf_free(&p->reply);
	spare_put(&set->spare, p);
}

/* out_len - reply bytes queued that the socket did not take */
static size_t out_len(const struct sm_client *cl)
{
	return cl->out.len - cl->out_off;
}

/* client_free - cancel its lookups and close */
static void client_free(struct sm_client *cl)
{
	struct pending *p, *next;

	for (p = cl->head; p; p = next) {
		next = p->next;
		if (!p->done) {
			if (p->lk)
				lookup_cancel(p->lk);
			cl->set->in_flight--;
		}
		pending_put(cl->set, p);
	}
	LIST_REMOVE(cl, link);
	cl->set->n--;
	event_free(cl->rev);
	event_free(cl->idle);
	event_free(cl->wev);
	event_free(cl->kick);
	close(cl->fd);
	buf_free(&cl->in);
	buf_free(&cl->out);
	free(cl);
}

/* kick - run client_process() from the event loop, soon */
static void kick(struct sm_client *cl)
{
	event_active(cl->kick, EV_TIMEOUT, 1);
}

/*
 * write_out - one send() of every queued reply byte; what the socket does
 * not take waits for wev. A failed socket is marked broken, for the
 * caller (or the loop) to close.
 */
static void write_out(struct sm_client *cl)
{
	struct timeval tv;
	ssize_t n;

	if (out_len(cl) == 0 || cl->broken)
		return;
	n = send(cl->fd, cl->out.data + cl->out_off, out_len(cl), MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		msg_debug("client %s: %s", cl->peer, strerror(errno));
		cl->broken = 1;
		return;
	}
	if (n > 0)
		cl->out_off += (size_t)n;
	if (out_len(cl) == 0) {
		buf_drop(&cl->out, &cl->out_off);
		if (cl->writing)
			event_del(cl->wev);
		cl->writing = 0;
	} else if (!cl->writing) {
		/* The write timeout runs only while output waits: a client that reads nothing. */
		tv = clock_timeval(cl->set->cfg.idle_timeout_ms);
		event_add(cl->wev, &tv);
		cl->writing = 1;
	}
}

/* take_ready - move the replies that are ready, in order, to the output */
static void take_ready(struct sm_client *cl)
{
	struct pending *p;

	while ((p = cl->head) != NULL && p->done) {
		cl->head = p->next;
		if (cl->head == NULL)
			cl->tail = NULL;
		cl->npending--;
		buf_append(&cl->out, p->reply.data, p->reply.len);
		pending_put(cl->set, p);
	}
	if (cl->out.oom)
		cl->broken = 1;		/* a reply would be lost: the client must retry */
}

/* flush_out - queue the ready replies and send; doom a client far behind */
static void flush_out(struct sm_client *cl)
{
	take_ready(cl);
	write_out(cl);
	/* Only what the socket did not take counts against the client. */
	if (!cl->doomed && out_len(cl) > SM_OUT_HARD_LIMIT)
		cl->doomed = 1;
}

/* on_reply - the engine answered one request */
static void on_reply(void *arg, enum socketmap_status st, const char *data, size_t len)
{
	struct pending *p = arg;
	struct sm_client *cl = p->cl;
	/*
	 * The oldest request's reply (every earlier one has left the queue)
	 * goes straight to the output: no buffer of its own to allocate, copy
	 * and free. Out of memory there closes the client (take_ready).
	 */
	struct buf *b = p == cl->head ? &cl->out : &p->reply;

	cl->set->in_flight--;
	p->lk = NULL;
	p->done = 1;
	if (socketmap_encode_reply(b, st, data, len) != 0) {
		/* The engine keeps replies under the limit; never send an oversized one. */
		(void)socketmap_encode_reply(b, SOCKETMAP_PERM, SOCKETMAP_TEXT("reply too long"));
	}
	if (p->reply.oom) {
		buf_reset(&p->reply);
		(void)socketmap_encode_reply(&p->reply, SOCKETMAP_TEMP,
					     SOCKETMAP_TEXT("out of memory"));
	}
	if (cl->busy)
		return;		/* client_process() gathers the batch and writes it */
	flush_out(cl);
	if (cl->doomed || cl->broken || (cl->eof && cl->head == NULL) ||
	    (cl->paused && cl->npending < cl->set->cfg.max_pipeline &&
	     out_len(cl) < SM_OUT_SOFT_LIMIT))
		kick(cl);
}

/* set_reading - add or delete rev and its idle timer, only on a change */
static void set_reading(struct sm_client *cl, int on)
{
	struct timeval tv;

	if (on && !cl->reading) {
		/* As a read would: the client has the whole timeout from now. */
		cl->last_read_ms = clock_coarse_ms();
		tv = clock_timeval(cl->set->cfg.idle_timeout_ms);
		event_add(cl->rev, NULL);
		evtimer_add(cl->idle, &tv);
	} else if (!on && cl->reading) {
		event_del(cl->rev);
		evtimer_del(cl->idle);
	}
	cl->reading = on ? 1 : 0;
}

/* start_request - queue one decoded request and hand it to the engine */
static int start_request(struct sm_client *cl, const char *payload, size_t plen)
{
	struct pending *p;
	struct lookup *lk;

	if ((p = pending_new(cl->set)) == NULL)
		return -1;
	p->cl = cl;
	buf_init(&p->reply);
	if (cl->tail)
		cl->tail->next = p;
	else
		cl->head = p;
	cl->tail = p;
	cl->npending++;
	cl->set->in_flight++;
	/*
	 * The engine may answer at once: on_reply() then only marks p done
	 * (busy is set). Touch p only if it handed back a handle.
	 */
	lk = lookup_start(cl->set->engine, payload, plen, on_reply, p);
	if (lk != NULL)
		p->lk = lk;
	return 0;
}

/* blocked - a limit says: read no more requests for now */
static int blocked(const struct sm_client *cl)
{
	return cl->npending >= cl->set->cfg.max_pipeline || out_len(cl) >= SM_OUT_SOFT_LIMIT;
}

/*
 * decode - start every complete request of data[0..len) that the limits
 * allow; the bytes used, or -1 with *why (malformed, no memory).
 */
static ssize_t decode(struct sm_client *cl, const char *data, size_t len, const char **why)
{
	const char *payload;
	size_t pos = 0, plen, used;

	while (pos < len && !cl->doomed && !blocked(cl)) {
		/* Enough for the longest netstring, never the whole buffer. */
		size_t look = len - pos < SM_IN_MAX ? len - pos : SM_IN_MAX;

		switch (netstring_decode(data + pos, look, NETSTRING_MAX_LEN, &payload, &plen,
					 &used, why)) {
		case NETSTRING_NEED_MORE:
			return (ssize_t)pos;
		case NETSTRING_ERROR:
			return -1;
		case NETSTRING_COMPLETE:
			if (start_request(cl, payload, plen) != 0) {
				*why = "out of memory";
				return -1;
			}
			pos += used;
			take_ready(cl);		/* cache hits, in order */
			if (out_len(cl) >= SM_OUT_SOFT_LIMIT)
				write_out(cl);	/* big replies: let the socket take them now */
			break;
		}
	}
	return (ssize_t)pos;
}

/*
 * consume - decode fresh bytes (n of them in the scratch buffer, or none)
 * after what was left over; keep what could not be decoded yet. -1 with
 * *why on bad input.
 */
static int consume(struct sm_client *cl, const char *fresh, size_t n, const char **why)
{
	ssize_t used;

	if (cl->in.len == cl->in_off && n > 0) {
		/* The common case: nothing left over, decode in place. */
		if ((used = decode(cl, fresh, n, why)) < 0)
			return -1;
		if ((size_t)used < n) {
			buf_drop(&cl->in, &cl->in_off);
			buf_append(&cl->in, fresh + used, n - (size_t)used);
		}
	} else {
		if (n > 0) {
			if (cl->in_off > 0) {
				memmove(cl->in.data, cl->in.data + cl->in_off, cl->in.len - cl->in_off);
				cl->in.len -= cl->in_off;
				cl->in_off = 0;
			}
			buf_append(&cl->in, fresh, n);
		}
		if ((used = decode(cl, (const char *)cl->in.data + cl->in_off,
				   cl->in.len - cl->in_off, why)) < 0)
			return -1;
		cl->in_off += (size_t)used;
		if (cl->in_off == cl->in.len)
			buf_drop(&cl->in, &cl->in_off);
	}
	if (cl->in.oom) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/*
 * client_process - decode and start what the limits allow, write the
 * batch's replies, then read on, pause, or close. Returns -1 when it
 * closed the client. Called from the event loop only, never from the
 * engine.
 */
static int client_process(struct sm_client *cl, const char *fresh, size_t n)
{
	const char *why = NULL;
	int rc, stop;

	cl->busy = 1;
	rc = cl->doomed || cl->broken ? 0 : consume(cl, fresh, n, &why);
	cl->busy = 0;
	if (rc == 0)
		flush_out(cl);
	if (rc != 0) {
		msg_warn("client %s: %s; closing the connection", cl->peer, why);
		client_free(cl);
		return -1;
	}
	if (cl->doomed) {
		msg_warn("client %s: more than %u bytes of replies not read; "
			 "closing the connection", cl->peer, (unsigned)SM_OUT_HARD_LIMIT);
		client_free(cl);
		return -1;
	}
	if (cl->broken) {
		client_free(cl);
		return -1;
	}
	stop = blocked(cl);
	cl->paused = stop ? 1 : 0;
	if (cl->eof) {
		if (cl->head == NULL && !stop && out_len(cl) == 0) {
			if (cl->in.len > cl->in_off)
				msg_debug("client %s: EOF inside a request", cl->peer);
			client_free(cl);
			return -1;
		}
		return 0;	/* wev or on_reply() comes back when it drains */
	}
	set_reading(cl, !stop);
	return 0;
}

/* idle_cb - the idle timer: close a client silent that long, or wait the rest */
static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sm_client *cl = arg;
	int64_t timeout = cl->set->cfg.idle_timeout_ms;
	int64_t quiet = clock_coarse_ms() - cl->last_read_ms;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (quiet >= timeout && cl->npending == 0) {
		msg_debug("client %s: idle, closing", cl->peer);
		client_free(cl);
		return;
	}
	/* Read since the timer was set, or answers still owed (not idle): wait again. */
	tv = clock_timeval(quiet >= 0 && quiet < timeout ? timeout - quiet : timeout);
	evtimer_add(cl->idle, &tv);
}

/* read_cb - readable: one read */
static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sm_client *cl = arg;
	char *scratch = cl->set->scratch;
	ssize_t n;

	(void)what;
	cl->last_read_ms = clock_coarse_ms();
	n = recv(fd, scratch, SM_READ_CHUNK, 0);
	if (n > 0) {
		(void)client_process(cl, scratch, (size_t)n);
	} else if (n == 0) {
		/* Half-closed, maybe: what it asked before the EOF is owed. */
		cl->eof = 1;
		set_reading(cl, 0);
		(void)client_process(cl, NULL, 0);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		msg_debug("client %s: %s", cl->peer, strerror(errno));
		client_free(cl);
	}
}

/* write_cb - writable again, or no progress for the idle timeout */
static void write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sm_client *cl = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		msg_warn("client %s: no reply read for %d ms; closing the connection",
			 cl->peer, cl->set->cfg.idle_timeout_ms);
		client_free(cl);
		return;
	}
	write_out(cl);
	if (cl->broken || out_len(cl) == 0)
		(void)client_process(cl, NULL, 0);	/* resume, finish after EOF, or close */
}

/* kick_cb - the engine's callback asked for client_process() */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)client_process(arg, NULL, 0);
}

/* sm_client_start - a new connection */
int sm_client_start(struct sm_clients *set, int fd, const char *peer)
{
	struct sm_client *cl = calloc(1, sizeof(*cl));

	if (cl == NULL ||
	    (cl->rev = event_new(set->base, fd, EV_READ | EV_PERSIST, read_cb, cl)) == NULL ||
	    (cl->idle = evtimer_new(set->base, idle_cb, cl)) == NULL ||
	    (cl->wev = event_new(set->base, fd, EV_WRITE | EV_PERSIST, write_cb, cl)) == NULL ||
	    (cl->kick = event_new(set->base, -1, 0, kick_cb, cl)) == NULL) {
		if (cl) {
			if (cl->rev)
				event_free(cl->rev);
			if (cl->idle)
				event_free(cl->idle);
			if (cl->wev)
				event_free(cl->wev);
			free(cl);
		}
		close(fd);
		return -1;
	}
	cl->set = set;
	cl->fd = fd;
	snprintf(cl->peer, sizeof(cl->peer), "%s", peer);
	buf_init(&cl->in);
	buf_init(&cl->out);
	LIST_INSERT_HEAD(&set->list, cl, link);
	set->n++;
	set_reading(cl, 1);
	return 0;
}

/* sm_clients_unsent - reply bytes not yet written */
size_t sm_clients_unsent(const struct sm_clients *set)
{
	const struct sm_client *cl;
	size_t n = 0;

	LIST_FOREACH(cl, &set->list, link)
		n += out_len(cl);
	return n;
}

/* sm_clients_close_all - close everything */
void sm_clients_close_all(struct sm_clients *set)
{
	while (!LIST_EMPTY(&set->list))
		client_free(LIST_FIRST(&set->list));
	spare_free(&set->spare);
}
