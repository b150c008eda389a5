/*
 * table_source - Postfix's table source format, read as postmap(1) reads it (pure)
 *
 * SYNOPSIS
 *	#include "tool/table_source.h"
 *
 *	void table_source_init(struct table_source *ts, const char *p, size_t len);
 *	int table_source_next(struct table_source *ts, struct table_record *rec);
 *	void table_source_free(struct table_source *ts);
 *
 * DESCRIPTION
 *	The text an operator keeps in /etc/postfix/virtual, transport, access
 *	or relay_domains, and what `postmap -s` prints: one "key whitespace
 *	value" record per logical line. As Postfix's readllines() and
 *	postmap.c (postmap_body's loop over the source) do it:
 *
 *	- empty lines, whitespace-only lines and lines whose first
 *	  non-whitespace character is '#' are ignored, also in the middle
 *	  of a logical line;
 *	- a line starting with whitespace continues the logical line before
 *	  it (the newline is dropped, the whitespace kept); one with no text
 *	  before it is refused ("logical line must not start with whitespace");
 *	- the key ends at the first whitespace outside double quotes, a
 *	  backslash protecting the next character; the key keeps its quotes
 *	  and backslashes; the value is the rest with leading and trailing
 *	  whitespace removed (so a CR before LF is dropped);
 *	- a missing key or value, unbalanced quotes, or a line that is not
 *	  UTF-8 is refused, as postmap refuses it with smtputf8 on.
 *
 *	Beyond postmap, as the daemon would never find them: a key over
 *	LOOKUP_KEY_MAX bytes or with control characters (lookup_key.h), a
 *	value over TABLE_VALUE_MAX bytes, and a line holding a NUL byte are
 *	refused. Keys are folded to lower case (ASCII), as the daemon folds
 *	what it looks up and postmap folds what it stores.
 *
 *	The parser works on the whole input in memory, allocates only its
 *	line buffer, and hands back one record at a time: an entry, or a bad
 *	line with its number and reason, which the caller reports and skips.
 */
#ifndef PAC_TABLE_SOURCE_H
#define PAC_TABLE_SOURCE_H

#include <stddef.h>

#include "buf.h"

/* Longest value kept: a socketmap reply is at most 100000 bytes, with "OK ". */
#define TABLE_VALUE_MAX		65535	/* bytes */

struct table_record {
	unsigned line;		/* first physical line of the logical line (from 1) */
	const char *why;	/* NULL: an entry; else why the line is skipped */
	const char *key;	/* folded, NUL-terminated; valid until the next call */
	size_t keylen;
	const char *value;	/* NUL-terminated */
	size_t valuelen;
};

struct table_source {
	const char *p;
	size_t len;
	size_t off;		/* next byte to read */
	unsigned line;		/* physical lines read */
	struct buf logical;	/* the logical line being parsed */
};

void table_source_init(struct table_source *ts, const char *p, size_t len);
void table_source_free(struct table_source *ts);

/*
 * table_source_next - the next record: 1 with rec filled (an entry, or a
 * bad line when rec->why is set), 0 at the end of the input, -1 when out
 * of memory
 */
int table_source_next(struct table_source *ts, struct table_record *rec);

#endif
