/*
 * cql_response - CQL native protocol v3/v4: the response bodies
 *
 * DESCRIPTION
 *	Part of the cql_proto module (declared in cql_proto.h): ERROR
 *	bodies (decoded, and encoded for the test server), and RESULT
 *	bodies: Prepared, Rows metadata, rows and their cells. Pure, like
 *	the rest of the codec: every length read from the wire is checked
 *	against what is left in the buffer before it is used.
 */
#include <stdio.h>
#include <string.h>

#include "cql_proto.h"

/* ---- errors ------------------------------------------------------ */

/* copy_text - copy a wire string into a fixed buffer, truncating */
static void copy_text(char *dst, size_t size, const char *s, size_t n)
{
	if (s == NULL)
		n = 0;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, s, n);
	dst[n] = 0;
}

/* cql_error_decode - decode an ERROR body */
int cql_error_decode(const uint8_t *body, size_t len, struct cql_error *e)
{
	struct cql_rd rd;
	const char *s;
	const uint8_t *id;
	size_t n;

	memset(e, 0, sizeof(*e));
	cql_rd_init(&rd, body, len);
	e->code = cql_rd_int(&rd);
	s = cql_rd_string(&rd, &n);
	copy_text(e->message, sizeof(e->message), s, n);
	switch (e->code) {
	case CQL_ERR_UNAVAILABLE:
		e->consistency = cql_rd_short(&rd);
		e->required = cql_rd_int(&rd);
		e->alive = cql_rd_int(&rd);
		break;
	case CQL_ERR_WRITE_TIMEOUT:
		e->consistency = cql_rd_short(&rd);
		e->alive = cql_rd_int(&rd);	/* received */
		e->required = cql_rd_int(&rd);	/* blockfor */
		s = cql_rd_string(&rd, &n);
		copy_text(e->write_type, sizeof(e->write_type), s, n);
		break;
	case CQL_ERR_READ_TIMEOUT:
		e->consistency = cql_rd_short(&rd);
		e->alive = cql_rd_int(&rd);
		e->required = cql_rd_int(&rd);
		e->data_present = cql_rd_byte(&rd);
		break;
	case CQL_ERR_READ_FAILURE:
		e->consistency = cql_rd_short(&rd);
		e->alive = cql_rd_int(&rd);
		e->required = cql_rd_int(&rd);
		e->failures = cql_rd_int(&rd);
		e->data_present = cql_rd_byte(&rd);
		break;
	case CQL_ERR_WRITE_FAILURE:
		e->consistency = cql_rd_short(&rd);
		e->alive = cql_rd_int(&rd);
		e->required = cql_rd_int(&rd);
		e->failures = cql_rd_int(&rd);
		s = cql_rd_string(&rd, &n);
		copy_text(e->write_type, sizeof(e->write_type), s, n);
		break;
	case CQL_ERR_FUNCTION_FAILURE:
		s = cql_rd_string(&rd, &n);
		copy_text(e->keyspace, sizeof(e->keyspace), s, n);
		s = cql_rd_string(&rd, &n);
		copy_text(e->function, sizeof(e->function), s, n);
		cql_rd_skip_string_list(&rd);
		break;
	case CQL_ERR_ALREADY_EXISTS:
		s = cql_rd_string(&rd, &n);
		copy_text(e->keyspace, sizeof(e->keyspace), s, n);
		s = cql_rd_string(&rd, &n);
		copy_text(e->table, sizeof(e->table), s, n);
		break;
	case CQL_ERR_UNPREPARED:
		id = cql_rd_short_bytes(&rd, &n);
		if (id && n <= sizeof(e->unprepared_id)) {
			memcpy(e->unprepared_id, id, n);
			e->unprepared_id_len = n;
		} else if (id) {
			rd.err = 1;
		}
		break;
	default:
		break;
	}
	return rd.err ? -1 : 0;
}

