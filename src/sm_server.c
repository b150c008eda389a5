/*
 * sm_server - the socketmap listener and its client connections
 *
 * DESCRIPTION
 *	See sm_server.h. Each client has a FIFO of requests; a request's
 *	reply is written when it and every request before it are answered.
 *
 *	Backpressure, so that no client can grow the daemon without bound:
 *	we stop reading from a client while it has
 *	sm_server_config.max_pipeline requests waiting, or while more than
 *	SM_OUT_SOFT_LIMIT bytes of its replies wait in our output buffer
 *	(it pipelines and does not read). Reading resumes when the output
 *	has drained and a request slot is free; requests already read are
 *	decoded then, in order. What is in flight when reading stops can
 *	still add to the output (up to max_pipeline replies of up to 100000
 *	bytes): a client whose queued output passes SM_OUT_HARD_LIMIT is
 *	closed with a log line, and one whose output makes no progress for
 *	the idle timeout is closed too. Postfix reads each reply before it
 *	asks again, so it never comes near either limit.
 *
 *	A client that shuts down its sending side (EOF) still gets the
 *	answers to every complete request it sent before the EOF; the
 *	connection is closed when they are written.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "clock.h"
#include "log.h"
#include "lookup_engine.h"
#include "netstring.h"
#include "sm_server.h"
#include "socketmap.h"

#define SM_MAX_LISTENERS	8	/* addresses listened on */
#define SM_PEER_MAX		64	/* "addr:port" text */
#define SM_LOG_INTERVAL_MS	10000	/* repeated client-limit lines */
#define SM_ACCEPT_PAUSE_MS	100	/* listeners rest when out of descriptors */
#define SM_LISTEN_BACKLOG	512	/* connections the kernel queues per listener */
#define SM_OUT_SOFT_LIMIT	(256 * 1024)	/* queued reply bytes: stop reading */
#define SM_OUT_HARD_LIMIT	(1024 * 1024)	/* queued reply bytes: close */

struct pending {
	struct pending *next;
	struct client *cl;
	struct lookup *lk;		/* while the engine works on it */
	int done;
	struct buf reply;
};

struct client {
	LIST_ENTRY(client) link;	/* the server's clients */
	struct sm_server *srv;
	struct bufferevent *bev;
	struct pending *head, *tail;
	unsigned npending;
	unsigned eof:1;			/* client sent EOF: answer, then close */
	unsigned busy:1;		/* client_process() is on the stack */
	unsigned reading:1;		/* EV_READ is enabled */
	unsigned paused:1;		/* reading stopped by a limit */
	unsigned doomed:1;		/* over the hard limit: close soon */
	char peer[SM_PEER_MAX];
};

struct sm_server {
	struct event_base *base;
	struct lookup_engine *engine;
	struct sm_server_config cfg;
	struct evconnlistener *listeners[SM_MAX_LISTENERS];
	char unix_paths[SM_MAX_LISTENERS][sizeof(((struct sockaddr_un *)0)->sun_path)];
	int nlisteners;
	int port;
	LIST_HEAD(, client) clients;
	unsigned nclients;
	uint64_t refused;		/* connections closed at MAX_CLIENTS */
	unsigned in_flight;
	struct log_limit limit_log;
	struct event *resume;		/* re-enables listeners paused by EMFILE */
};

/* sm_server_new - a server with no listener yet */
struct sm_server *sm_server_new(struct event_base *base,
				struct lookup_engine *engine,
				const struct sm_server_config *cfg)
{
	struct sm_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return NULL;
	LIST_INIT(&srv->clients);
	srv->base = base;
	srv->engine = engine;
	srv->cfg = *cfg;
	return srv;
}

/* client_free - cancel its lookups and close */
static void client_free(struct client *cl)
{
	struct sm_server *srv = cl->srv;
	struct pending *p, *next;

	for (p = cl->head; p; p = next) {
		next = p->next;
		if (!p->done) {
			if (p->lk)
				lookup_cancel(p->lk);
			srv->in_flight--;
		}
		buf_free(&p->reply);
		free(p);
	}
	LIST_REMOVE(cl, link);
	srv->nclients--;
	bufferevent_free(cl->bev);
	free(cl);
}

