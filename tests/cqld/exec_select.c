/*
 * ex_select - SELECT, and the metadata of results: Rows and Prepared
 *
 * SYNOPSIS
 *	#include "exec_int.h"
 *
 *	int ex_select(struct ex_ctx *x, const char *keyspace, struct buf *out)
 *
 *	int ex_result_rows(struct ex_ctx *x, struct buf *out, const char *ks,
 *		const char *table, const struct ex_rescol *cols, size_t ncols,
 *		const struct st_value *const *cells, size_t nrows)
 *
 *	int ex_prepare(...)	(exec.h)
 *
 * DESCRIPTION
 *	ex_select() runs a SELECT: the WHERE clause checked the way
 *	Cassandra 3.11 checks it (partition key by EQ, ALLOW FILTERING,
 *	ORDER BY on the first clustering column), the matching rows
 *	collected, count(*), DISTINCT and LIMIT applied.
 *
 *	ex_result_rows() encodes a RESULT Rows body, cut into pages by the
 *	client's page size and the "paging" control command; the paging
 *	state is ours (EX_PAGING_MAGIC, the next row, the phase of the
 *	empty pages). ex_prepare() answers PREPARE with the metadata of the
 *	bind markers and of the result columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

#define EX_PAGING_MAGIC		"cqld"	/* first bytes of our paging state */
#define EX_PAGING_LEN		13	/* magic, 8-byte row offset, phase */
#define EX_PHASE_ROWS		1	/* phase: the empty page was sent */

static const char ex_filtering_msg[] =
	"Cannot execute this query as it might involve data filtering and "
	"thus may have unpredictable performance. If you want to execute "
	"this query despite the performance unpredictability, use ALLOW "
	"FILTERING";

/* ---- result encoding -------------------------------------------- */

/* wr_type - a column type as an [option] */
static void wr_type(struct buf *out, const struct cl_type *ty)
{
	struct cql_type ct = { .id = ty->id, .elem = { ty->elem[0],
						      ty->elem[1] } };

	cql_wr_type(out, &ct);
}

/* wr_metadata - rows metadata with a global table spec */
static void wr_metadata(struct buf *out, const char *ks, const char *table,
			const struct ex_rescol *cols, size_t n, int no_meta,
			const uint8_t *paging, size_t plen)
{
	int32_t flags = 0;
	size_t i;

	if (paging)
		flags |= CQL_META_HAS_MORE_PAGES;
	if (no_meta)
		flags |= CQL_META_NO_METADATA;
	else if (n > 0)
		flags |= CQL_META_GLOBAL_TABLES_SPEC;
	cql_wr_int(out, flags);
	cql_wr_int(out, (int32_t)n);
	if (paging)
		cql_wr_bytes(out, paging, (int32_t)plen);
	if (no_meta)
		return;
	if (n > 0) {
		cql_wr_cstring(out, ks);
		cql_wr_cstring(out, table);
	}
	for (i = 0; i < n; i++) {
		cql_wr_cstring(out, cols[i].name);
		wr_type(out, &cols[i].type);
	}
}

/*
 * ex_result_rows - RESULT Rows; cells holds nrows * ncols value pointers.
 * Honours paging and skip_metadata from pp (may be NULL).
 */