/* cql_error_encode - append an ERROR body */
void cql_error_encode(struct buf *b, const struct cql_error *e)
{
	cql_wr_int(b, e->code);
	cql_wr_cstring(b, e->message);
	switch (e->code) {
	case CQL_ERR_UNAVAILABLE:
		cql_wr_short(b, e->consistency);
		cql_wr_int(b, e->required);
		cql_wr_int(b, e->alive);
		break;
	case CQL_ERR_WRITE_TIMEOUT:
		cql_wr_short(b, e->consistency);
		cql_wr_int(b, e->alive);
		cql_wr_int(b, e->required);
		cql_wr_cstring(b, e->write_type);
		break;
	case CQL_ERR_READ_TIMEOUT:
		cql_wr_short(b, e->consistency);
		cql_wr_int(b, e->alive);
		cql_wr_int(b, e->required);
		cql_wr_byte(b, e->data_present);
		break;
	case CQL_ERR_READ_FAILURE:
		cql_wr_short(b, e->consistency);
		cql_wr_int(b, e->alive);
		cql_wr_int(b, e->required);
		cql_wr_int(b, e->failures);
		cql_wr_byte(b, e->data_present);
		break;
	case CQL_ERR_WRITE_FAILURE:
		cql_wr_short(b, e->consistency);
		cql_wr_int(b, e->alive);
		cql_wr_int(b, e->required);
		cql_wr_int(b, e->failures);
		cql_wr_cstring(b, e->write_type);
		break;
	case CQL_ERR_FUNCTION_FAILURE:
		cql_wr_cstring(b, e->keyspace);
		cql_wr_cstring(b, e->function);
		cql_wr_short(b, 0);
		break;
	case CQL_ERR_ALREADY_EXISTS:
		cql_wr_cstring(b, e->keyspace);
		cql_wr_cstring(b, e->table);
		break;
	case CQL_ERR_UNPREPARED:
		cql_wr_short_bytes(b, e->unprepared_id, e->unprepared_id_len);
		break;
	default:
		break;
	}
}

/*
 * cql_error_retryable - errors after which a read may be tried again on
 * another host: the coordinator could not answer this time, the query
 * itself is fine. Syntax, Invalid, Unauthorized and configuration errors
 * are answers about the query and would fail the same way everywhere.
 */
int cql_error_retryable(int32_t code)
{
	switch (code) {
	case CQL_ERR_SERVER:
	case CQL_ERR_UNAVAILABLE:
	case CQL_ERR_OVERLOADED:
	case CQL_ERR_IS_BOOTSTRAPPING:
	case CQL_ERR_READ_TIMEOUT:
	case CQL_ERR_READ_FAILURE:
		return 1;
	default:
		return 0;
	}
}

/* ---- results ----------------------------------------------------- */

/* cql_rd_col_spec - one column spec, keeping only name and type */
static void cql_rd_col_spec(struct cql_rd *rd, int global,
			    struct cql_column *col)
{
	const char *s;
	size_t n;

	if (!global) {
		(void)cql_rd_string(rd, &n);	/* keyspace */
		(void)cql_rd_string(rd, &n);	/* table */
	}
	s = cql_rd_string(rd, &n);
	if (col) {
		copy_text(col->name, sizeof(col->name), s, n);
		cql_rd_type(rd, &col->type);
	} else {
		struct cql_type skip;

		cql_rd_type(rd, &skip);
	}
}

