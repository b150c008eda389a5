/*
 * tool_write - many writes in flight, retried with backoff when throttled
 *
 * SYNOPSIS
 *	#include "tool/tool.h"
 *
 * DESCRIPTION
 *	An import writes tens of thousands of rows. One at a time, each waits
 *	a round trip; all at once, a provisioned table throttles them. The
 *	writer keeps up to a window of writes outstanding (sent, or waiting
 *	out a backoff): a write answered with a retryable failure (Overloaded,
 *	WriteTimeout, Unavailable, a timeout or a lost connection: the
 *	cql_errclass RETRY class) is sent again after an exponential backoff
 *	with jitter. Amazon Keyspaces reports insufficient capacity (table,
 *	partition, or a connection over its requests per second) with
 *	Cassandra's own codes, timeouts among them ("Troubleshooting capacity
 *	management errors in Amazon Keyspaces", developer guide), so throttling
 *	lands in that class. The backoff is the "equal jitter" of "Exponential
 *	Backoff And Jitter" (AWS Architecture Blog); a write is tried at most
 *	TOOL_MAX_ATTEMPTS times. Every statement the tool writes is an
 *	idempotent upsert or delete, so a write sent twice (its first answer
 *	lost) leaves the same row: nothing is written twice in effect, and
 *	nothing is dropped while its retries last.
 *
 *	A refused write (Invalid, Unauthorized) is not retried: it fails, and
 *	the first such reason is kept for the summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "tool/tool.h"

#define WRITE_MAX_VALUES	2	/* bound values of one write */

struct write_op {
	struct tool_writer *w;
	struct cql_stmt *st;
	size_t nvals;
	struct cql_value vals[WRITE_MAX_VALUES];
	int attempt;
	struct event *timer;		/* the backoff before the next try */
};

struct tool_writer {
	struct tool *t;
	int window;
	size_t outstanding;		/* sent or waiting to be sent again */
	size_t ok, failed, retries;
	char first_error[300];
	void (*progress)(void *arg, size_t done);
	void *progress_arg;
};

static void op_send(struct write_op *op);

/* tool_backoff_ms - min(cap, base * 2^attempt), then a random half of it off */
int tool_backoff_ms(int attempt)
{
	int d = TOOL_BACKOFF_MIN_MS;

	while (attempt-- > 1 && d < TOOL_BACKOFF_MAX_MS)
		d *= 2;
	if (d > TOOL_BACKOFF_MAX_MS)
		d = TOOL_BACKOFF_MAX_MS;
	return d / 2 + rand() % (d / 2 + 1);
}

/* sleep_over - tool_wait's condition for tool_sleep */
static int sleep_over(void *arg)
{
	return clock_now_ms() >= *(int64_t *)arg;
}

/* tool_sleep - keep the loop running for ms */
void tool_sleep(struct tool *t, int ms)
{
	int64_t until = clock_now_ms() + ms;

	tool_wait(t, sleep_over, &until, 0);
}

/* op_end - the write is settled: count it and free it */
static void op_end(struct write_op *op, int ok, const char *reason)
{
	struct tool_writer *w = op->w;

	if (ok) {
		w->ok++;
	} else {
		w->failed++;
		if (w->first_error[0] == 0)
			snprintf(w->first_error, sizeof(w->first_error), "%s", reason);
	}
	w->outstanding--;
	if (op->timer)
		event_free(op->timer);
	free(op);
	if (w->progress)
		w->progress(w->progress_arg, w->ok + w->failed);
}

/* op_retry_timer - the backoff is over */
static void op_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	op_send(arg);
}

/* op_failed - retry a retryable failure after a backoff, else settle it */
static void op_failed(struct write_op *op, const struct tool_answer *a)
{
	struct timeval tv;
	int ms;

	if (!a->retry || op->attempt >= TOOL_MAX_ATTEMPTS) {
		op_end(op, 0, a->reason);
		return;
	}
	op->w->retries++;
	if (op->timer == NULL &&
	    (op->timer = evtimer_new(op->w->t->base, op_retry_timer, op)) == NULL) {
		op_end(op, 0, "out of memory");
		return;
	}
	ms = tool_backoff_ms(op->attempt);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(op->timer, &tv);
}

/* op_answer - the CQL callback */
static void op_answer(const struct cql_result *res, void *arg)
{
	struct write_op *op = arg;
	struct tool_answer a;

	memset(&a, 0, sizeof(a));
	buf_init(&a.cells);
	tool_result_to_answer(res, &a);
	if (a.ok)
		op_end(op, 1, NULL);
	else
		op_failed(op, &a);
	tool_answer_free(&a);
}

/* op_send - one try */
static void op_send(struct write_op *op)
{
	struct cql_result res;
	struct tool_answer a;
	enum cql_status why;

	op->attempt++;
	if (cql_session_execute(op->w->t->cql, op->st, op->vals, op->nvals, op_answer, op,
				&why) == 0)
		return;
	memset(&res, 0, sizeof(res));
	res.status = why;
	memset(&a, 0, sizeof(a));
	buf_init(&a.cells);
	tool_result_to_answer(&res, &a);
	op_failed(op, &a);
	tool_answer_free(&a);
}

/* tool_writer_new - an empty writer */
struct tool_writer *tool_writer_new(struct tool *t, int window,
				    void (*progress)(void *arg, size_t done), void *arg)
{
	struct tool_writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->t = t;
	w->window = window < 1 ? 1 : window > TOOL_WINDOW_MAX ? TOOL_WINDOW_MAX : window;
	w->progress = progress;
	w->progress_arg = arg;
	return w;
}

/* window_open - tool_wait's condition: room for one more write */
static int window_open(void *arg)
{
	struct tool_writer *w = arg;

	return w->outstanding < (size_t)w->window;
}

/* all_settled - tool_wait's condition: nothing outstanding */
static int all_settled(void *arg)
{
	return ((struct tool_writer *)arg)->outstanding == 0;
}

/* tool_writer_add - queue one write */
int tool_writer_add(struct tool_writer *w, struct cql_stmt *st,
		    const struct cql_value *vals, size_t nvals)
{
	struct write_op *op;

	if (nvals > WRITE_MAX_VALUES)
		return -1;
	tool_wait(w->t, window_open, w, 0);
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		/* Counted, so that the summary and the exit code tell. */
		w->failed++;
		if (w->first_error[0] == 0)
			snprintf(w->first_error, sizeof(w->first_error), "out of memory");
		return -1;
	}
	op->w = w;
	op->st = st;
	op->nvals = nvals;
	memcpy(op->vals, vals, nvals * sizeof(vals[0]));
	w->outstanding++;
	op_send(op);
	return 0;
}

/* tool_writer_finish - wait for the rest, then the counts */
void tool_writer_finish(struct tool_writer *w, size_t *ok, size_t *failed, size_t *retries,
			char *first_error, size_t errlen)
{
	tool_wait(w->t, all_settled, w, 0);
	*ok = w->ok;
	*failed = w->failed;
	*retries = w->retries;
	snprintf(first_error, errlen, "%s", w->first_error);
}

/* tool_writer_free - release (after finish) */
void tool_writer_free(struct tool_writer *w)
{
	free(w);
}
