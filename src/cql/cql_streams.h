/*
 * cql_streams - stream id allocation for one CQL connection (pure)
 *
 * SYNOPSIS
 *	#include "cql/cql_streams.h"
 *
 * DESCRIPTION
 *	Every request in flight on a connection holds a stream id, with the
 *	callback to answer and a deadline. Ids come from a slot table that
 *	grows on demand up to the 32768 ids of protocol v3+, and free ids
 *	from a stack (lowest first). Busy slots are also on a FIFO in send
 *	order: every request of a connection has the same timeout, so the
 *	head is always the next to expire.
 *
 *	An expired request becomes an orphan: its callback is returned to
 *	the caller once (to answer "timeout"), but its id stays reserved
 *	until its late answer arrives or the connection is replaced, so a
 *	late answer can never be taken for the answer to a newer request.
 *
 *	No clock is read: times are passed in.
 */
#ifndef PAC_CQL_STREAMS_H
#define PAC_CQL_STREAMS_H

#include <stdint.h>

struct cql_response;
typedef void (*cql_response_fn)(const struct cql_response *resp, void *arg);

#define CQL_STREAMS_INITIAL	64	/* slots at start */

struct cql_stream_slot {
	uint8_t state;			/* FREE, BUSY, ORPHAN */
	cql_response_fn cb;
	void *arg;
	int64_t deadline_ms;
	int32_t prev, next;		/* FIFO of BUSY slots, -1 ends */
};

struct cql_streams {
	struct cql_stream_slot *slots;
	int32_t nslots, max;
	int32_t *free_ids;
	int32_t nfree;
	int32_t head, tail;		/* FIFO of BUSY slots */
	unsigned busy, orphans;
};

/* What cql_streams_complete found for a stream id. */
enum cql_stream_found {
	CQL_STREAM_ANSWER,		/* a request waiting: cb and arg set */
	CQL_STREAM_LATE,		/* an orphan's late answer: id now free */
	CQL_STREAM_UNKNOWN,		/* not in use: a protocol violation */
};

/* cql_streams_init - empty table of at most max ids (<= 32768); -1 on OOM */
int cql_streams_init(struct cql_streams *s, int32_t max);
void cql_streams_free(struct cql_streams *s);

/* cql_streams_alloc - reserve an id for a request; -1 when all are in use */
int32_t cql_streams_alloc(struct cql_streams *s, cql_response_fn cb, void *arg,
			  int64_t deadline_ms);
/* cql_streams_unalloc - give back an id whose request was never sent */
void cql_streams_unalloc(struct cql_streams *s, int32_t id);

/* cql_streams_complete - an answer arrived on stream id */
enum cql_stream_found cql_streams_complete(struct cql_streams *s, int32_t id,
					   cql_response_fn *cb, void **arg);

/*
 * cql_streams_expire - the next request past its deadline at now, made an
 * orphan; returns 1 with its callback, 0 when none is due.
 */
int cql_streams_expire(struct cql_streams *s, int64_t now_ms,
		       cql_response_fn *cb, void **arg);

/* cql_streams_take_any - remove any busy request (to fail them all) */
int cql_streams_take_any(struct cql_streams *s, cql_response_fn *cb, void **arg);

/* cql_streams_next_deadline - deadline of the FIFO head, -1 if none */
int64_t cql_streams_next_deadline(const struct cql_streams *s);

#endif