/*
 * send_reply - write a reply at once when nothing is queued before it.
 * Handing it to the bufferevent would arm the write event and disarm it
 * after the write: two epoll_ctl calls per lookup, for a reply that
 * almost always fits the socket buffer. What the socket does not take
 * (or an error, which the bufferevent then reports) goes the usual way.
 */
static void send_reply(struct client *cl, struct evbuffer *out, const void *data, size_t len)
{
	ssize_t n = 0;

	if (evbuffer_get_length(out) == 0) {
		n = send(bufferevent_getfd(cl->bev), data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			n = 0;
	}
	if ((size_t)n < len)
		evbuffer_add(out, (const char *)data + n, len - (size_t)n);
}

/* out_len - reply bytes queued for a client that the socket did not take */
static size_t out_len(const struct client *cl)
{
	return evbuffer_get_length(bufferevent_get_output(cl->bev));
}

/*
 * kick - run client_process() from the event loop, soon. Used from the
 * engine's callback, where freeing the client (and with it cancelling
 * its other lookups, which the engine may be walking) is not safe.
 */
static void kick(struct client *cl)
{
	bufferevent_trigger(cl->bev, EV_WRITE,
			    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* flush - write the replies that are ready, in order */
static void flush(struct client *cl)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);
	struct pending *p;

	while ((p = cl->head) != NULL && p->done) {
		cl->head = p->next;
		if (cl->head == NULL)
			cl->tail = NULL;
		cl->npending--;
		send_reply(cl, out, p->reply.data, p->reply.len);
		buf_free(&p->reply);
		free(p);
	}
	if (!cl->doomed && evbuffer_get_length(out) > SM_OUT_HARD_LIMIT)
		cl->doomed = 1;
	if (cl->busy)
		return;		/* client_process() looks at the state itself */
	if (cl->doomed || (cl->eof && cl->head == NULL) ||
	    (cl->paused && cl->npending < cl->srv->cfg.max_pipeline &&
	     evbuffer_get_length(out) < SM_OUT_SOFT_LIMIT))
		kick(cl);
}

/* on_reply - the engine answered one request */
static void on_reply(void *arg, enum socketmap_status st, const char *data,
		     size_t len)
{
	struct pending *p = arg;
	struct client *cl = p->cl;

	cl->srv->in_flight--;
	p->lk = NULL;
	p->done = 1;
	if (socketmap_encode_reply(&p->reply, st, data, len) != 0) {
		/* The engine keeps replies under the limit; never send an oversized one. */
		buf_reset(&p->reply);
		(void)socketmap_encode_reply(&p->reply, SOCKETMAP_PERM,
					     SOCKETMAP_TEXT("reply too long"));
	}
	if (p->reply.oom) {
		buf_reset(&p->reply);
		(void)socketmap_encode_reply(&p->reply, SOCKETMAP_TEMP,
					     SOCKETMAP_TEXT("out of memory"));
	}
	flush(cl);
}

/* client_bad_input - log once, close this client */
static void client_bad_input(struct client *cl, const char *why)
{
	msg_warn("client %s: %s; closing the connection", cl->peer, why);
	client_free(cl);
}

/* set_reading - enable or disable EV_READ, only on a change */
static void set_reading(struct client *cl, int on)
{
	if (on && !cl->reading)
		bufferevent_enable(cl->bev, EV_READ);
	else if (!on && cl->reading)
		bufferevent_disable(cl->bev, EV_READ);
	cl->reading = on ? 1 : 0;
}

/* start_request - queue one decoded request and hand it to the engine */
static int start_request(struct client *cl, const char *payload, size_t plen)
{
	struct pending *p;
	struct lookup *lk;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->cl = cl;
	buf_init(&p->reply);
	if (cl->tail)
		cl->tail->next = p;
	else
		cl->head = p;
	cl->tail = p;
	cl->npending++;
	cl->srv->in_flight++;
	/*
	 * The engine may answer at once, and on_reply() may then
	 * write and free p: touch p only if it handed back a handle.
	 */
	lk = lookup_start(cl->srv->engine, payload, plen, on_reply, p);
	if (lk != NULL)
		p->lk = lk;
	return 0;
}

/*
 * client_process - decode and start every complete request that the
 * limits allow, then read on or pause. Returns -1 when it closed the
 * client. Called from the event loop only, never from the engine.
 */
static int client_process(struct client *cl)
{
	struct evbuffer *in = bufferevent_get_input(cl->bev);
	const char *payload, *why = NULL;
	size_t plen, used, avail;
	int blocked, need_more = 0;
	char *data;

	cl->busy = 1;
	while (!cl->doomed && cl->npending < cl->srv->cfg.max_pipeline &&
	       out_len(cl) < SM_OUT_SOFT_LIMIT && (avail = evbuffer_get_length(in)) > 0) {
		/* Enough for the longest netstring, never the whole socket. */
		size_t look = avail < NETSTRING_MAX_LEN + NETSTRING_MAX_DIGITS + 2 ?
			      avail : NETSTRING_MAX_LEN + NETSTRING_MAX_DIGITS + 2;

		if ((data = (char *)evbuffer_pullup(in, (ev_ssize_t)look)) == NULL) {
			why = "out of memory";
			break;
		}
		switch (netstring_decode(data, look, NETSTRING_MAX_LEN, &payload,
					 &plen, &used, &why)) {
		case NETSTRING_NEED_MORE:
			need_more = 1;
			break;
		case NETSTRING_ERROR:
			break;
		case NETSTRING_COMPLETE:
			if (start_request(cl, payload, plen) != 0)
				why = "out of memory";
			else
				evbuffer_drain(in, used);
			break;
		}
		if (why != NULL || need_more)
			break;
	}
	cl->busy = 0;
	if (why != NULL) {
		client_bad_input(cl, why);
		return -1;
	}
	if (cl->doomed) {
		msg_warn("client %s: more than %u bytes of replies not read; "
			 "closing the connection", cl->peer, (unsigned)SM_OUT_HARD_LIMIT);
		client_free(cl);
		return -1;
	}
	blocked = cl->npending >= cl->srv->cfg.max_pipeline ||
		  out_len(cl) >= SM_OUT_SOFT_LIMIT;
	cl->paused = blocked ? 1 : 0;
	if (cl->eof) {
		if (cl->head == NULL && !blocked && out_len(cl) == 0) {
			if (evbuffer_get_length(in) > 0)
				msg_debug("client %s: EOF inside a request", cl->peer);
			client_free(cl);
			return -1;
		}
		return 0;	/* the write callback comes back when it drains */
	}
	set_reading(cl, !blocked);
	return 0;
}

/* client_read_cb - new bytes from the client */
static void client_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)client_process(arg);
}

