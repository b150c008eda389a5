/*
 * sm-echo - minimal socketmap reply server: the loopback baseline
 *
 * SYNOPSIS
 *	sm-echo [--listen 127.0.0.1:PORT] [--port-file PATH]
 *
 * DESCRIPTION
 *	Answers every socketmap request "name key" at once, with no lookup,
 *	and with a reply of the same size the daemon gives for the bench's
 *	keys: "OK <domain>/<localpart>/" for a key with an '@' (the users
 *	map's result_format %d/%u/), "OK <key>" otherwise. It is what the
 *	daemon would cost if lookups were free: the same event library
 *	(libevent bufferevents), the same netstring decoder, one reply
 *	written per request in order.
 *
 *	It listens on 127.0.0.1 (port 0: any free port, written to
 *	--port-file) and stops on SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "buf.h"
#include "netstring.h"

#define ECHO_LOOK_MAX	(NETSTRING_MAX_LEN + NETSTRING_MAX_DIGITS + 2)	/* bytes */

/* reply_for - "OK d/u/" or "OK key" into b */
static void reply_for(struct buf *b, const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n), *key, *at;
	size_t klen;

	if (sp == NULL) {
		buf_append_str(b, "PERM malformed request");
		return;
	}
	key = sp + 1;
	klen = n - (size_t)(key - p);
	at = memchr(key, '@', klen);
	buf_append_str(b, "OK ");
	if (at == NULL) {
		buf_append(b, key, klen);
		return;
	}
	buf_append(b, at + 1, klen - (size_t)(at + 1 - key));
	buf_append_byte(b, '/');
	buf_append(b, key, (size_t)(at - key));
	buf_append_byte(b, '/');
}

/* read_cb - answer every complete request */
static void read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	struct buf reply, frame;
	size_t avail;

	(void)arg;
	buf_init(&reply);
	buf_init(&frame);
	while ((avail = evbuffer_get_length(in)) > 0) {
		size_t look = avail < ECHO_LOOK_MAX ? avail : ECHO_LOOK_MAX;
		const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
		const char *payload, *why;
		size_t plen, used;

		if (data == NULL)
			break;
		switch (netstring_decode(data, look, NETSTRING_MAX_LEN, &payload, &plen,
					 &used, &why)) {
		case NETSTRING_NEED_MORE:
			goto done;
		case NETSTRING_ERROR:
			bufferevent_free(bev);
			goto done_freed;
		case NETSTRING_COMPLETE:
			break;
		}
		buf_reset(&reply);
		buf_reset(&frame);
		reply_for(&reply, payload, plen);
		netstring_encode(&frame, reply.data, reply.len);
		evbuffer_drain(in, used);
		evbuffer_add(out, frame.data, frame.len);
	}
done:
done_freed:
	buf_free(&reply);
	buf_free(&frame);
}

/* event_cb - EOF or error: forget the client */
static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

/* accept_cb - one bufferevent per client */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct event_base *base = evconnlistener_get_base(l);
	struct bufferevent *bev;
	(void)sa;
	(void)salen;
	(void)arg;
	/* No TCP_NODELAY: the daemon does not set it either. */
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, read_cb, NULL, event_cb, NULL);
	bufferevent_enable(bev, EV_READ);
}

/* stop_cb - SIGTERM, SIGINT */
static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
	const char *listen_on = "127.0.0.1:0", *port_file = NULL;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	int sslen = sizeof(ss), a;
	socklen_t alen = sizeof(ss);
	struct event_base *base;
	struct evconnlistener *l;
	struct event *sigterm, *sigint;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--listen") && a + 1 < argc)
			listen_on = argv[++a];
		else if (!strcmp(argv[a], "--port-file") && a + 1 < argc)
			port_file = argv[++a];
		else {
			fprintf(stderr, "usage: sm-echo [--listen 127.0.0.1:PORT] [--port-file PATH]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	{
		const char *colon = strrchr(listen_on, ':');
		char host[INET_ADDRSTRLEN];
		size_t hl = colon ? (size_t)(colon - listen_on) : 0;
		long port = colon ? strtol(colon + 1, NULL, 10) : -1;

		if (colon && hl < sizeof(host)) {
			memcpy(host, listen_on, hl);
			host[hl] = 0;
		}
		if (colon == NULL || hl >= sizeof(host) || port < 0 || port > 65535 ||
		    inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			sslen = -1;
		else
			sin->sin_port = htons((uint16_t)port);
		if (sslen > 0)
			sslen = sizeof(*sin);
	}
	if (sslen <= 0) {
		fprintf(stderr, "sm-echo: bad address '%s'\n", listen_on);
		return 2;
	}
	if ((base = event_base_new()) == NULL)
		return 1;
	l = evconnlistener_new_bind(base, accept_cb, NULL,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
				    (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		perror("sm-echo: listen");
		return 1;
	}
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &alen) == 0 &&
	    port_file) {
		FILE *f = fopen(port_file, "w");

		if (f == NULL) {
			perror(port_file);
			return 1;
		}
		fprintf(f, "%u\n", (unsigned)ntohs(sin->sin_port));
		fclose(f);
	}
	sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	sigint = evsignal_new(base, SIGINT, stop_cb, base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	event_base_dispatch(base);
	event_free(sigterm);
	event_free(sigint);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}
