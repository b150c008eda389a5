/*
 * cql_startq - reads that wait for a session's first connection
 *
 * DESCRIPTION
 *	See cql_startq.h. One info line says how many reads waited for the
 *	first connection and how long the longest did.
 */
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "cql_startq.h"

/* startq_wake - release every item: to be sent once opened, else to fail */
static void startq_wake(evutil_socket_t fd, short what, void *arg)
{
	struct cql_startq *q = arg;
	struct cql_startq_item *it;
	int64_t now = clock_now_ms(), longest = 0;
	size_t n = 0;
	int send = q->opened;

	(void)fd;
	(void)what;
	if (!send && !q->hopeless && !q->closed)
		return;
	q->hopeless = 0;
	while ((it = TAILQ_FIRST(&q->items)) != NULL) {
		cql_startq_remove(q, it);
		if (now - it->since_ms > longest)
			longest = now - it->since_ms;
		n++;
		if (send)
			q->sent++;
		q->release(it, send, q->arg);
	}
	if (send && n > 0)
		msg_info("cql: first connection up: sending %zu read%s that waited for it "
			 "(the longest %lld ms)", n, n == 1 ? "" : "s", (long long)longest);
}

/* cql_startq_init - an empty queue */
int cql_startq_init(struct cql_startq *q, struct event_base *base, size_t max,
		    cql_startq_fn release, void *arg)
{
	memset(q, 0, sizeof(*q));
	TAILQ_INIT(&q->items);
	q->max = max;
	q->release = release;
	q->arg = arg;
	q->wake = evtimer_new(base, startq_wake, q);
	return q->wake ? 0 : -1;
}

/* cql_startq_free - the session goes: every item fails now */
void cql_startq_free(struct cql_startq *q)
{
	struct cql_startq_item *it;

	while ((it = TAILQ_FIRST(&q->items)) != NULL) {
		cql_startq_remove(q, it);
		q->release(it, 0, q->arg);
	}
	if (q->wake)
		event_free(q->wake);
	q->wake = NULL;
}

/*
 * cql_startq_waits - wait only while starting: no connection has served
 * yet, and not every node has failed (then the database is unreachable,
 * and "not connected" must come at once). Without its timer the queue
 * cannot release anything: never wait then.
 */
int cql_startq_waits(const struct cql_startq *q, int all_failed)
{
	return q->wake != NULL && !q->opened && !q->closed && !all_failed;
}

/* cql_startq_add - append the item, if there is room */
int cql_startq_add(struct cql_startq *q, struct cql_startq_item *it, int64_t now_ms)
{
	if (q->n >= q->max)
		return -1;
	it->since_ms = now_ms;
	it->queued = 1;
	TAILQ_INSERT_TAIL(&q->items, it, link);
	q->n++;
	return 0;
}

/* cql_startq_remove - take the item off the queue */
void cql_startq_remove(struct cql_startq *q, struct cql_startq_item *it)
{
	if (!it->queued)
		return;
	it->queued = 0;
	TAILQ_REMOVE(&q->items, it, link);
	q->n--;
}

/* startq_schedule - run startq_wake from the loop, soon */
static void startq_schedule(struct cql_startq *q)
{
	struct timeval now = { 0, 0 };

	if (q->wake && !TAILQ_EMPTY(&q->items) && !evtimer_pending(q->wake, NULL))
		evtimer_add(q->wake, &now);
}

/* cql_startq_opened - from now on nothing waits; the waiting are sent */
void cql_startq_opened(struct cql_startq *q)
{
	q->opened = 1;
	startq_schedule(q);
}

/* cql_startq_hopeless - the waiting fail (unless a connection serves first) */
void cql_startq_hopeless(struct cql_startq *q)
{
	if (q->opened || TAILQ_EMPTY(&q->items))
		return;
	q->hopeless = 1;
	startq_schedule(q);
}

/* cql_startq_close - the waiting fail (unless a connection serves first), and no more wait */
void cql_startq_close(struct cql_startq *q)
{
	q->closed = 1;
	startq_schedule(q);
}
