/*
 * spare - records of one size kept for reuse instead of freed
 *
 * SYNOPSIS
 *	#include "spare.h"
 *
 *	void spare_init(struct spare *s, size_t size, unsigned max);
 *	void *spare_get(struct spare *s);
 *	void spare_put(struct spare *s, void *p);
 *	void spare_free(struct spare *s);
 *
 * DESCRIPTION
 *	The hot path takes a record per request (sm_client.c's requests,
 *	lookup_engine.c's lookups) and gives it back a moment later; a
 *	malloc and a free each time were a tenth of a cache hit's
 *	instructions. spare_get() hands out a kept record, or a new one from
 *	malloc (NULL without memory), its contents undefined; spare_put()
 *	keeps it, up to max records, and frees the rest; spare_free() frees
 *	every kept record.
 *
 *	Under AddressSanitizer a kept record is poisoned until it is handed
 *	out again, so a use after spare_put() is still reported as a use
 *	after free would be.
 */
#ifndef PAC_SPARE_H
#define PAC_SPARE_H

#include <stddef.h>

struct spare {
	void *head;			/* kept records, linked through their first bytes */
	unsigned n, max;
	size_t size;			/* bytes of one record (at least a pointer) */
};

/* spare_init - an empty list of records of size bytes, keeping at most max */
void spare_init(struct spare *s, size_t size, unsigned max);

/* spare_get - a record of s->size bytes (contents undefined), or NULL */
void *spare_get(struct spare *s);

/* spare_put - keep p for reuse, or free it when max are kept */
void spare_put(struct spare *s, void *p);

/* spare_free - free every kept record */
void spare_free(struct spare *s);

#endif
