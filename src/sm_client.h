/*
 * sm_client - one Postfix connection: requests in, replies out, in order
 *
 * SYNOPSIS
 *	#include "sm_client.h"
 *
 * DESCRIPTION
 *	The hot path of the daemon. Each readable event is one read() of up
 *	to SM_READ_CHUNK bytes into the server's scratch buffer; every
 *	complete netstring in it is decoded and started there (cache hits
 *	are answered before lookup_start returns), and all the replies that
 *	are ready, in request order, leave with one send(). A client keeps
 *	memory of its own only for what is left over: a request split across
 *	reads, requests held back by a limit, replies the socket did not
 *	take. So a cache hit costs two system calls and no allocation beyond
 *	its reply.
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
 *	connection is closed when they are written. A client silent for the
 *	idle timeout is closed, unless we still owe it answers.
 */
#ifndef PAC_SM_CLIENT_H
#define PAC_SM_CLIENT_H

#include <stddef.h>
#include <sys/queue.h>

#include "spare.h"


struct event_base;
struct lookup_engine;
struct sm_client;

/* The server's settings; its clients hold a copy (sm_server.h). */
struct sm_server_config {
	int idle_timeout_ms;		/* close clients silent this long */
	unsigned max_clients;		/* connections served at once */
	unsigned max_pipeline;		/* requests in flight per client */
};

#define SM_READ_CHUNK		16384	/* bytes asked of one read() */
#define SM_PEER_MAX		64	/* "addr:port" text */

/* The state a server shares with its clients. */
struct sm_clients {
	struct event_base *base;
	struct lookup_engine *engine;
	struct sm_server_config cfg;
	LIST_HEAD(sm_client_list, sm_client) list;
	unsigned n;			/* open connections */
	unsigned in_flight;		/* lookups not yet answered */
	struct spare spare;		/* request records kept for reuse */
	char scratch[SM_READ_CHUNK];	/* every read lands here first */
};

/* sm_clients_init - no client yet */
void sm_clients_init(struct sm_clients *set, struct event_base *base,
		     struct lookup_engine *engine, const struct sm_server_config *cfg);

/*
 * sm_client_start - serve an accepted, non-blocking socket. Returns 0, or
 * -1 without memory (the socket is closed then).
 */
int sm_client_start(struct sm_clients *set, int fd, const char *peer);

/* sm_clients_unsent - reply bytes the sockets have not taken yet */
size_t sm_clients_unsent(const struct sm_clients *set);

/* sm_clients_close_all - cancel every lookup and close every connection */
void sm_clients_close_all(struct sm_clients *set);

#endif