/*
 * client_write_cb - the queued output drained (the low watermark is 0),
 * or kick() asked: resume reading, finish after EOF, or close.
 */
static void client_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)client_process(arg);
}

/* client_event_cb - EOF, error or timeout */
static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *cl = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		/* Half-closed, maybe: what it asked before the EOF is owed. */
		cl->eof = 1;
		cl->reading = 0;	/* libevent stopped reading */
		(void)client_process(cl);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING)) {
		msg_warn("client %s: no reply read for %d ms; closing the connection",
			 cl->peer, cl->srv->cfg.idle_timeout_ms);
		client_free(cl);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && cl->npending > 0) {
		/* Not idle: we owe it answers. Keep waiting. */
		cl->reading = 0;
		set_reading(cl, 1);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		msg_debug("client %s: idle, closing", cl->peer);
	else if (what & BEV_EVENT_ERROR)
		msg_debug("client %s: %s", cl->peer,
			  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	client_free(cl);
}

/* peer_text - "addr:port" of an accepted socket */
static void peer_text(const struct sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, (unsigned)ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, (unsigned)ntohs(s6->sin6_port));
	} else {
		snprintf(out, len, "local");
	}
}

/* accept_cb - a new Postfix connection */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct sm_server *srv = arg;
	struct client *cl;
	struct timeval tv;

	(void)l;
	(void)salen;
	if (srv->nclients >= srv->cfg.max_clients) {
		msg_limited(&srv->limit_log, SM_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "client limit of %u reached; closing new connections",
			    srv->cfg.max_clients);
		srv->refused++;
		evutil_closesocket(fd);
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	cl->srv = srv;
	peer_text(sa, cl->peer, sizeof(cl->peer));
	cl->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (cl->bev == NULL) {
		evutil_closesocket(fd);
		free(cl);
		return;
	}
	bufferevent_setcb(cl->bev, client_read_cb, client_write_cb, client_event_cb, cl);
	tv = clock_timeval(srv->cfg.idle_timeout_ms);
	/* The write timeout runs only while output waits: a client that reads nothing. */
	bufferevent_set_timeouts(cl->bev, &tv, &tv);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	cl->reading = 1;
	LIST_INSERT_HEAD(&srv->clients, cl, link);
	srv->nclients++;
}