int ex_result_rows(struct ex_ctx *x, struct buf *out, const char *ks,
		       const char *table, const struct ex_rescol *cols,
		       size_t ncols, const struct st_value *const *cells,
		       size_t nrows)
{
	const struct ex_params *pp = x->pp;
	uint8_t state[EX_PAGING_LEN];
	size_t first = 0, last = nrows, i, j, bytes = 0;
	uint64_t off;
	int phase = 0, more;

	if (pp && pp->paging_state) {
		if (pp->paging_state_len != EX_PAGING_LEN ||
		    memcmp(pp->paging_state, EX_PAGING_MAGIC, 4) != 0) {
			ex_set_error(x->err, CQL_ERR_PROTOCOL, "Invalid value "
				     "for the paging state");
			return -1;
		}
		off = (uint64_t)value_int_from_bytes(pp->paging_state + 4, 8);
		first = off > nrows ? nrows : (size_t)off;
		phase = pp->paging_state[12];
	}
	if (pp && pp->page_size > 0 && nrows - first > (size_t)pp->page_size)
		last = first + (size_t)pp->page_size;
	if (pp && pp->page_budget > 0) {
		/* Cut after the row that reaches the budget: never an empty page. */
		for (i = first; i < last; i++) {
			for (j = 0; !x->row_bytes && j < ncols; j++) {
				const struct st_value *v = cells[i * ncols + j];

				bytes += v && v->len > 0 ? (size_t)v->len : 0;
			}
			bytes += x->row_bytes ? x->row_bytes[i] : 0;
			if (bytes >= pp->page_budget) {
				last = i + 1;
				break;
			}
		}
	}
	if (pp && pp->empty_pages && phase != EX_PHASE_ROWS && first < nrows) {
		/* Zero rows, and a state that resumes at the same row. */
		last = first;
		phase = EX_PHASE_ROWS;
	} else {
		phase = 0;
	}
	more = last < nrows;
	cql_wr_int(out, CQL_RESULT_ROWS);
	if (more) {
		memcpy(state, EX_PAGING_MAGIC, 4);
		for (i = 0; i < 8; i++)
			state[4 + i] = (uint8_t)((uint64_t)last >> (56 - 8 * i));
		state[12] = (uint8_t)phase;
	}
	wr_metadata(out, ks, table, cols, ncols, pp && pp->skip_metadata,
		    more ? state : NULL, sizeof(state));
	for (i = first, j = 0; i < last; i++)
		j += !x->matched || x->matched[i];
	cql_wr_int(out, (int32_t)j);
	for (i = first; i < last; i++)
		for (j = 0; (!x->matched || x->matched[i]) && j < ncols; j++) {
			const struct st_value *v = cells[i * ncols + j];

			if (v == NULL || v->len < 0)
				cql_wr_bytes(out, NULL, -1);
			else
				cql_wr_bytes(out, v->p, v->len);
		}
	return 0;
}

/* ---- SELECT ------------------------------------------------------- */

/*
 * select_columns - result columns of a SELECT: table column index (or -1
 * for count) and name/type.
 */
static int select_columns(struct ex_ctx *x, const struct st_table *t,
			  int *idx, struct ex_rescol *rc, size_t *n)
{
	const struct cl_stmt *st = x->st;
	static const struct cl_type bigint = { .id = CQL_TYPE_BIGINT };
	size_t i;

	if (st->select_star) {
		for (i = 0; i < t->ncols; i++) {
			idx[i] = (int)i;
			rc[i].name = t->cols[i].name;
			rc[i].type = t->cols[i].type;
		}
		*n = t->ncols;
		return 0;
	}
	for (i = 0; i < st->nsel; i++) {
		const struct cl_selector *s = &st->sel[i];

		if (s->is_count) {
			idx[i] = -1;
			rc[i].name = s->alias[0] ? s->alias : "count";
			rc[i].type = bigint;
			continue;
		}
		if ((idx[i] = st_column_find(t, s->col)) < 0) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Undefined column "
				     "name %s", s->col);
			return -1;
		}
		rc[i].name = s->alias[0] ? s->alias : s->col;
		rc[i].type = t->cols[idx[i]].type;
		if (st->distinct && t->cols[idx[i]].kind != ST_PARTITION) {
			ex_set_error(x->err, CQL_ERR_INVALID, "SELECT DISTINCT "
				     "queries must only request partition key "
				     "columns and/or static columns (not %s)",
				     s->col);
			return -1;
		}
	}
	*n = st->nsel;
	return 0;
}

