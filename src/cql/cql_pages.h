/*
 * cql_pages - a Rows result read to its last page (pure)
 *
 * SYNOPSIS
 *	#include "cql/cql_pages.h"
 *
 * DESCRIPTION
 *	A server may answer a SELECT in pages: the Rows metadata then has the
 *	Has_more_pages flag and a paging state, which the client sends back
 *	to get the next page (native_protocol_v4.spec, sections 4.2.5.2 and
 *	8 "Result paging"). A page may hold fewer rows than the page size,
 *	or none at all, and still not be the last: Amazon Keyspaces cuts a
 *	page at 1 MB of data read, and documents empty pages ("Paginating
 *	results"). Only the page without the flag ends the result.
 *
 *	cql_pages_add() takes one Rows body after another, checks that each
 *	page reads as a whole and has the columns of the first, and keeps
 *	their rows; cql_pages_rows() then reads all of them as one result.
 *	A result is read whole or not at all: past CQL_PAGES_MAX pages or
 *	CQL_PAGES_MAX_BYTES of rows it is refused, as is a page whose columns
 *	nobody described (the no-metadata flag without a hint), so that the
 *	caller never takes part of an answer for all of it.
 *
 *	No I/O: the session (cql_session.c) sends the requests.
 */
#ifndef PAC_CQL_PAGES_H
#define PAC_CQL_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cql_proto.h"

/*
 * Rows asked per page, as the drivers' default fetch size. A lookup reads
 * one partition; this only bounds what a server sends in one frame.
 */
#define CQL_PAGE_SIZE_ROWS	5000
#define CQL_PAGES_MAX		32	/* pages read for one result */
#define CQL_PAGES_MAX_BYTES	(4u * 1024 * 1024)	/* row data of one result, bytes */

enum cql_pages_status {
	CQL_PAGES_DONE,		/* that was the last page: the result is whole */
	CQL_PAGES_MORE,		/* ask for the next page with cql_pages_state() */
	CQL_PAGES_MALFORMED,	/* not a readable Rows body, or not like the first page */
	CQL_PAGES_NO_METADATA,	/* rows whose columns nothing describes */
	CQL_PAGES_TOO_LARGE,	/* over CQL_PAGES_MAX pages or CQL_PAGES_MAX_BYTES */
	CQL_PAGES_NO_MEMORY,
};

struct cql_pages {
	struct cql_rows_meta meta;	/* the columns, from the first page */
	struct buf rows;		/* the cells of every row so far */
	int32_t nrows;
	unsigned npages;		/* pages added */
	struct buf state;		/* paging state for the next page */
};

void cql_pages_init(struct cql_pages *pg);
void cql_pages_free(struct cql_pages *pg);

/*
 * cql_pages_add - one Rows body, read from rd positioned after the kind.
 * hint describes the columns when a page has the no-metadata flag (the
 * result metadata of the prepared statement), or is NULL.
 */
enum cql_pages_status cql_pages_add(struct cql_pages *pg, struct cql_rd *rd,
				    const struct cql_rows_meta *hint);

/* cql_pages_state - the paging state to send after CQL_PAGES_MORE */
const uint8_t *cql_pages_state(const struct cql_pages *pg, size_t *len);

/*
 * cql_pages_rows - a reader over the rows of every page, as one result
 * without more pages; valid while pg is unchanged
 */
void cql_pages_rows(const struct cql_pages *pg, struct cql_rows *r);

const char *cql_pages_status_name(enum cql_pages_status st);

#endif
