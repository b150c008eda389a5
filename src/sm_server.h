/*
 * sm_server - the socketmap listener and its client connections
 *
 * SYNOPSIS
 *	#include "sm_server.h"
 *
 * DESCRIPTION
 *	Accepts Postfix's connections, splits the byte stream into
 *	netstrings, hands each request to the lookup engine and writes the
 *	replies back in request order (a client may pipeline several
 *	requests; Postfix sends one at a time). Malformed or oversized input
 *	gets one log line and that connection is closed; other clients are
 *	not affected. Idle clients are closed after the idle timeout, and
 *	connections over the client limit are closed at once. A client that
 *	does not read its replies is no longer read from, and is closed when
 *	they pile up or make no progress for the idle timeout; one that
 *	half-closes gets its answers, then the close.
 */
#ifndef PAC_SM_SERVER_H
#define PAC_SM_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "listen_spec.h"
#include "sm_client.h"		/* struct sm_server_config */

struct event_base;
struct lookup_engine;
struct sm_server;

struct sm_server *sm_server_new(struct event_base *base,
				struct lookup_engine *engine,
				const struct sm_server_config *cfg);
/*
 * sm_server_listen - bind and listen on one endpoint; -1 with a message in
 * err. A UNIX socket replaces a stale socket file (never another kind of
 * file) and gets the mode and, if group is not empty, the group.
 */
int sm_server_listen(struct sm_server *srv, const struct listen_endpoint *ep,
		     int mode, const char *group, char *err, size_t errlen);
/* sm_server_adopt - serve on a listening socket from systemd */
int sm_server_adopt(struct sm_server *srv, int fd, char *err, size_t errlen);
/*
 * sm_server_last_address - the address the latest listener is bound to,
 * with the port the kernel chose for port 0 ("inet:127.0.0.1:40123",
 * "unix:/path"), for the log
 */
void sm_server_last_address(const struct sm_server *srv, char *out, size_t len);
/* sm_server_port - the bound TCP port of the first listener */
int sm_server_port(const struct sm_server *srv);
/* sm_server_stop_listening - close the listeners (on TERM) */
void sm_server_stop_listening(struct sm_server *srv);
/* sm_server_in_flight - lookups not yet answered */
unsigned sm_server_in_flight(const struct sm_server *srv);
unsigned sm_server_clients(const struct sm_server *srv);
/* sm_server_refused - connections closed because MAX_CLIENTS were open */
uint64_t sm_server_refused(const struct sm_server *srv);
/* sm_server_unsent - reply bytes queued but not yet written */
size_t sm_server_unsent(const struct sm_server *srv);
void sm_server_free(struct sm_server *srv);

#endif