/* restr_match - a row satisfies a restriction */
static int restr_match(const struct st_table *t, const struct st_row *row,
		       const struct ex_restr *r)
{
	const struct st_value *v = &row->vals[r->col];
	uint16_t id = t->cols[r->col].type.id;
	int c;

	if (v->len < 0)
		return 0;
	if (value_is_collection(id)) {
		size_t n = (size_t)(v->len < r->v.len ? v->len : r->v.len);

		c = n ? memcmp(v->p, r->v.p, n) : 0;
		c = c ? c : (v->len > r->v.len) - (v->len < r->v.len);
	} else {
		c = value_compare(id, v->p, (size_t)v->len, r->v.p,
				  (size_t)r->v.len);
	}
	switch (r->op) {
	case CL_OP_EQ: return c == 0;
	case CL_OP_LT: return c < 0;
	case CL_OP_LE: return c <= 0;
	case CL_OP_GT: return c > 0;
	case CL_OP_GE: return c >= 0;
	}
	return 0;
}

/*
 * select_order - ORDER BY as Cassandra allows it: on the first clustering
 * column, with the partition key fixed (pk_fixed).
 */
static int select_order(struct ex_ctx *x, const struct st_table *t,
			int pk_fixed)
{
	const struct cl_stmt *st = x->st;
	int oc;

	if (!st->order_col[0])
		return 0;
	if ((oc = st_column_find(t, st->order_col)) < 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Undefined column "
			     "name %s", st->order_col);
		return -1;
	}
	if (!pk_fixed) {
		ex_set_error(x->err, CQL_ERR_INVALID, "ORDER BY is only "
			     "supported when the partition key is "
			     "restricted by an EQ or an IN.");
		return -1;
	}
	if (t->cols[oc].kind != ST_CLUSTERING) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Order by is "
			     "currently only supported on the clustered "
			     "columns of the PRIMARY KEY, got %s",
			     st->order_col);
		return -1;
	}
	if ((size_t)t->cols[oc].position != t->npartition) {
		ex_set_error(x->err, CQL_ERR_INVALID, "cqld: ORDER BY "
			     "is only supported on the first clustering "
			     "column");
		return -1;
	}
	return 0;
}

/*
 * select_plan - check the restrictions r of the WHERE clause the way
 * Cassandra does and find the key prefix they fix by EQ (prefix[],
 * *nprefix: 0 unless the whole partition key is fixed); the other
 * restrictions filter the rows of that range.
 */
static int select_plan(struct ex_ctx *x, const struct st_table *t,
		       const struct ex_restr *r, struct st_value *prefix,
		       size_t *nprefix)
{
	const struct cl_stmt *st = x->st;
	int key_eq[CL_MAX_COLUMNS];
	size_t i, npk_eq = 0, n = 0;
	int filtering = 0;

	/* which key parts are fixed by EQ, and is filtering needed */
	for (i = 0; i < t->nkey; i++)
		key_eq[i] = -1;
	for (i = 0; i < st->nwhere; i++) {
		const struct st_column *c = &t->cols[r[i].col];

		if (c->kind == ST_REGULAR) {
			filtering = 1;
		} else if (c->kind == ST_PARTITION && r[i].op != CL_OP_EQ) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Only EQ and IN "
				     "relation are supported on the partition "
				     "key (unless you use the token() "
				     "function)");
			return -1;
		} else if (r[i].op == CL_OP_EQ) {
			key_eq[c->position] = (int)i;
			if (c->kind == ST_PARTITION)
				npk_eq++;
		}
	}
	if (npk_eq > 0 && npk_eq < t->npartition && !st->allow_filtering) {
		char list[CQL_ERROR_MSG_MAX] = "";

		for (i = 0; i < t->npartition; i++)
			if (key_eq[i] < 0) {
				size_t len = strlen(list);

				snprintf(list + len, sizeof(list) - len, "%s%s",
					 len ? ", " : "", t->cols[t->key[i]].name);
			}
		ex_set_error(x->err, CQL_ERR_INVALID, "Partition key parts: "
			     "%s must be restricted as other parts are", list);
		return -1;
	}
	if (npk_eq == t->npartition) {
		for (n = 0; n < t->nkey && key_eq[n] >= 0; n++)
			prefix[n] = r[key_eq[n]].v;
		/* clustering restrictions past the prefix: one range only */
		for (i = 0; i < st->nwhere; i++) {
			const struct st_column *c = &t->cols[r[i].col];

			if (c->kind == ST_CLUSTERING &&
			    (size_t)c->position >= n &&
			    ((size_t)c->position != n ||
			     r[i].op == CL_OP_EQ))
				filtering = 1;
		}
	} else {
		for (i = 0; i < st->nwhere; i++)
			if (t->cols[r[i].col].kind == ST_CLUSTERING)
				filtering = 1;
	}
	if (filtering && !st->allow_filtering) {
		ex_set_error(x->err, CQL_ERR_INVALID, "%s", ex_filtering_msg);
		return -1;
	}
	*nprefix = n;
	return select_order(x, t, npk_eq == t->npartition);
}