/* resume_cb - accept again after a pause */
static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sm_server *srv = arg;
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < srv->nlisteners; i++)
		evconnlistener_enable(srv->listeners[i]);
}

/*
 * listener_error_cb - accept() failed: log, keep going. Out of descriptors
 * (or memory), the connection stays in the backlog and the listener stays
 * readable: accepting again at once would spin the loop at 100% CPU until
 * a client leaves, so the listeners rest a moment first.
 */
static void listener_error_cb(struct evconnlistener *l, void *arg)
{
	struct sm_server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR(), i;
	struct timeval tv = clock_timeval(SM_ACCEPT_PAUSE_MS);

	(void)l;
	msg_limited(&srv->limit_log, SM_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
		    "accept: %s", evutil_socket_error_to_string(err));
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return;
	if (srv->resume == NULL &&
	    (srv->resume = evtimer_new(srv->base, resume_cb, srv)) == NULL)
		return;
	for (i = 0; i < srv->nlisteners; i++)
		evconnlistener_disable(srv->listeners[i]);
	evtimer_add(srv->resume, &tv);
}

/* add_listener - start accepting on a listener; record the first TCP port */
static int add_listener(struct sm_server *srv, struct evconnlistener *l,
			const char *unix_path)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = evconnlistener_get_fd(l);

	evconnlistener_set_error_cb(l, listener_error_cb);
	if (srv->port == 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	snprintf(srv->unix_paths[srv->nlisteners], sizeof(srv->unix_paths[0]), "%s",
		 unix_path ? unix_path : "");
	srv->listeners[srv->nlisteners++] = l;
	return 0;
}

/*
 * give_group - the socket file to group, with no chown() when the file has
 * it already: the unit's SystemCallFilter=~@privileged refuses chown(), and
 * a file the service creates has the service's group (postfix) anyway.
 */
