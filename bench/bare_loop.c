/*
 * bare_loop - the bare-epoll socketmap server loop of the bench baselines
 *
 * SYNOPSIS
 *	int bare_main(int argc, char **argv, const char *name, bare_answer_fn answer,
 *		      int (*extra_opt)(const char *opt, const char *val),
 *		      void (*on_hup)(void));
 *
 * DESCRIPTION
 *	The loop shared by bench/bare_server.c (the loopback limit of
 *	scenario 1) and bench/oracle_server.c (the best any socketmap table
 *	could do in scenario 4); see bare_loop.h. Level-triggered by default:
 *	`--trigger edge` adds EPOLLET, and because a short read() of a stream
 *	socket means the socket was drained, edge mode still makes one read per
 *	event (a read that fills the buffer is followed by another). Replies a
 *	client is too slow to take wait in a per-connection buffer with
 *	EPOLLOUT armed; the bench clients never make that happen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bare_loop.h"
#include "netstring.h"

#define BARE_IN_CAP	(NETSTRING_MAX_LEN + NETSTRING_MAX_DIGITS + 2)	/* bytes: one whole request */
#define BARE_EVENTS	256	/* epoll events per wait */
#define BARE_BACKLOG	1024	/* listen queue, connections */

struct bare_conn {
	int fd;
	size_t inlen;
	struct buf pending;	/* replies write() did not take */
	char in[BARE_IN_CAP];
};

static volatile sig_atomic_t stopping, hup;

/* on_signal - stop the loop (SIGTERM, SIGINT) or note a SIGHUP */
static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup = 1;
	else
		stopping = 1;
}

/* conn_close - forget a connection */
static void conn_close(struct bare_conn *c)
{
	close(c->fd);
	buf_free(&c->pending);
	free(c);
}

/* listen_on - a listening socket on 127.0.0.1:port; the port written to port_file */
static int listen_on(const char *addr, const char *port_file)
{
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	int one = 1, fd;
	FILE *f;

	if (colon == NULL || inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr) != 1)
		return -1;
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, BARE_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0)
		return -1;
	if (port_file != NULL) {
		if ((f = fopen(port_file, "w")) == NULL)
			return -1;
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		fclose(f);
	}
	return fd;
}

/* accept_all - accept every waiting connection */
static void accept_all(int ep, int lfd, unsigned trig)
{
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		struct bare_conn *c = malloc(sizeof(*c));
		struct epoll_event ev = {.events = EPOLLIN | trig};

		if (c == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->inlen = 0;
		buf_init(&c->pending);
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			conn_close(c);
	}
}

/* flush - write out; what is left waits in pending with EPOLLOUT armed. 0, or -1: close */
static int flush(int ep, struct bare_conn *c, struct buf *out, unsigned trig)
{
	struct epoll_event ev = {.data.ptr = c};
	int was_waiting = c->pending.len > 0;
	ssize_t w = 0;

	if (c->pending.len == 0 && out->len > 0) {
		w = write(c->fd, out->data, out->len);
		if (w < 0 && errno != EAGAIN)
			return -1;
		if (w < 0)
			w = 0;
		if ((size_t)w == out->len)
			return 0;
	}
	buf_append(&c->pending, out->data + w, out->len - (size_t)w);
	if (c->pending.len > 0) {
		w = write(c->fd, c->pending.data, c->pending.len);
		if (w < 0 && errno != EAGAIN)
			return -1;
		if (w > 0) {
			memmove(c->pending.data, c->pending.data + w, c->pending.len - (size_t)w);
			c->pending.len -= (size_t)w;
		}
	}
	if (was_waiting == (c->pending.len > 0))
		return 0;	/* no epoll_ctl on the hot path */
	ev.events = EPOLLIN | trig | (c->pending.len > 0 ? EPOLLOUT : 0);
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0 ? 0 : -1;
}

/* serve - one read, every complete request answered, one write. 0, or -1: close */
static int serve(int ep, struct bare_conn *c, bare_answer_fn answer, struct buf *out,
		 struct buf *payload, unsigned trig)
{
	size_t off = 0, space;
	ssize_t r;

	do {
		space = sizeof(c->in) - c->inlen;
		r = read(c->fd, c->in + c->inlen, space);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (r > 0)
			c->inlen += (size_t)r;
		buf_reset(out);
		for (;;) {
			const char *p, *why;
			size_t plen, used;
			enum netstring_status s = netstring_decode(c->in + off, c->inlen - off,
								   NETSTRING_MAX_LEN, &p, &plen, &used, &why);

			if (s == NETSTRING_ERROR)
				return -1;
			if (s == NETSTRING_NEED_MORE)
				break;
			buf_reset(payload);
			answer(p, plen, payload);
			netstring_encode(out, payload->data, payload->len);
			off += used;
		}
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
		off = 0;
		if (flush(ep, c, out, trig) != 0)
			return -1;
		/* A read that filled the buffer may have left bytes behind: under
		 * EPOLLET no new event would come for them. */
	} while (trig && r > 0 && (size_t)r == space);
	return 0;
}

/* bare_main - parse options, listen, serve until a signal; exit status */
int bare_main(int argc, char **argv, const char *name, bare_answer_fn answer,
	      int (*extra_opt)(const char *opt, const char *val), void (*on_hup)(void))
{
	const char *addr = "127.0.0.1:0", *port_file = NULL;
	struct epoll_event evs[BARE_EVENTS], lev = {.events = EPOLLIN};
	struct buf out, payload;
	unsigned trig = 0;
	int i, ep, lfd;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--listen") == 0)
			addr = argv[i + 1];
		else if (strcmp(argv[i], "--port-file") == 0)
			port_file = argv[i + 1];
		else if (strcmp(argv[i], "--trigger") == 0)
			trig = strcmp(argv[i + 1], "edge") == 0 ? EPOLLET : 0;
		else if (extra_opt == NULL || extra_opt(argv[i], argv[i + 1]) != 0)
			break;
	}
	if (i != argc) {
		fprintf(stderr, "usage: %s [--listen 127.0.0.1:PORT] [--port-file PATH] "
			"[--trigger edge|level] ...\n", name);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	if ((lfd = listen_on(addr, port_file)) < 0 || (ep = epoll_create1(0)) < 0) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", name, addr, strerror(errno));
		return 1;
	}
	lev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	buf_init(&out);
	buf_init(&payload);
	while (!stopping) {
		int n = epoll_wait(ep, evs, BARE_EVENTS, -1);

		if (hup) {
			hup = 0;
			if (on_hup != NULL)
				on_hup();
		}

		for (i = 0; i < n; i++) {
			struct bare_conn *c = evs[i].data.ptr;
			struct buf none = {0};

			if (c == NULL)
				accept_all(ep, lfd, trig);
			else if ((evs[i].events & EPOLLIN) ?
				 serve(ep, c, answer, &out, &payload, trig) != 0 :
				 flush(ep, c, &none, trig) != 0)
				conn_close(c);
		}
	}
	close(lfd);
	return 0;
}
