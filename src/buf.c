/*
 * buf - growable byte buffer (see buf.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN_CAP	64	/* first allocation, bytes */

/* buf_init - empty buffer, no allocation */
void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

/* buf_free - release storage */
void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* buf_reset - forget contents, keep storage */
void buf_reset(struct buf *b)
{
	b->len = 0;
	b->oom = 0;
}

/* buf_reserve - make room for extra more bytes; 0 on success */
int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (b->oom)
		return -1;
	if (extra > SIZE_MAX - b->len - 1) {
		b->oom = 1;
		return -1;
	}
	need = b->len + extra + 1;	/* +1 keeps room for a terminator */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : BUF_MIN_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

/* buf_append - append n bytes */
void buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) != 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

/* buf_append_str - append a C string without its terminator */
void buf_append_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* buf_append_byte - append one byte */
void buf_append_byte(struct buf *b, uint8_t c)
{
	buf_append(b, &c, 1);
}

/* buf_printf - append formatted text */
void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
