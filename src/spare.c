/*
 * spare - records of one size kept for reuse (see spare.h)
 */
#include <stdlib.h>
#include <string.h>

#include "spare.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(addr, size)	((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size)	((void)(addr), (void)(size))
#endif

/* spare_init - an empty list */
void spare_init(struct spare *s, size_t size, unsigned max)
{
	s->head = NULL;
	s->n = 0;
	s->max = max;
	s->size = size < sizeof(void *) ? sizeof(void *) : size;
}

/* spare_get - a kept record, or a new one */
void *spare_get(struct spare *s)
{
	void *p = s->head;

	if (p == NULL)
		return malloc(s->size);
	ASAN_UNPOISON_MEMORY_REGION(p, s->size);
	memcpy(&s->head, p, sizeof(void *));
	s->n--;
	return p;
}

/* spare_put - keep a record, or free it */
void spare_put(struct spare *s, void *p)
{
	if (p == NULL)
		return;
	if (s->n >= s->max) {
		free(p);
		return;
	}
	memcpy(p, &s->head, sizeof(void *));
	s->head = p;
	s->n++;
	ASAN_POISON_MEMORY_REGION(p, s->size);
}

/* spare_free - free every kept record */
void spare_free(struct spare *s)
{
	void *p;

	while ((p = s->head) != NULL) {
		ASAN_UNPOISON_MEMORY_REGION(p, s->size);
		memcpy(&s->head, p, sizeof(void *));
		free(p);
	}
	s->n = 0;
}
