/*
 * result_rows - the reply data of a map from the rows of its query (pure)
 *
 * SYNOPSIS
 *	#include "result_rows.h"
 *
 * DESCRIPTION
 *	A map's query selects the value first, and optionally a boolean
 *	column named "active". Each value (each element when the value is a
 *	list or set) of each row whose "active" column, if selected, is true
 *	goes through result_format (result_format.h); the results are joined
 *	with ", ", as Postfix joins the rows of its own database tables.
 *
 *	The value column may be text (varchar), ascii, or an integer
 *	(tinyint, smallint, int, bigint, read in decimal), or a list or set
 *	of those; "active" must be boolean. result_rows_check() says so for
 *	the columns a statement returns (the metadata of its PREPARED result,
 *	or of a Rows result): any other type is a mistake of the map's
 *	configuration, which would otherwise read as "no row" (an int
 *	"active"), drop values (a set<timestamp>) or fail every read (a uuid).
 *
 *	No I/O and no policy: the caller (the lookup engine) decides what a
 *	result means for the socketmap reply.
 */
#ifndef PAC_RESULT_ROWS_H
#define PAC_RESULT_ROWS_H

#include "buf.h"

struct cql_rows;
struct cql_rows_meta;

/*
 * result_rows_check - 0 if a map can read rows of these columns, else -1
 * with the column and its type named in why
 */
int result_rows_check(const struct cql_rows_meta *m, char *why, size_t size);

/*
 * result_rows_format - the reply data for a Rows result: each value of
 * each active row through result_format, joined with ", ". Returns 1 if
 * anything was found, 0 if not, -1 if a value could not be decoded.
 */
int result_rows_format(struct cql_rows *rows, const char *fmt, struct buf *out);

#endif