static int give_group(const char *path, const char *group, char *err, size_t errlen)
{
	struct group *gr = getgrnam(group);
	struct stat st;

	if (gr == NULL) {
		snprintf(err, errlen, "cannot give %s to group %s: no such group", path, group);
		return -1;
	}
	if (stat(path, &st) == 0 && st.st_gid == gr->gr_gid)
		return 0;
	if (chown(path, (uid_t)-1, gr->gr_gid) != 0) {
		snprintf(err, errlen, "cannot give %s to group %s: %s", path, group,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* sm_server_listen - bind one endpoint */
int sm_server_listen(struct sm_server *srv, const struct listen_endpoint *ep,
		     int mode, const char *group, char *err, size_t errlen)
{
	struct evconnlistener *l;
	const char *path = NULL;
	struct stat st;

	if (srv->nlisteners == SM_MAX_LISTENERS) {
		snprintf(err, errlen, "too many listeners");
		return -1;
	}
	if (ep->is_unix) {
		path = ((const struct sockaddr_un *)&ep->ss)->sun_path;
		if (lstat(path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen, "%s exists and is not a socket", path);
				return -1;
			}
			(void)unlink(path);	/* stale, from an earlier run */
		}
	}
	l = evconnlistener_new_bind(srv->base, accept_cb, srv,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
				    (ep->is_unix ? 0 : LEV_OPT_REUSEABLE), SM_LISTEN_BACKLOG,
				    (const struct sockaddr *)&ep->ss, (int)ep->len);
	if (l == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (path) {
		if (group && *group && give_group(path, group, err, errlen) != 0) {
			evconnlistener_free(l);
			(void)unlink(path);
			return -1;
		}
		if (chmod(path, (mode_t)mode) != 0) {
			snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
			evconnlistener_free(l);
			(void)unlink(path);
			return -1;
		}
	}
	return add_listener(srv, l, path);
}

/* sm_server_adopt - a listening socket passed by systemd */
int sm_server_adopt(struct sm_server *srv, int fd, char *err, size_t errlen)
{
	struct evconnlistener *l;

	if (srv->nlisteners == SM_MAX_LISTENERS) {
		snprintf(err, errlen, "too many listeners");
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	l = evconnlistener_new(srv->base, accept_cb, srv,
			       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l == NULL) {
		snprintf(err, errlen, "fd %d: %s", fd, strerror(errno));
		return -1;
	}
	return add_listener(srv, l, NULL);
}

/* sm_server_last_address - where the latest listener listens, for the log */
void sm_server_last_address(const struct sm_server *srv, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int i = srv->nlisteners - 1;

	if (i < 0) {
		snprintf(out, len, "nothing");
		return;
	}
	if (srv->unix_paths[i][0]) {
		snprintf(out, len, "unix:%s", srv->unix_paths[i]);
		return;
	}
	/* The port actually bound: PORT=0 asks the kernel for one. */
	if (getsockname(evconnlistener_get_fd(srv->listeners[i]),
			(struct sockaddr *)&ss, &sl) != 0) {
		snprintf(out, len, "?");
		return;
	}
	if (len > 5) {
		/* As LISTEN spells it. */
		snprintf(out, len, "inet:");
		peer_text((const struct sockaddr *)&ss, out + 5, len - 5);
	}
}

/* sm_server_port - bound port of the first listener */
int sm_server_port(const struct sm_server *srv)
{
	return srv->port;
}

/* sm_server_stop_listening - close all listeners */
void sm_server_stop_listening(struct sm_server *srv)
{
	int i;

	for (i = 0; i < srv->nlisteners; i++) {
		evconnlistener_free(srv->listeners[i]);
		if (srv->unix_paths[i][0])
			(void)unlink(srv->unix_paths[i]);
	}
	srv->nlisteners = 0;
}

/* sm_server_in_flight - lookups not yet answered */
unsigned sm_server_in_flight(const struct sm_server *srv)
{
	return srv->in_flight;
}

/* sm_server_unsent - bytes of replies not yet written to clients */
size_t sm_server_unsent(const struct sm_server *srv)
{
	const struct client *cl;
	size_t n = 0;

	LIST_FOREACH(cl, &srv->clients, link)
		n += evbuffer_get_length(bufferevent_get_output(cl->bev));
	return n;
}

/* sm_server_clients - open client connections */
unsigned sm_server_clients(const struct sm_server *srv)
{
	return srv->nclients;
}

/* sm_server_refused - connections closed because MAX_CLIENTS were open */
uint64_t sm_server_refused(const struct sm_server *srv)
{
	return srv->refused;
}

/* sm_server_free - close everything */
void sm_server_free(struct sm_server *srv)
{
	if (srv == NULL)
		return;
	sm_server_stop_listening(srv);
	while (!LIST_EMPTY(&srv->clients))
		client_free(LIST_FIRST(&srv->clients));
	if (srv->resume)
		event_free(srv->resume);
	free(srv);
}
