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
 *	No I/O and no policy: the caller (the lookup engine) decides what a
 *	result means for the socketmap reply.
 */
#ifndef PAC_RESULT_ROWS_H
#define PAC_RESULT_ROWS_H

#include "buf.h"

struct cql_rows;

/*
 * result_rows_format - the reply data for a Rows result: each value of
 * each active row through result_format, joined with ", ". Returns 1 if
 * anything was found, 0 if not, -1 if a value could not be decoded.
 */
int result_rows_format(struct cql_rows *rows, const char *fmt, struct buf *out);

#endif
