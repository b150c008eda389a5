/*
 * cql_pages - a Rows result read to its last page (see cql_pages.h)
 */
#include <string.h>

#include "cql_pages.h"

/* cql_pages_init - no page yet */
void cql_pages_init(struct cql_pages *pg)
{
	memset(&pg->meta, 0, sizeof(pg->meta));
	buf_init(&pg->rows);
	buf_init(&pg->state);
	pg->nrows = 0;
	pg->npages = 0;
}

/* cql_pages_free - release the rows and the state */
void cql_pages_free(struct cql_pages *pg)
{
	buf_free(&pg->rows);
	buf_free(&pg->state);
}

/* same_columns - a later page describes the columns of the first */
static int same_columns(const struct cql_rows_meta *a, const struct cql_rows_meta *b)
{
	int32_t i;

	if (a->ncols != b->ncols)
		return 0;
	for (i = 0; i < a->ncols; i++)
		if (strcmp(a->cols[i].name, b->cols[i].name) != 0 ||
		    memcmp(&a->cols[i].type, &b->cols[i].type, sizeof(a->cols[i].type)) != 0)
			return 0;
	return 1;
}

/* cql_pages_add - check one page and keep its rows */
enum cql_pages_status cql_pages_add(struct cql_pages *pg, struct cql_rd *rd,
				    const struct cql_rows_meta *hint)
{
	struct cql_rows page;
	const uint8_t *start;
	int32_t i, n, more;
	size_t len;

	if (cql_decode_rows(rd, hint, &page) != 0)
		return CQL_PAGES_MALFORMED;
	/*
	 * Without metadata (and no hint) the cells cannot be read: even "no
	 * rows" is then not an answer to rely on.
	 */
	if ((page.meta.flags & CQL_META_NO_METADATA) && hint == NULL)
		return CQL_PAGES_NO_METADATA;
	more = (page.meta.flags & CQL_META_HAS_MORE_PAGES) != 0;
	if (more && (page.meta.paging_state == NULL || page.meta.paging_state_len == 0))
		return CQL_PAGES_MALFORMED;
	if (pg->npages == 0) {
		pg->meta = page.meta;
		pg->meta.flags &= ~CQL_META_HAS_MORE_PAGES;
		pg->meta.paging_state = NULL;
		pg->meta.paging_state_len = 0;
	} else if (!same_columns(&pg->meta, &page.meta)) {
		return CQL_PAGES_MALFORMED;
	}
	/* The cells must be whole: the pages' rows are read as one. */
	start = page.rd.p + page.rd.off;
	for (i = 0; i < page.nrows * page.meta.ncols && !page.rd.err; i++)
		(void)cql_rd_bytes(&page.rd, &n);
	if (page.rd.err)
		return CQL_PAGES_MALFORMED;
	len = (size_t)(page.rd.p + page.rd.off - start);
	if (len > CQL_PAGES_MAX_BYTES - pg->rows.len)
		return CQL_PAGES_TOO_LARGE;
	pg->npages++;
	if (more && pg->npages >= CQL_PAGES_MAX)
		return CQL_PAGES_TOO_LARGE;
	buf_append(&pg->rows, start, len);
	pg->nrows += page.nrows;
	buf_reset(&pg->state);
	if (more)
		buf_append(&pg->state, page.meta.paging_state, page.meta.paging_state_len);
	if (pg->rows.oom || pg->state.oom)
		return CQL_PAGES_NO_MEMORY;
	return more ? CQL_PAGES_MORE : CQL_PAGES_DONE;
}

/* cql_pages_state - the paging state of the last page added */
const uint8_t *cql_pages_state(const struct cql_pages *pg, size_t *len)
{
	*len = pg->state.len;
	return pg->state.len ? pg->state.data : NULL;
}

/* cql_pages_rows - read every page's rows as one result */
void cql_pages_rows(const struct cql_pages *pg, struct cql_rows *r)
{
	memset(r, 0, sizeof(*r));
	r->meta = pg->meta;
	r->nrows = pg->nrows;
	cql_rd_init(&r->rd, pg->rows.data, pg->rows.len);
}

/* cql_pages_status_name - for logs */
const char *cql_pages_status_name(enum cql_pages_status st)
{
	switch (st) {
	case CQL_PAGES_DONE: return "complete";
	case CQL_PAGES_MORE: return "more pages";
	case CQL_PAGES_MALFORMED: return "malformed page";
	case CQL_PAGES_NO_METADATA: return "rows without column metadata";
	case CQL_PAGES_TOO_LARGE: return "over the paging bound";
	case CQL_PAGES_NO_MEMORY: return "out of memory";
	}
	return "unknown";
}
