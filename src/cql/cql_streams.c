/*
 * cql_streams - stream id allocation for one CQL connection (see .h)
 */
#include <stdlib.h>
#include <string.h>

#include "cql_proto.h"
#include "cql_streams.h"

enum { SLOT_FREE, SLOT_BUSY, SLOT_ORPHAN };

/* grow - double the slot table, up to max */
static int grow(struct cql_streams *s)
{
	int32_t n = s->nslots ? s->nslots * 2 : CQL_STREAMS_INITIAL;
	struct cql_stream_slot *slots;
	int32_t *ids, i;

	if (n > s->max)
		n = s->max;
	if (n <= s->nslots)
		return -1;
	if ((slots = realloc(s->slots, (size_t)n * sizeof(*slots))) == NULL)
		return -1;
	s->slots = slots;
	if ((ids = realloc(s->free_ids, (size_t)n * sizeof(*ids))) == NULL)
		return -1;
	s->free_ids = ids;
	/* Push the new ids so that the lowest is popped first. */
	for (i = n - 1; i >= s->nslots; i--) {
		memset(&slots[i], 0, sizeof(slots[i]));
		slots[i].state = SLOT_FREE;
		ids[s->nfree++] = i;
	}
	s->nslots = n;
	return 0;
}

/* cql_streams_init - an empty table */
int cql_streams_init(struct cql_streams *s, int32_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max > 0 && max <= CQL_MAX_STREAMS ? max : CQL_MAX_STREAMS;
	s->head = s->tail = -1;
	return grow(s);
}

/* cql_streams_free - release the table */
void cql_streams_free(struct cql_streams *s)
{
	free(s->slots);
	free(s->free_ids);
	memset(s, 0, sizeof(*s));
}

/* fifo_unlink - take a busy slot off the FIFO */
static void fifo_unlink(struct cql_streams *s, int32_t id)
{
	struct cql_stream_slot *e = &s->slots[id];

	if (e->prev >= 0)
		s->slots[e->prev].next = e->next;
	else
		s->head = e->next;
	if (e->next >= 0)
		s->slots[e->next].prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = -1;
}

/* release - the id is free again */
static void release(struct cql_streams *s, int32_t id)
{
	s->slots[id].state = SLOT_FREE;
	s->slots[id].cb = NULL;
	s->slots[id].arg = NULL;
	s->free_ids[s->nfree++] = id;
}

/* cql_streams_alloc - reserve an id */
int32_t cql_streams_alloc(struct cql_streams *s, cql_response_fn cb, void *arg,
			  int64_t deadline_ms)
{
	struct cql_stream_slot *e;
	int32_t id;

	if (s->nfree == 0 && grow(s) != 0)
		return -1;
	id = s->free_ids[--s->nfree];
	e = &s->slots[id];
	e->state = SLOT_BUSY;
	e->cb = cb;
	e->arg = arg;
	e->deadline_ms = deadline_ms;
	e->next = -1;
	e->prev = s->tail;
	if (s->tail >= 0)
		s->slots[s->tail].next = id;
	else
		s->head = id;
	s->tail = id;
	s->busy++;
	return id;
}

/* cql_streams_unalloc - undo an alloc whose request was not sent */
void cql_streams_unalloc(struct cql_streams *s, int32_t id)
{
	if (id < 0 || id >= s->nslots || s->slots[id].state != SLOT_BUSY)
		return;
	fifo_unlink(s, id);
	release(s, id);
	s->busy--;
}

/* cql_streams_complete - an answer for stream id */
enum cql_stream_found cql_streams_complete(struct cql_streams *s, int32_t id,
					   cql_response_fn *cb, void **arg)
{
	struct cql_stream_slot *e;

	if (id < 0 || id >= s->nslots || s->slots[id].state == SLOT_FREE)
		return CQL_STREAM_UNKNOWN;
	e = &s->slots[id];
	if (e->state == SLOT_ORPHAN) {
		s->orphans--;
		release(s, id);
		return CQL_STREAM_LATE;
	}
	*cb = e->cb;
	*arg = e->arg;
	fifo_unlink(s, id);
	release(s, id);
	s->busy--;
	return CQL_STREAM_ANSWER;
}

/* cql_streams_expire - the next overdue request becomes an orphan */
int cql_streams_expire(struct cql_streams *s, int64_t now_ms,
		       cql_response_fn *cb, void **arg)
{
	int32_t id = s->head;
	struct cql_stream_slot *e;

	if (id < 0 || s->slots[id].deadline_ms > now_ms)
		return 0;
	e = &s->slots[id];
	*cb = e->cb;
	*arg = e->arg;
	fifo_unlink(s, id);
	e->state = SLOT_ORPHAN;		/* reserved until the late answer */
	e->cb = NULL;
	e->arg = NULL;
	s->busy--;
	s->orphans++;
	return 1;
}

/* cql_streams_take_any - remove the oldest busy request */
int cql_streams_take_any(struct cql_streams *s, cql_response_fn *cb, void **arg)
{
	int32_t id = s->head;

	if (id < 0)
		return 0;
	*cb = s->slots[id].cb;
	*arg = s->slots[id].arg;
	fifo_unlink(s, id);
	release(s, id);
	s->busy--;
	return 1;
}

/* cql_streams_next_deadline - when the FIFO head expires */
int64_t cql_streams_next_deadline(const struct cql_streams *s)
{
	return s->head >= 0 ? s->slots[s->head].deadline_ms : -1;
}