/* cql_rd_rows_meta - read a rows metadata block */
void cql_rd_rows_meta(struct cql_rd *rd, struct cql_rows_meta *m)
{
	int32_t i;
	size_t n;
	int global;

	memset(m, 0, sizeof(*m));
	m->flags = cql_rd_int(rd);
	m->ncols = cql_rd_int(rd);
	if (m->ncols < 0 || m->ncols > CQL_MAX_COLUMNS) {
		rd->err = 1;
		return;
	}
	if (m->flags & CQL_META_HAS_MORE_PAGES) {
		int32_t len;

		m->paging_state = cql_rd_bytes(rd, &len);
		m->paging_state_len = len > 0 ? (size_t)len : 0;
	}
	if (m->flags & CQL_META_NO_METADATA)
		return;
	global = (m->flags & CQL_META_GLOBAL_TABLES_SPEC) != 0;
	if (global) {
		(void)cql_rd_string(rd, &n);
		(void)cql_rd_string(rd, &n);
	}
	for (i = 0; i < m->ncols && !rd->err; i++)
		cql_rd_col_spec(rd, global, &m->cols[i]);
}

/* cql_decode_prepared - Prepared result body, after the kind */
int cql_decode_prepared(struct cql_rd *rd, uint8_t version,
			struct cql_prepared *p)
{
	int32_t flags, i, pkc;
	size_t n;
	int global;

	memset(p, 0, sizeof(*p));
	p->id = cql_rd_short_bytes(rd, &p->idlen);
	flags = cql_rd_int(rd);
	p->nbind = cql_rd_int(rd);
	if (p->nbind < 0 || p->nbind > CQL_MAX_COLUMNS)
		return -1;
	if (version >= 4) {
		pkc = cql_rd_int(rd);
		if (pkc < 0 || pkc > CQL_MAX_COLUMNS)
			return -1;
		for (i = 0; i < pkc && !rd->err; i++)
			(void)cql_rd_short(rd);
	}
	global = (flags & CQL_META_GLOBAL_TABLES_SPEC) != 0;
	if (global) {
		(void)cql_rd_string(rd, &n);
		(void)cql_rd_string(rd, &n);
	}
	for (i = 0; i < p->nbind && !rd->err; i++) {
		struct cql_column col;

		cql_rd_col_spec(rd, global, &col);
		p->bind_types[i] = col.type;
	}
	cql_rd_rows_meta(rd, &p->result);
	return rd->err || p->id == NULL ? -1 : 0;
}

