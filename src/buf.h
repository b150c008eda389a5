/*
 * buf - growable byte buffer
 *
 * SYNOPSIS
 *	#include "buf.h"
 *
 * DESCRIPTION
 *	The one buffer type of the project: an owned, length-counted byte
 *	array that grows by doubling. Appends never fail silently: on
 *	allocation failure the buffer is marked broken (b->oom) and further
 *	appends are ignored, so a caller may build a whole message and check
 *	once at the end.
 */
#ifndef PAC_BUF_H
#define PAC_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int oom;		/* an allocation failed; contents incomplete */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_append_str(struct buf *b, const char *s);
void buf_append_byte(struct buf *b, uint8_t c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