/* same_partition - two rows of t have the same partition key */
static int same_partition(const struct st_table *t, const struct st_row *ra,
			  const struct st_row *rb)
{
	size_t p;

	for (p = 0; p < t->npartition; p++) {
		const struct st_value *a = &ra->vals[t->key[p]];
		const struct st_value *b = &rb->vals[t->key[p]];

		if (a->len != b->len || (a->len > 0 &&
		    memcmp(a->p, b->p, (size_t)a->len) != 0))
			return 0;
	}
	return 1;
}

/*
 * select_rows - the live rows of the key range prefix that match every
 * restriction, one per partition with DISTINCT, in the ORDER BY order.
 * *rowsp is malloc'ed (NULL when none match). With matchp, every live row
 * read is kept and (*matchp)[i] says whether it matches (Keyspaces pages
 * on the rows it reads, matching or not).
 */
static int select_rows(struct ex_ctx *x, const struct st_table *t,
		       const struct ex_restr *r, const struct st_value *prefix,
		       size_t nprefix, struct st_row ***rowsp, size_t *nrowsp,
		       uint8_t **matchp)
{
	const struct cl_stmt *st = x->st;
	struct st_row **rows = NULL, *prev = NULL;
	uint8_t *match = NULL;
	size_t i, j, from, to, nrows = 0;

	from = nprefix ? st_row_lower(t, prefix, nprefix) : 0;
	for (to = from; to < t->nrows; to++)
		if (nprefix && st_key_compare(t, t->rows[to], prefix,
					      nprefix) != 0)
			break;
	if (to > from && ((rows = calloc(to - from, sizeof(*rows))) == NULL ||
			  (matchp && (match = calloc(to - from, 1)) == NULL))) {
		free(rows);
		ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
		return -1;
	}
	for (i = from; i < to; i++) {
		struct st_row *row = t->rows[i];
		int ok;

		if (!st_row_live(t, row))
			continue;
		for (j = 0; j < st->nwhere; j++)
			if (!restr_match(t, row, &r[j]))
				break;
		ok = j == st->nwhere && !(st->distinct && prev &&
					  same_partition(t, prev, row));
		if (ok)
			prev = row;
		if (!ok && !match)
			continue;
		if (match)
			match[nrows] = (uint8_t)ok;
		rows[nrows++] = row;
	}
	if (st->order_col[0]) {
		int oc = st_column_find(t, st->order_col);

		if (st->order_desc != t->cols[oc].desc)
			for (i = 0; i < nrows / 2; i++) {
				struct st_row *tmp = rows[i];
				uint8_t m = match ? match[i] : 0;

				rows[i] = rows[nrows - 1 - i];
				rows[nrows - 1 - i] = tmp;
				if (match) {
					match[i] = match[nrows - 1 - i];
					match[nrows - 1 - i] = m;
				}
			}
	}
	*rowsp = rows;
	*nrowsp = nrows;
	if (matchp)
		*matchp = match;
	return 0;
}

/* row_sizes - bytes of every column of each row (NULL: none, or no memory) */
static size_t *row_sizes(const struct st_table *t, struct st_row *const *rows,
			 size_t nrows)
{
	size_t *n = nrows ? calloc(nrows, sizeof(*n)) : NULL;
	size_t i, c;

	for (i = 0; n && i < nrows; i++)
		for (c = 0; c < t->ncols; c++)
			n[i] += rows[i]->vals[c].len > 0 ?
				(size_t)rows[i]->vals[c].len : 0;
	return n;
}

