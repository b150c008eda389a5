/*
 * cql_startq - reads that wait for a session's first connection
 *
 * SYNOPSIS
 *	#include "cql/cql_startq.h"
 *
 * DESCRIPTION
 *	A session is starting from its creation until a connection first
 *	serves (connected, statements prepared). With socket activation
 *	systemd starts the daemon on Postfix's first connection, so the
 *	first lookups always arrive in that window; answering them "not
 *	connected" (TEMP) would defer the first mail after every start by
 *	the sending MTA's retry interval. So while the session is starting
 *	and a first connection attempt is still under way (not every node
 *	has failed one), a read that finds no usable connection waits here,
 *	its lookup deadline still armed by the session, until:
 *
 *	    cql_startq_opened()    a connection serves: every read waiting
 *	                           is released to be sent; nothing waits
 *	                           here again (a later outage fails fast,
 *	                           so Postfix processes do not pile up)
 *	    cql_startq_close()     the daemon stops: every read waiting is
 *	                           released to fail, nothing waits again
 *	                           (the drain on TERM ends promptly)
 *	    cql_startq_hopeless()  every node failed its first attempt:
 *	                           every read waiting is released to fail
 *	    cql_startq_remove()    its deadline passed (the session answers)
 *	    cql_startq_free()      the session goes: every read fails now
 *
 *	Releases happen from the event loop (a zero timer), never inside the
 *	pool callback that reported the change, so the release function may
 *	send, answer and free freely. The queue knows nothing of reads: its
 *	items are embedded in the caller's, and release() gets them back.
 */
#ifndef PAC_CQL_STARTQ_H
#define PAC_CQL_STARTQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct event;
struct event_base;

/*
 * Reads waiting for the first connection, at most: MAX_CLIENTS' default
 * (1000 Postfix connections, one lookup each) times the candidate keys
 * of a search order, with room to spare. More are answered at once.
 */
#define CQL_STARTQ_MAX		4096

struct cql_startq_item {
	TAILQ_ENTRY(cql_startq_item) link;
	int64_t since_ms;		/* when it began to wait */
	int queued;			/* on the queue now */
};

/* cql_startq_fn - an item leaves the queue: send it (send 1) or fail it */
typedef void (*cql_startq_fn)(struct cql_startq_item *it, int send, void *arg);

struct cql_startq {
	TAILQ_HEAD(, cql_startq_item) items;
	size_t n, max;
	int opened;			/* a connection has served: no waiting again */
	int hopeless;			/* every node failed: fail the items */
	int closed;			/* stopping: fail the items, never wait again */
	struct event *wake;		/* releases the items from the loop */
	cql_startq_fn release;
	void *arg;
	unsigned long long sent;	/* items that waited, then were sent */
};

/* cql_startq_init - an empty queue of at most max items; -1 out of memory */
int cql_startq_init(struct cql_startq *q, struct event_base *base, size_t max,
		    cql_startq_fn release, void *arg);
/* cql_startq_free - fail every item now, then free the queue's timer */
void cql_startq_free(struct cql_startq *q);
/* cql_startq_waits - should a read with no usable connection wait (1) or fail (0) */
int cql_startq_waits(const struct cql_startq *q, int all_failed);
/* cql_startq_add - the item waits (it->since_ms = now_ms); -1 when full */
int cql_startq_add(struct cql_startq *q, struct cql_startq_item *it, int64_t now_ms);
/* cql_startq_remove - the item stops waiting (not released) */
void cql_startq_remove(struct cql_startq *q, struct cql_startq_item *it);
/* cql_startq_opened - a connection serves: release every item to be sent */
void cql_startq_opened(struct cql_startq *q);
/* cql_startq_hopeless - every node failed its first attempt: release every item to fail */
void cql_startq_hopeless(struct cql_startq *q);
/* cql_startq_close - stopping: release every item to fail; nothing waits again */
void cql_startq_close(struct cql_startq *q);

#endif
