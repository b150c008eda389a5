/*
 * sm_server - the socketmap listeners
 *
 * DESCRIPTION
 *	See sm_server.h. Listeners (TCP, UNIX, or sockets from systemd)
 *	accept with libevent's evconnlistener; each accepted connection is
 *	handed to sm_client.c, which owns the hot path. Over the client limit
 *	a connection is closed at once; out of descriptors, the listeners
 *	rest a moment.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "clock.h"
#include "log.h"
#include "sm_client.h"
#include "sm_server.h"

#define SM_MAX_LISTENERS	8	/* addresses listened on */
#define SM_LOG_INTERVAL_MS	10000	/* repeated client-limit lines */
#define SM_ACCEPT_PAUSE_MS	100	/* listeners rest when out of descriptors */
#define SM_LISTEN_BACKLOG	512	/* connections the kernel queues per listener */

struct sm_server {
	struct event_base *base;
	struct sm_clients clients;	/* the connections, and what they share */
	struct evconnlistener *listeners[SM_MAX_LISTENERS];
	char unix_paths[SM_MAX_LISTENERS][sizeof(((struct sockaddr_un *)0)->sun_path)];
	int nlisteners;
	int port;
	uint64_t refused;		/* connections closed at MAX_CLIENTS */
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
	srv->base = base;
	sm_clients_init(&srv->clients, base, engine, cfg);
	return srv;
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

/* accept_cb - a new Postfix connection (non-blocking: evconnlistener's accept4 flags) */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct sm_server *srv = arg;
	char peer[SM_PEER_MAX];

	(void)l;
	(void)salen;
	if (srv->clients.n >= srv->clients.cfg.max_clients) {
		msg_limited(&srv->limit_log, SM_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "client limit of %u reached; closing new connections",
			    srv->clients.cfg.max_clients);
		srv->refused++;
		evutil_closesocket(fd);
		return;
	}
	peer_text(sa, peer, sizeof(peer));
	(void)sm_client_start(&srv->clients, fd, peer);
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
	return srv->clients.in_flight;
}

/* sm_server_unsent - bytes of replies not yet written to clients */
size_t sm_server_unsent(const struct sm_server *srv)
{
	return sm_clients_unsent(&srv->clients);
}

/* sm_server_clients - open client connections */
unsigned sm_server_clients(const struct sm_server *srv)
{
	return srv->clients.n;
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
	sm_clients_close_all(&srv->clients);
	if (srv->resume)
		event_free(srv->resume);
	free(srv);
}