/* ex_select - SELECT */
int ex_select(struct ex_ctx *x, const char *keyspace, struct buf *out)
{
	const struct cl_stmt *st = x->st;
	struct st_keyspace *k;
	struct st_table *t;
	struct ex_restr r[CL_MAX_WHERE];
	struct ex_rescol rc[CL_MAX_COLUMNS];
	int idx[CL_MAX_COLUMNS];
	struct st_value prefix[CL_MAX_COLUMNS];
	struct st_row **rows = NULL;
	const struct st_value **cells = NULL;
	struct st_value countv;
	uint8_t countb[8], *match = NULL;
	size_t nrc, i, j, nprefix = 0, nrows = 0, outrows;
	int has_count = 0, rc_ret = -1, read_all;
	int64_t limit = -1;

	if (ex_resolve(x, keyspace, &k, &t) < 0 || ex_map_values(x) < 0 ||
	    select_columns(x, t, idx, rc, &nrc) < 0 ||
	    ex_eval_where(x, t, r) < 0)
		return -1;
	if (ex_eval_int(x, &st->limit, CQL_TYPE_INT, "[limit]", &limit) < 0)
		return -1;
	if (st->limit.kind != CL_TERM_NULL && limit <= 0 && limit != -1) {
		ex_set_error(x->err, CQL_ERR_INVALID, "LIMIT must be strictly "
			     "positive");
		return -1;
	}
	for (i = 0; i < nrc; i++)
		if (idx[i] < 0)
			has_count = 1;
	/* Keyspaces: pages hold the rows read, the filtered-out ones too */
	read_all = x->pp && x->pp->budget_rows && !has_count;
	if (select_plan(x, t, r, prefix, &nprefix) < 0 ||
	    select_rows(x, t, r, prefix, nprefix, &rows, &nrows,
			read_all ? &match : NULL) < 0)
		return -1;
	if (has_count) {
		int64_t cnt = (int64_t)nrows;

		for (i = 0; i < 8; i++)
			countb[i] = (uint8_t)((uint64_t)cnt >> (56 - 8 * i));
		countv.p = countb;
		countv.len = 8;
		nrows = nrows > 0 ? 1 : 0;	/* other selectors: first row */
	}
	if (limit > 0 && match) {
		/* the rows read up to the LIMIT-th that matches */
		for (i = 0, j = 0; i < nrows && j < (uint64_t)limit; i++)
			j += match[i];
		nrows = i;
	} else if (limit > 0 && (uint64_t)limit < nrows) {
		nrows = (size_t)limit;
	}
	outrows = has_count ? 1 : nrows;
	cells = calloc(outrows * nrc + 1, sizeof(*cells));
	if (cells == NULL) {
		ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
		goto out;
	}
	for (i = 0; i < outrows; i++)
		for (j = 0; j < nrc; j++) {
			if (idx[j] < 0)
				cells[i * nrc + j] = &countv;
			else if (i < nrows)
				cells[i * nrc + j] = &rows[i]->vals[idx[j]];
			else
				cells[i * nrc + j] = NULL;
		}
	x->matched = match;
	if (read_all &&
	    (x->row_bytes = row_sizes(t, rows, nrows)) == NULL && nrows) {
		ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
		goto out;
	}
	if (ex_result_rows(x, out, k->name, t->name, rc, nrc, cells,
			   outrows) < 0)
		goto out;
	rc_ret = 0;
out:
	free((void *)x->row_bytes);
	x->row_bytes = NULL;
	x->matched = NULL;
	free(match);
	free(rows);
	free(cells);
	return rc_ret;
}

/* bind_type - type and name of a bind marker in table t */
static int bind_type(struct ex_ctx *x, const struct st_table *t, size_t i,
		     struct ex_rescol *rc)
{
	const struct cl_bindref *b = &x->st->binds[i];
	int c;

	memset(&rc->type, 0, sizeof(rc->type));
	rc->name = ex_bind_name(b);
	switch (b->role) {
	case CL_BIND_LIMIT:
	case CL_BIND_TTL:
		rc->type.id = CQL_TYPE_INT;
		return 0;
	case CL_BIND_TIMESTAMP:
		rc->type.id = CQL_TYPE_BIGINT;
		return 0;
	case CL_BIND_COLUMN:
		break;
	}
	if (t == NULL || (c = st_column_find(t, b->col)) < 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Undefined column name %s",
			     b->col);
		return -1;
	}
	rc->type = t->cols[c].type;
	return 0;
}

