/*
 * table_source - Postfix's table source format (see table_source.h)
 *
 * DESCRIPTION
 *	Modelled on Postfix's util/readlline.c (logical lines) and the
 *	source loop of postmap/postmap.c (key, whitespace, value), read in
 *	vdukhovni/postfix; the behaviour is Postfix's, the code is ours.
 */
#include <string.h>

#include "lookup_key.h"
#include "tool/table_source.h"

/* ts_space - Postfix's ISSPACE: ASCII white space only */
static int ts_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* table_source_init - read records from the len bytes at p */
void table_source_init(struct table_source *ts, const char *p, size_t len)
{
	memset(ts, 0, sizeof(*ts));
	ts->p = p;
	ts->len = len;
	buf_init(&ts->logical);
}

/* table_source_free - release the line buffer */
void table_source_free(struct table_source *ts)
{
	buf_free(&ts->logical);
}

/*
 * read_physical - append one physical line (without its newline) to the
 * logical line; 1 if a newline ended it, 0 at the end of the input
 */
static int read_physical(struct table_source *ts)
{
	const char *start = ts->p + ts->off;
	const char *nl = memchr(start, '\n', ts->len - ts->off);
	size_t n = nl ? (size_t)(nl - start) : ts->len - ts->off;

	buf_append(&ts->logical, start, n);
	ts->off += n + (nl != NULL);
	if (nl)
		ts->line++;
	return nl != NULL;
}

/*
 * read_logical - the next logical line into ts->logical, as readlline():
 * comments and blank lines dropped wherever they are, continuation lines
 * joined. 1 with a line (*first: its first physical line), 0 at the end.
 */
static int read_logical(struct table_source *ts, unsigned *first)
{
	buf_reset(&ts->logical);
	while (ts->off < ts->len) {
		size_t start = ts->logical.len, i;
		int newline;

		if (start == 0)
			*first = ts->line + 1;
		newline = read_physical(ts);
		for (i = start; i < ts->logical.len && ts_space(ts->logical.data[i]); i++)
			;
		if (i == ts->logical.len || ts->logical.data[i] == '#')
			ts->logical.len = start;
		if (!newline)
			break;
		/* The next line continues this one if it starts with white space or '#'. */
		if (ts->logical.len > 0 &&
		    (ts->off >= ts->len || (ts->p[ts->off] != '#' && !ts_space((unsigned char)ts->p[ts->off]))))
			break;
	}
	return ts->logical.len > 0;
}

/* split_key - end of the key: the first white space outside quotes; NULL if quotes are unbalanced */
static char *split_key(char *s)
{
	int in_quotes = 0;

	for (; *s; s++) {
		if (*s == '\\') {
			if (*++s == 0)
				break;
		} else if (ts_space((unsigned char)*s)) {
			if (!in_quotes)
				break;
		} else if (*s == '"') {
			in_quotes = !in_quotes;
		}
	}
	return in_quotes ? NULL : s;
}

/* parse_record - key and value of the logical line in ts->logical */
static void parse_record(struct table_source *ts, struct table_record *rec)
{
	char *line = (char *)ts->logical.data, *end, *value;
	size_t len = ts->logical.len;
	const char *why;

	if (ts_space((unsigned char)line[0])) {
		rec->why = "logical line must not start with whitespace";
		return;
	}
	if (memchr(line, 0, len) != NULL) {
		rec->why = "NUL byte in line (binary input?)";
		return;
	}
	if (!lookup_utf8_valid(line, len)) {
		rec->why = "not valid UTF-8";
		return;
	}
	if ((value = split_key(line)) == NULL) {
		rec->why = "unbalanced '\"'";
		return;
	}
	rec->keylen = (size_t)(value - line);
	if (*value)
		*value++ = 0;
	while (ts_space((unsigned char)*value))
		value++;
	for (end = line + len; end > value && ts_space((unsigned char)end[-1]); end--)
		;
	*end = 0;
	if (rec->keylen == 0 || *value == 0) {
		rec->why = "expected format: key whitespace value";
		return;
	}
	if (!lookup_key_valid(line, rec->keylen, &why)) {
		rec->why = why;
		return;
	}
	if ((size_t)(end - value) > TABLE_VALUE_MAX) {
		rec->why = "value too long";
		return;
	}
	lookup_key_fold(line, rec->keylen, line);
	rec->key = line;
	rec->value = value;
	rec->valuelen = (size_t)(end - value);
}

/* table_source_next - the next entry or bad line */
int table_source_next(struct table_source *ts, struct table_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (!read_logical(ts, &rec->line))
		return 0;
	buf_append_byte(&ts->logical, 0);
	if (ts->logical.oom)
		return -1;
	ts->logical.len--;
	parse_record(ts, rec);
	return 1;
}