/* be_int - big-endian signed integer of 1..8 bytes */
static int64_t be_int(const uint8_t *p, size_t n)
{
	uint64_t v = (p[0] & 0x80) ? ~(uint64_t)0 : 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* cql_cell_decode - interpret a value of type t */
int cql_cell_decode(const struct cql_type *t, const uint8_t *p, int32_t len,
		    struct cql_cell *c)
{
	memset(c, 0, sizeof(*c));
	if (len < 0 || p == NULL) {
		c->kind = CQL_CELL_NULL;
		return 0;
	}
	c->p = p;
	c->len = (size_t)len;
	switch (t->id) {
	case CQL_TYPE_ASCII:
	case CQL_TYPE_VARCHAR:
		c->kind = CQL_CELL_TEXT;
		return 0;
	case CQL_TYPE_BOOLEAN:
		if (len == 0) {		/* empty value: treat as null */
			c->kind = CQL_CELL_NULL;
			return 0;
		}
		if (len != 1)
			return -1;
		c->kind = CQL_CELL_BOOL;
		c->i = p[0] != 0;
		return 0;
	case CQL_TYPE_TINYINT:
	case CQL_TYPE_SMALLINT:
	case CQL_TYPE_INT:
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER: {
		size_t want = t->id == CQL_TYPE_TINYINT ? 1 :
			      t->id == CQL_TYPE_SMALLINT ? 2 :
			      t->id == CQL_TYPE_INT ? 4 : 8;

		if (len == 0) {
			c->kind = CQL_CELL_NULL;
			return 0;
		}
		if ((size_t)len != want)
			return -1;
		c->kind = CQL_CELL_INT;
		c->i = be_int(p, want);
		return 0;
	}
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET: {
		struct cql_rd rd;
		int32_t i, n;

		if (t->nested) {
			c->kind = CQL_CELL_UNSUPPORTED;
			return 0;
		}
		cql_rd_init(&rd, p, (size_t)len);
		c->count = cql_rd_int(&rd);
		if (rd.err || c->count < 0 ||
		    (size_t)c->count > cql_rd_left(&rd) / 4)
			return -1;
		/*
		 * The elements must be exactly what the count announces: a
		 * collection cut short (or padded) would otherwise read as a
		 * shorter list, a partial answer that looks whole.
		 */
		for (i = 0; i < c->count && !rd.err; i++)
			(void)cql_rd_bytes(&rd, &n);
		if (rd.err || cql_rd_left(&rd) != 0)
			return -1;
		c->kind = CQL_CELL_COLLECTION;
		c->elem_type = t->elem[0];
		return 0;
	}
	default:
		c->kind = CQL_CELL_UNSUPPORTED;
		return 0;
	}
}

/* cql_collection_next - next element of a list/set cell */
int cql_collection_next(const struct cql_cell *coll, size_t *pos,
			struct cql_cell *elem)
{
	struct cql_type et = { .id = coll->elem_type };
	struct cql_rd rd;
	const uint8_t *p;
	int32_t n;

	if (coll->kind != CQL_CELL_COLLECTION)
		return -1;
	if (*pos == 0)
		*pos = 4;		/* skip the element count */
	if (*pos >= coll->len)
		return 0;
	cql_rd_init(&rd, coll->p, coll->len);
	rd.off = *pos;
	p = cql_rd_bytes(&rd, &n);
	if (rd.err)
		return -1;
	*pos = rd.off;
	return cql_cell_decode(&et, p, n, elem) == 0 ? 1 : -1;
}

/* cql_cell_to_text - append the text form of a scalar cell */
int cql_cell_to_text(const struct cql_cell *c, struct buf *out)
{
	switch (c->kind) {
	case CQL_CELL_TEXT:
		buf_append(out, c->p, c->len);
		return 0;
	case CQL_CELL_BOOL:
		buf_append_str(out, c->i ? "true" : "false");
		return 0;
	case CQL_CELL_INT:
		buf_printf(out, "%lld", (long long)c->i);
		return 0;
	default:
		return -1;
	}
}

/* cql_decode_rows - read rows metadata and the row count */
int cql_decode_rows(struct cql_rd *rd, const struct cql_rows_meta *meta_hint,
		    struct cql_rows *r)
{
	memset(r, 0, sizeof(*r));
	cql_rd_rows_meta(rd, &r->meta);
	if (rd->err)
		return -1;
	if ((r->meta.flags & CQL_META_NO_METADATA) && meta_hint) {
		int32_t flags = r->meta.flags;

		r->meta = *meta_hint;
		r->meta.flags = flags;
	}
	r->nrows = cql_rd_int(rd);
	if (rd->err || r->nrows < 0)
		return -1;
	/*
	 * Every cell takes at least its 4-byte length, so a row count the
	 * body cannot hold is refused now; and rows of no columns never come
	 * from a SELECT: 2^31 of them would cost nothing on the wire and hold
	 * the loop for seconds (found by fuzz_cql_frame).
	 */
	if (r->nrows > 0 && (r->meta.ncols == 0 ||
	    (uint64_t)r->nrows * (uint64_t)r->meta.ncols * 4 > cql_rd_left(rd)))
		return -1;
	r->rd = *rd;
	return 0;
}

/* cql_rows_next - decode the next row's cells */
int cql_rows_next(struct cql_rows *r, struct cql_cell *cells)
{
	int32_t i, n;
	const uint8_t *p;

	if (r->next >= r->nrows)
		return 0;
	for (i = 0; i < r->meta.ncols; i++) {
		p = cql_rd_bytes(&r->rd, &n);
		if (r->rd.err)
			return -1;
		if (cql_cell_decode(&r->meta.cols[i].type, p, n, &cells[i]) != 0)
			return -1;
	}
	r->next++;
	return 1;
}