/* pk_bind_index - marker that binds key part p by EQ, or -1 */
static int pk_bind_index(const struct cl_stmt *st, const struct st_table *t,
			 size_t p)
{
	const char *name = t->cols[t->key[p]].name;
	size_t i;

	if (st->kind == CL_INSERT) {
		for (i = 0; i < st->nassign; i++)
			if (strcmp(st->assign[i].col, name) == 0 &&
			    st->assign[i].value.kind == CL_TERM_BIND)
				return st->assign[i].value.bind;
		return -1;
	}
	for (i = 0; i < st->nwhere; i++)
		if (strcmp(st->where[i].col, name) == 0 &&
		    st->where[i].op == CL_OP_EQ &&
		    st->where[i].value.kind == CL_TERM_BIND)
			return st->where[i].value.bind;
	return -1;
}

/* ex_prepare - check a statement and append a Prepared body */
int ex_prepare(struct store *s, const char *keyspace,
	       const struct cl_stmt *st, const uint8_t *id, size_t idlen,
	       uint8_t version, struct buf *out, struct cql_error *err)
{
	struct ex_ctx *x;
	struct st_keyspace *k = NULL;
	struct st_table *t = NULL;
	struct ex_rescol binds[CL_MAX_BIND], rc[CL_MAX_COLUMNS];
	int idx[CL_MAX_COLUMNS], pk[CL_MAX_COLUMNS];
	size_t i, nrc = 0, npk = 0;
	int32_t flags = 0;
	int ret = -1;

	if ((x = ex_ctx_new(s, st, NULL, err)) == NULL)
		return -1;
	if (st->kind == CL_SELECT || st->kind == CL_INSERT ||
	    st->kind == CL_UPDATE || st->kind == CL_DELETE ||
	    st->kind == CL_TRUNCATE) {
		if (ex_resolve(x, keyspace, &k, &t) < 0)
			goto out;
	}
	for (i = 0; i < st->nbind; i++)
		if (bind_type(x, t, i, &binds[i]) < 0)
			goto out;
	if (st->kind == CL_SELECT && select_columns(x, t, idx, rc, &nrc) < 0)
		goto out;
	/* v4: which markers carry the partition key, for token routing */
	if (t) {
		for (i = 0; i < t->npartition; i++) {
			if ((pk[i] = pk_bind_index(st, t, i)) < 0)
				break;
		}
		npk = i == t->npartition ? t->npartition : 0;
	}
	cql_wr_int(out, CQL_RESULT_PREPARED);
	cql_wr_short_bytes(out, id, idlen);
	if (st->nbind > 0 && t)
		flags |= CQL_META_GLOBAL_TABLES_SPEC;
	cql_wr_int(out, flags);
	cql_wr_int(out, (int32_t)st->nbind);
	if (version >= 4) {
		cql_wr_int(out, (int32_t)npk);
		for (i = 0; i < npk; i++)
			cql_wr_short(out, (uint16_t)pk[i]);
	}
	if (flags & CQL_META_GLOBAL_TABLES_SPEC) {
		cql_wr_cstring(out, t->ks);
		cql_wr_cstring(out, t->name);
	}
	for (i = 0; i < st->nbind; i++) {
		if (!(flags & CQL_META_GLOBAL_TABLES_SPEC)) {
			cql_wr_cstring(out, keyspace ? keyspace : "");
			cql_wr_cstring(out, "");
		}
		cql_wr_cstring(out, binds[i].name);
		wr_type(out, &binds[i].type);
	}
	if (st->kind == CL_SELECT)
		wr_metadata(out, t->ks, t->name, rc, nrc, 0, NULL, 0);
	else
		wr_metadata(out, "", "", NULL, 0, 1, NULL, 0);
	if (out->oom)
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
	else
		ret = 0;
out:
	ex_ctx_free(x);
	return ret;
}

