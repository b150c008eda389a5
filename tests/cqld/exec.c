/*
 * exec - run parsed CQL statements against cqld's store
 *
 * DESCRIPTION
 *	See exec.h. Error codes and messages follow Cassandra 3.11, which is
 *	what system.local claims to be.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec.h"
#include "value.h"

#define EX_KS_NAME_MAX		48	/* Cassandra's limit for names */
#define EX_PAGING_MAGIC		"cqld"	/* first bytes of our paging state */
#define EX_PAGING_LEN		13	/* magic, 8-byte row offset, phase */
#define EX_PHASE_ROWS		1	/* phase: the empty page was sent */
#define EX_NSLOTS		(CL_MAX_COLUMNS + CL_MAX_WHERE + 4)
#define EX_RACK			"rack1"	/* every node's rack */
#define EX_CQL_VERSION		"3.4.4"

static const char ex_filtering_msg[] =
	"Cannot execute this query as it might involve data filtering and "
	"thus may have unpredictable performance. If you want to execute "
	"this query despite the performance unpredictability, use ALLOW "
	"FILTERING";

static const struct ex_node *ex_self;	/* this node and its peers */
static int ex_internal;		/* writes to system tables allowed */
static int ex_booting;		/* ex_init is creating the system tables */

/* One statement being executed */
struct ex_ctx {
	struct store *s;
	const struct cl_stmt *st;
	const struct ex_params *pp;
	struct cql_error *err;
	int vmap[CL_MAX_BIND];	/* value index of each bind marker */
	struct buf slot[EX_NSLOTS];	/* storage for evaluated values */
	size_t nslot;
};

/* A restriction of the WHERE clause, evaluated */
struct ex_restr {
	int col;
	enum cl_op op;
	struct st_value v;
};

/* A column of a result */
struct ex_rescol {
	const char *name;
	struct cl_type type;
};

/* ex_set_error - fill a cql_error with code and formatted message */
void ex_set_error(struct cql_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* ex_is_system_keyspace - a keyspace cqld keeps for drivers */
int ex_is_system_keyspace(const char *ks)
{
	return strcmp(ks, "system") == 0 || strcmp(ks, "system_schema") == 0 ||
	       strcmp(ks, "system_auth") == 0 ||
	       strcmp(ks, "system_distributed") == 0 ||
	       strcmp(ks, "system_traces") == 0;
}

/* has_table - statement kinds that work on a table */
static int has_table(enum cl_kind k)
{
	return k != CL_CREATE_KEYSPACE && k != CL_DROP_KEYSPACE && k != CL_USE;
}

/* ex_target - keyspace and table a statement works on */
int ex_target(const char *keyspace, const struct cl_stmt *st,
	      char *ks, char *table)
{
	table[0] = 0;
	if (!has_table(st->kind)) {
		snprintf(ks, CL_NAME_MAX, "%s", st->ks);
		return 0;
	}
	snprintf(table, CL_NAME_MAX, "%s", st->table);
	if (st->ks[0])
		snprintf(ks, CL_NAME_MAX, "%s", st->ks);
	else if (keyspace && keyspace[0])
		snprintf(ks, CL_NAME_MAX, "%s", keyspace);
	else
		return -1;
	return 0;
}

/* ---- resolution ---------------------------------------------------- */

/* resolve - the keyspace and table of a table statement */
static int resolve(struct ex_ctx *x, const char *keyspace,
		   struct st_keyspace **kp, struct st_table **tp)
{
	char ks[CL_NAME_MAX], table[CL_NAME_MAX];

	if (ex_target(keyspace, x->st, ks, table) < 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "No keyspace has been "
			     "specified. USE a keyspace, or explicitly specify "
			     "keyspace.tablename");
		return -1;
	}
	if ((*kp = st_keyspace_find(x->s, ks)) == NULL) {
		ex_set_error(x->err, CQL_ERR_INVALID,
			     "Keyspace '%s' does not exist", ks);
		return -1;
	}
	if ((*tp = st_table_find(*kp, table)) == NULL) {
		ex_set_error(x->err, CQL_ERR_INVALID, "unconfigured table %s",
			     table);
		return -1;
	}
	return 0;
}

/* writable - refuse changes to system keyspaces from clients */
static int writable(struct ex_ctx *x, const char *ks)
{
	if (ex_internal || !ex_is_system_keyspace(ks))
		return 0;
	ex_set_error(x->err, CQL_ERR_UNAUTHORIZED,
		     "%s keyspace is not user-modifiable.", ks);
	return -1;
}

/* bind_name - the name PREPARE reports for a bind marker */
static const char *bind_name(const struct cl_bindref *b)
{
	switch (b->role) {
	case CL_BIND_LIMIT: return "[limit]";
	case CL_BIND_TTL: return "[ttl]";
	case CL_BIND_TIMESTAMP: return "[timestamp]";
	default: return b->col;
	}
}

/* map_values - match bound values to markers (by position or name) */
static int map_values(struct ex_ctx *x)
{
	const struct ex_params *pp = x->pp;
	const struct cl_stmt *st = x->st;
	size_t i, j;

	if (pp->nvalues != st->nbind) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Invalid amount of bind "
			     "variables: expected %zu, got %zu", st->nbind,
			     pp->nvalues);
		return -1;
	}
	for (i = 0; i < st->nbind; i++) {
		if (pp->names == NULL) {
			x->vmap[i] = (int)i;
			continue;
		}
		/* every marker of that name takes the named value */
		for (j = 0; j < pp->nvalues; j++) {
			const char *n = bind_name(&st->binds[i]);

			if (strlen(n) == pp->names[j].len &&
			    strncasecmp(n, pp->names[j].p, pp->names[j].len) == 0)
				break;
		}
		if (j == pp->nvalues) {
			ex_set_error(x->err, CQL_ERR_INVALID, "No value for "
				     "bind variable %s",
				     bind_name(&st->binds[i]));
			return -1;
		}
		x->vmap[i] = (int)j;
	}
	return 0;
}

enum { EV_VALUE, EV_NULL, EV_UNSET };

/*
 * eval - value of term t for a column of type ty, into a fresh slot.
 * Returns EV_VALUE (with *v), EV_NULL or EV_UNSET, or -1 with x->err.
 */
static int eval(struct ex_ctx *x, const struct cl_term *t,
		const struct cl_type *ty, const char *col, struct st_value *v)
{
	char msg[VALUE_ERR_MAX];
	struct buf *b;
	int is_null;

	if (x->nslot >= EX_NSLOTS) {
		ex_set_error(x->err, CQL_ERR_SERVER, "cqld: too many values");
		return -1;
	}
	b = &x->slot[x->nslot++];
	if (t->kind == CL_TERM_BIND) {
		const struct ex_value *bv;

		if (x->pp == NULL || t->bind < 0 ||
		    (size_t)t->bind >= x->st->nbind) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Invalid amount "
				     "of bind variables");
			return -1;
		}
		bv = &x->pp->values[x->vmap[t->bind]];
		if (bv->len == EX_UNSET)
			return EV_UNSET;
		if (bv->len < 0)
			return EV_NULL;
		if (value_check(ty, bv->p, (size_t)bv->len, col, b, &is_null,
				msg, sizeof(msg)) < 0) {
			ex_set_error(x->err, CQL_ERR_INVALID, "%s", msg);
			return -1;
		}
	} else if (value_from_term(ty, t, col, b, &is_null, msg,
				   sizeof(msg)) < 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "%s", msg);
		return -1;
	}
	if (is_null)
		return EV_NULL;
	v->p = b->data;
	v->len = (int32_t)b->len;
	return EV_VALUE;
}

/* eval_int - an integer parameter (LIMIT, TTL, TIMESTAMP); 1 if given */
static int eval_int(struct ex_ctx *x, const struct cl_term *t, uint16_t id,
		    const char *name, int64_t *out)
{
	struct cl_type ty = { .id = id };
	struct st_value v;
	int rc;

	if (t->kind == CL_TERM_NULL)
		return 0;	/* absent */
	rc = eval(x, t, &ty, name, &v);
	if (rc < 0)
		return -1;
	if (rc == EV_UNSET)
		return 0;
	if (rc == EV_NULL || v.len == 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Invalid null value of "
			     "%s", name);
		return -1;
	}
	*out = value_int_from_bytes(v.p, (size_t)v.len);
	return 1;
}

/* eval_where - evaluate the WHERE clause against table t */
static int eval_where(struct ex_ctx *x, const struct st_table *t,
		      struct ex_restr *r)
{
	const struct cl_stmt *st = x->st;
	size_t i, j;
	int rc;

	for (i = 0; i < st->nwhere; i++) {
		const struct cl_relation *rel = &st->where[i];

		if ((r[i].col = st_column_find(t, rel->col)) < 0) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Undefined column "
				     "name %s", rel->col);
			return -1;
		}
		r[i].op = rel->op;
		for (j = 0; j < i; j++)
			if (r[j].col == r[i].col &&
			    (r[j].op == CL_OP_EQ || r[i].op == CL_OP_EQ)) {
				ex_set_error(x->err, CQL_ERR_INVALID, "%s cannot "
					     "be restricted by more than one "
					     "relation if it includes an Equal",
					     rel->col);
				return -1;
			}
		rc = eval(x, &rel->value, &t->cols[r[i].col].type, rel->col,
			  &r[i].v);
		if (rc < 0)
			return -1;
		if (rc == EV_UNSET) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Invalid unset "
				     "value for column %s", rel->col);
			return -1;
		}
		if (rc == EV_NULL) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Invalid null "
				     "value in condition for column %s",
				     rel->col);
			return -1;
		}
	}
	return 0;
}

/* missing_parts - "Some partition key parts are missing: a, b" */
static int missing_parts(struct ex_ctx *x, const struct st_table *t,
			 const int *have, int clustering)
{
	char list[CQL_ERROR_MSG_MAX] = "";
	size_t i, from = clustering ? t->npartition : 0;
	size_t to = clustering ? t->nkey : t->npartition;
	int any = 0;

	for (i = from; i < to; i++)
		if (!have[i]) {
			size_t n = strlen(list);

			snprintf(list + n, sizeof(list) - n, "%s%s",
				 any ? ", " : "", t->cols[t->key[i]].name);
			any = 1;
		}
	if (!any)
		return 0;
	ex_set_error(x->err, CQL_ERR_INVALID, clustering ?
		     "Some clustering keys are missing: %s" :
		     "Some partition key parts are missing: %s", list);
	return -1;
}

/*
 * where_key - from the WHERE clause of UPDATE/DELETE: the key values; all
 * partition parts required, clustering parts required when full, else a
 * prefix. *nkey gets the number of parts given.
 */
static int where_key(struct ex_ctx *x, const struct st_table *t,
		     struct st_value *key, size_t *nkey, int full)
{
	struct ex_restr r[CL_MAX_WHERE];
	int have[CL_MAX_COLUMNS] = {0};
	size_t i, n;

	if (eval_where(x, t, r) < 0)
		return -1;
	for (i = 0; i < x->st->nwhere; i++) {
		const struct st_column *c = &t->cols[r[i].col];

		if (c->kind == ST_REGULAR) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Non PRIMARY KEY "
				     "columns found in where clause: %s",
				     c->name);
			return -1;
		}
		if (r[i].op != CL_OP_EQ) {
			ex_set_error(x->err, CQL_ERR_INVALID, c->kind ==
				     ST_PARTITION ? "Only EQ and IN relation "
				     "are supported on the partition key "
				     "(unless you use the token() function)" :
				     "cqld: range restrictions on clustering "
				     "column %s are not supported here",
				     c->name);
			return -1;
		}
		key[c->position] = r[i].v;
		have[c->position] = 1;
	}
	if (missing_parts(x, t, have, 0) < 0)
		return -1;
	for (n = t->npartition; n < t->nkey && have[n]; n++)
		;
	if (full && missing_parts(x, t, have, 1) < 0)
		return -1;
	for (i = n; i < t->nkey; i++)
		if (have[i]) {
			ex_set_error(x->err, CQL_ERR_INVALID, "PRIMARY KEY "
				     "column \"%s\" cannot be restricted as "
				     "preceding column \"%s\" is not "
				     "restricted", t->cols[t->key[i]].name,
				     t->cols[t->key[n]].name);
			return -1;
		}
	*nkey = n;
	return 0;
}

/* check_key_values - Cassandra's refusal of empty partition keys */
static int check_key_values(struct ex_ctx *x, const struct st_table *t,
			    const struct st_value *key)
{
	if (t->npartition == 1 && key[0].len == 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Key may not be empty");
		return -1;
	}
	return 0;
}

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

/* result_void - RESULT Void */
static void result_void(struct buf *out)
{
	cql_wr_int(out, CQL_RESULT_VOID);
}

/* result_schema_change - RESULT SchemaChange (v3/v4 layout) */
static void result_schema_change(struct buf *out, const char *change,
				 const char *ks, const char *table)
{
	cql_wr_int(out, CQL_RESULT_SCHEMA_CHANGE);
	cql_wr_cstring(out, change);
	cql_wr_cstring(out, table ? "TABLE" : "KEYSPACE");
	cql_wr_cstring(out, ks);
	if (table)
		cql_wr_cstring(out, table);
}

/*
 * result_rows - RESULT Rows; cells holds nrows * ncols value pointers.
 * Honours paging and skip_metadata from pp (may be NULL).
 */
static int result_rows(struct ex_ctx *x, struct buf *out, const char *ks,
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
			for (j = 0; j < ncols; j++) {
				const struct st_value *v = cells[i * ncols + j];

				bytes += v && v->len > 0 ? (size_t)v->len : 0;
			}
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
	cql_wr_int(out, (int32_t)(last - first));
	for (i = first; i < last; i++)
		for (j = 0; j < ncols; j++) {
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

/* exec_select - SELECT */
static int exec_select(struct ex_ctx *x, const char *keyspace,
		       struct buf *out)
{
	const struct cl_stmt *st = x->st;
	struct st_keyspace *k;
	struct st_table *t;
	struct ex_restr r[CL_MAX_WHERE];
	struct ex_rescol rc[CL_MAX_COLUMNS];
	int idx[CL_MAX_COLUMNS];
	int key_eq[CL_MAX_COLUMNS];
	struct st_value prefix[CL_MAX_COLUMNS];
	struct st_row **rows = NULL;
	const struct st_value **cells = NULL;
	struct st_value countv;
	uint8_t countb[8];
	size_t nrc, i, j, npk_eq = 0, nprefix = 0, nrows = 0, from, to;
	int filtering = 0, has_count = 0, rc_ret = -1;
	int64_t limit = -1;

	if (resolve(x, keyspace, &k, &t) < 0 || map_values(x) < 0 ||
	    select_columns(x, t, idx, rc, &nrc) < 0 ||
	    eval_where(x, t, r) < 0)
		return -1;
	if (eval_int(x, &st->limit, CQL_TYPE_INT, "[limit]", &limit) < 0)
		return -1;
	if (st->limit.kind != CL_TERM_NULL && limit <= 0 && limit != -1) {
		ex_set_error(x->err, CQL_ERR_INVALID, "LIMIT must be strictly "
			     "positive");
		return -1;
	}
	for (i = 0; i < nrc; i++)
		if (idx[i] < 0)
			has_count = 1;

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
				size_t n = strlen(list);

				snprintf(list + n, sizeof(list) - n, "%s%s",
					 n ? ", " : "", t->cols[t->key[i]].name);
			}
		ex_set_error(x->err, CQL_ERR_INVALID, "Partition key parts: "
			     "%s must be restricted as other parts are", list);
		return -1;
	}
	if (npk_eq == t->npartition) {
		for (nprefix = 0; nprefix < t->nkey && key_eq[nprefix] >= 0;
		     nprefix++)
			prefix[nprefix] = r[key_eq[nprefix]].v;
		/* clustering restrictions past the prefix: one range only */
		for (i = 0; i < st->nwhere; i++) {
			const struct st_column *c = &t->cols[r[i].col];

			if (c->kind == ST_CLUSTERING &&
			    (size_t)c->position >= nprefix &&
			    ((size_t)c->position != nprefix ||
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
	if (st->order_col[0]) {
		int oc = st_column_find(t, st->order_col);

		if (oc < 0) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Undefined column "
				     "name %s", st->order_col);
			return -1;
		}
		if (npk_eq != t->npartition) {
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
	}

	/* collect matching rows */
	from = nprefix ? st_row_lower(t, prefix, nprefix) : 0;
	for (to = from; to < t->nrows; to++)
		if (nprefix && st_key_compare(t, t->rows[to], prefix,
					      nprefix) != 0)
			break;
	if (to > from && (rows = calloc(to - from, sizeof(*rows))) == NULL) {
		ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
		return -1;
	}
	for (i = from; i < to; i++) {
		struct st_row *row = t->rows[i];

		if (!st_row_live(t, row))
			continue;
		for (j = 0; j < st->nwhere; j++)
			if (!restr_match(t, row, &r[j]))
				break;
		if (j < st->nwhere)
			continue;
		if (st->distinct && nrows > 0) {
			size_t p;
			int same = 1;

			for (p = 0; p < t->npartition; p++) {
				const struct st_value *a =
					&rows[nrows - 1]->vals[t->key[p]];
				const struct st_value *b =
					&row->vals[t->key[p]];

				if (a->len != b->len || (a->len > 0 &&
				    memcmp(a->p, b->p, (size_t)a->len) != 0))
					same = 0;
			}
			if (same)
				continue;
		}
		rows[nrows++] = row;
	}
	if (st->order_col[0]) {
		int oc = st_column_find(t, st->order_col);

		if (st->order_desc != t->cols[oc].desc)
			for (i = 0; i < nrows / 2; i++) {
				struct st_row *tmp = rows[i];

				rows[i] = rows[nrows - 1 - i];
				rows[nrows - 1 - i] = tmp;
			}
	}
	if (has_count) {
		int64_t cnt = (int64_t)nrows;

		for (i = 0; i < 8; i++)
			countb[i] = (uint8_t)((uint64_t)cnt >> (56 - 8 * i));
		countv.p = countb;
		countv.len = 8;
		nrows = nrows > 0 ? 1 : 0;	/* other selectors: first row */
	}
	if (limit > 0 && (uint64_t)limit < nrows)
		nrows = (size_t)limit;
	{
		size_t outrows = has_count ? 1 : nrows;

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
					cells[i * nrc + j] =
						&rows[i]->vals[idx[j]];
				else
					cells[i * nrc + j] = NULL;
			}
		if (result_rows(x, out, k->name, t->name, rc, nrc, cells,
				outrows) < 0)
			goto out;
	}
	rc_ret = 0;
out:
	free(rows);
	free(cells);
	return rc_ret;
}

/* ---- modifications ------------------------------------------------ */

/* lwt_result - rows with [applied] and, when not applied, the row */
static int lwt_result(struct ex_ctx *x, struct buf *out,
		      const struct st_table *t, int applied,
		      const struct st_row *row)
{
	struct ex_rescol rc[CL_MAX_COLUMNS + 1];
	const struct st_value *cells[CL_MAX_COLUMNS + 1];
	static const uint8_t yes = 1, no = 0;
	struct st_value av;
	const struct ex_params *save = x->pp;
	struct ex_params pp;
	size_t i, n = 1;
	int rc_ret;

	av.p = (uint8_t *)(applied ? &yes : &no);
	av.len = 1;
	rc[0].name = "[applied]";
	memset(&rc[0].type, 0, sizeof(rc[0].type));
	rc[0].type.id = CQL_TYPE_BOOLEAN;
	cells[0] = &av;
	if (!applied && row) {
		for (i = 0; i < t->ncols && i < CL_MAX_COLUMNS; i++) {
			rc[n].name = t->cols[i].name;
			rc[n].type = t->cols[i].type;
			cells[n++] = &row->vals[i];
		}
	}
	/* LWT results always carry their metadata */
	memset(&pp, 0, sizeof(pp));
	x->pp = &pp;
	rc_ret = result_rows(x, out, t->ks, t->name, rc, n, cells, 1);
	x->pp = save;
	return rc_ret;
}

/* check_using - evaluate (and check) USING TTL / TIMESTAMP, then ignore */
static int check_using(struct ex_ctx *x)
{
	int64_t v = 0;
	int rc;

	if ((rc = eval_int(x, &x->st->ttl, CQL_TYPE_INT, "[ttl]", &v)) < 0)
		return -1;
	if (rc > 0 && v < 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "A TTL must be greater "
			     "or equal to 0, but was %lld", (long long)v);
		return -1;
	}
	if (eval_int(x, &x->st->timestamp, CQL_TYPE_BIGINT, "[timestamp]",
		     &v) < 0)
		return -1;
	return 0;
}

/* exec_insert - INSERT */
static int exec_insert(struct ex_ctx *x, const char *keyspace,
		       struct buf *out)
{
	const struct cl_stmt *st = x->st;
	struct st_keyspace *k;
	struct st_table *t;
	struct st_value key[CL_MAX_COLUMNS], vals[CL_MAX_COLUMNS];
	int cols[CL_MAX_COLUMNS], state[CL_MAX_COLUMNS];
	int have[CL_MAX_COLUMNS] = {0};
	struct st_row *row;
	size_t i;

	if (resolve(x, keyspace, &k, &t) < 0 || writable(x, k->name) < 0 ||
	    map_values(x) < 0 || check_using(x) < 0)
		return -1;
	for (i = 0; i < st->nassign; i++) {
		const struct cl_assign *a = &st->assign[i];
		const struct st_column *c;

		if ((cols[i] = st_column_find(t, a->col)) < 0) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Undefined column "
				     "name %s", a->col);
			return -1;
		}
		c = &t->cols[cols[i]];
		if (c->type.id == CQL_TYPE_COUNTER) {
			ex_set_error(x->err, CQL_ERR_INVALID, "INSERT statements "
				     "are not allowed on counter tables, use "
				     "UPDATE instead");
			return -1;
		}
		if ((state[i] = eval(x, &a->value, &c->type, a->col,
				     &vals[i])) < 0)
			return -1;
		if (c->kind != ST_REGULAR) {
			if (state[i] == EV_UNSET) {
				ex_set_error(x->err, CQL_ERR_INVALID, "Invalid "
					     "unset value for column %s",
					     a->col);
				return -1;
			}
			if (state[i] == EV_NULL) {
				ex_set_error(x->err, CQL_ERR_INVALID, "Invalid "
					     "null value in condition for "
					     "column %s", a->col);
				return -1;
			}
			key[c->position] = vals[i];
			have[c->position] = 1;
		}
	}
	if (missing_parts(x, t, have, 0) < 0 || missing_parts(x, t, have, 1) < 0 ||
	    check_key_values(x, t, key) < 0)
		return -1;
	row = st_row_get(t, key, 0);
	if (st->if_not_exists && row && st_row_live(t, row))
		return lwt_result(x, out, t, 0, row);
	if ((row = st_row_get(t, key, 1)) == NULL) {
		ex_set_error(x->err, CQL_ERR_SERVER, "cqld: out of memory or "
			     "too many rows");
		return -1;
	}
	row->marker = 1;
	for (i = 0; i < st->nassign; i++) {
		if (t->cols[cols[i]].kind != ST_REGULAR || state[i] == EV_UNSET)
			continue;
		if (st_row_set(t, row, cols[i], vals[i].p,
			       state[i] == EV_NULL ? -1 : vals[i].len) < 0) {
			ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
			return -1;
		}
	}
	if (st->if_not_exists)
		return lwt_result(x, out, t, 1, NULL);
	result_void(out);
	return 0;
}

/* exec_update - UPDATE */
static int exec_update(struct ex_ctx *x, const char *keyspace,
		       struct buf *out)
{
	const struct cl_stmt *st = x->st;
	struct st_keyspace *k;
	struct st_table *t;
	struct st_value key[CL_MAX_COLUMNS], vals[CL_MAX_COLUMNS];
	int cols[CL_MAX_COLUMNS], state[CL_MAX_COLUMNS];
	struct st_row *row;
	size_t i, nkey;

	if (resolve(x, keyspace, &k, &t) < 0 || writable(x, k->name) < 0 ||
	    map_values(x) < 0 || check_using(x) < 0)
		return -1;
	/* markers are numbered in text order: SET comes before WHERE */
	for (i = 0; i < st->nassign; i++) {
		const struct cl_assign *a = &st->assign[i];
		const struct st_column *c;

		if ((cols[i] = st_column_find(t, a->col)) < 0) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Undefined column "
				     "name %s", a->col);
			return -1;
		}
		c = &t->cols[cols[i]];
		if (c->kind != ST_REGULAR) {
			ex_set_error(x->err, CQL_ERR_INVALID, "PRIMARY KEY part "
				     "%s found in SET part", a->col);
			return -1;
		}
		if (c->type.id == CQL_TYPE_COUNTER) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Cannot set the "
				     "value of counter column %s (counters can "
				     "only be incremented/decremented, not set)",
				     a->col);
			return -1;
		}
		if ((state[i] = eval(x, &a->value, &c->type, a->col,
				     &vals[i])) < 0)
			return -1;
	}
	if (where_key(x, t, key, &nkey, 1) < 0 ||
	    check_key_values(x, t, key) < 0)
		return -1;
	row = st_row_get(t, key, 0);
	if (st->if_exists && (row == NULL || !st_row_live(t, row)))
		return lwt_result(x, out, t, 0, NULL);
	if ((row = st_row_get(t, key, 1)) == NULL) {
		ex_set_error(x->err, CQL_ERR_SERVER, "cqld: out of memory or "
			     "too many rows");
		return -1;
	}
	for (i = 0; i < st->nassign; i++) {
		if (state[i] == EV_UNSET)
			continue;
		if (st_row_set(t, row, cols[i], vals[i].p,
			       state[i] == EV_NULL ? -1 : vals[i].len) < 0) {
			ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
			return -1;
		}
	}
	if (!st_row_live(t, row))
		st_gc(t);
	if (st->if_exists)
		return lwt_result(x, out, t, 1, NULL);
	result_void(out);
	return 0;
}

/* exec_delete - DELETE FROM ... WHERE (partition or rows) */
static int exec_delete(struct ex_ctx *x, const char *keyspace,
		       struct buf *out)
{
	const struct cl_stmt *st = x->st;
	struct st_keyspace *k;
	struct st_table *t;
	struct st_value key[CL_MAX_COLUMNS];
	size_t nkey, from, to;

	if (resolve(x, keyspace, &k, &t) < 0 || writable(x, k->name) < 0 ||
	    map_values(x) < 0 || check_using(x) < 0 ||
	    where_key(x, t, key, &nkey, 0) < 0 ||
	    check_key_values(x, t, key) < 0)
		return -1;
	if (st->if_exists && nkey != t->nkey) {
		ex_set_error(x->err, CQL_ERR_INVALID, "DELETE statements must "
			     "restrict all PRIMARY KEY columns with equality "
			     "relations in order to use IF conditions");
		return -1;
	}
	from = st_row_lower(t, key, nkey);
	for (to = from; to < t->nrows; to++)
		if (st_key_compare(t, t->rows[to], key, nkey) != 0)
			break;
	if (st->if_exists) {
		int found = to > from && st_row_live(t, t->rows[from]);

		st_row_remove(t, from, to);
		return lwt_result(x, out, t, found, NULL);
	}
	st_row_remove(t, from, to);
	result_void(out);
	return 0;
}

/* ---- schema ------------------------------------------------------- */

static void schema_refresh(struct store *s);

/* name_ok - Cassandra's rule for keyspace and table names */
static int name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > EX_KS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

/* exec_create_keyspace - CREATE KEYSPACE */
static int exec_create_keyspace(struct ex_ctx *x, struct buf *out)
{
	const struct cl_stmt *st = x->st;

	if (!name_ok(st->ks)) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Keyspace name must not "
			     "be empty, more than %d characters long, or "
			     "contain non-alphanumeric-underscore characters "
			     "(got \"%s\")", EX_KS_NAME_MAX, st->ks);
		return -1;
	}
	if (st_keyspace_find(x->s, st->ks)) {
		if (st->if_not_exists) {
			result_void(out);
			return 0;
		}
		ex_set_error(x->err, CQL_ERR_ALREADY_EXISTS, "Cannot add "
			     "existing keyspace \"%s\"", st->ks);
		snprintf(x->err->keyspace, sizeof(x->err->keyspace), "%.63s",
			 st->ks);
		return -1;
	}
	if (ex_is_system_keyspace(st->ks) && !ex_internal)
		return writable(x, st->ks);
	if (st_keyspace_create(x->s, st->ks, &st->replication,
			       st->durable_writes != 0) == NULL) {
		ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
		return -1;
	}
	if (ex_is_system_keyspace(st->ks))
		st_keyspace_find(x->s, st->ks)->system = 1;
	schema_refresh(x->s);
	result_schema_change(out, "CREATED", st->ks, NULL);
	return 0;
}

/* exec_create_table - CREATE TABLE */
static int exec_create_table(struct ex_ctx *x, const char *keyspace,
			     struct buf *out)
{
	const struct cl_stmt *st = x->st;
	char ks[CL_NAME_MAX], table[CL_NAME_MAX], msg[CQL_ERROR_MSG_MAX];
	struct st_keyspace *k;

	if (ex_target(keyspace, st, ks, table) < 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "No keyspace has been "
			     "specified. USE a keyspace, or explicitly specify "
			     "keyspace.tablename");
		return -1;
	}
	if (!name_ok(table)) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Table name must not be "
			     "empty, more than %d characters long, or contain "
			     "non-alphanumeric-underscore characters (got "
			     "\"%s\")", EX_KS_NAME_MAX, table);
		return -1;
	}
	if ((k = st_keyspace_find(x->s, ks)) == NULL) {
		ex_set_error(x->err, CQL_ERR_CONFIG, "Cannot add table '%s' to "
			     "non existing keyspace '%s'.", table, ks);
		return -1;
	}
	if (writable(x, ks) < 0)
		return -1;
	if (st_table_find(k, table)) {
		if (st->if_not_exists) {
			result_void(out);
			return 0;
		}
		ex_set_error(x->err, CQL_ERR_ALREADY_EXISTS, "Cannot add "
			     "already existing table \"%s\" to keyspace \"%s\"",
			     table, ks);
		snprintf(x->err->keyspace, sizeof(x->err->keyspace), "%.63s", ks);
		snprintf(x->err->table, sizeof(x->err->table), "%.63s", table);
		return -1;
	}
	{
		/* st_table_create wants the table name in the statement */
		struct cl_stmt *copy = malloc(sizeof(*copy));
		struct st_table *t;

		if (copy == NULL) {
			ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
			return -1;
		}
		memcpy(copy, st, sizeof(*copy));
		snprintf(copy->table, sizeof(copy->table), "%s", table);
		t = st_table_create(x->s, k, copy, msg, sizeof(msg));
		free(copy);		/* shallow copy: owns nothing */
		if (t == NULL) {
			ex_set_error(x->err, CQL_ERR_INVALID, "%s", msg);
			return -1;
		}
	}
	schema_refresh(x->s);
	result_schema_change(out, "CREATED", ks, table);
	return 0;
}

/* exec_drop - DROP KEYSPACE / DROP TABLE */
static int exec_drop(struct ex_ctx *x, const char *keyspace,
		     struct buf *out)
{
	const struct cl_stmt *st = x->st;
	char ks[CL_NAME_MAX], table[CL_NAME_MAX];
	struct st_keyspace *k;

	if (ex_target(keyspace, st, ks, table) < 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "No keyspace has been "
			     "specified. USE a keyspace, or explicitly specify "
			     "keyspace.tablename");
		return -1;
	}
	if (writable(x, ks) < 0)
		return -1;
	k = st_keyspace_find(x->s, ks);
	if (st->kind == CL_DROP_KEYSPACE) {
		if (k == NULL) {
			if (st->if_exists) {
				result_void(out);
				return 0;
			}
			ex_set_error(x->err, CQL_ERR_CONFIG, "Cannot drop non "
				     "existing keyspace '%s'.", ks);
			return -1;
		}
		st_keyspace_drop(x->s, ks);
		schema_refresh(x->s);
		result_schema_change(out, "DROPPED", ks, NULL);
		return 0;
	}
	if (k == NULL || st_table_find(k, table) == NULL) {
		if (st->if_exists) {
			result_void(out);
			return 0;
		}
		if (k == NULL)
			ex_set_error(x->err, CQL_ERR_INVALID, "Keyspace '%s' does "
				     "not exist", ks);
		else
			ex_set_error(x->err, CQL_ERR_CONFIG, "Cannot drop non "
				     "existing table '%s' in keyspace '%s'.",
				     table, ks);
		return -1;
	}
	st_table_drop(x->s, k, table);
	schema_refresh(x->s);
	result_schema_change(out, "DROPPED", ks, table);
	return 0;
}

/* ---- entry points ------------------------------------------------- */

/* ctx_done - release a context's value storage */
static void ctx_done(struct ex_ctx *x)
{
	size_t i;

	for (i = 0; i < x->nslot; i++)
		buf_free(&x->slot[i]);
}

/* ex_execute - run a statement */
int ex_execute(struct store *s, char *keyspace, const struct cl_stmt *st,
	       const struct ex_params *pp, struct buf *out,
	       struct cql_error *err)
{
	static const struct ex_params none;
	struct ex_ctx *x;
	struct st_keyspace *k;
	struct st_table *t;
	size_t start = out->len;
	int rc = -1;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
		return -1;
	}
	x->s = s;
	x->st = st;
	x->pp = pp ? pp : &none;
	x->err = err;
	if (x->pp->nvalues != st->nbind) {
		ex_set_error(err, CQL_ERR_INVALID, "Invalid amount of bind "
			     "variables: expected %zu, got %zu", st->nbind,
			     x->pp->nvalues);
		st = NULL;
	}
	switch (st ? st->kind : (enum cl_kind)-1) {
	case CL_SELECT:
		rc = exec_select(x, keyspace, out);
		break;
	case CL_INSERT:
		rc = exec_insert(x, keyspace, out);
		break;
	case CL_UPDATE:
		rc = exec_update(x, keyspace, out);
		break;
	case CL_DELETE:
		rc = exec_delete(x, keyspace, out);
		break;
	case CL_TRUNCATE:
		if ((rc = resolve(x, keyspace, &k, &t)) == 0 &&
		    (rc = writable(x, k->name)) == 0) {
			st_table_truncate(t);
			result_void(out);
		}
		break;
	case CL_USE:
		if (st_keyspace_find(s, st->ks) == NULL) {
			ex_set_error(err, CQL_ERR_INVALID, "Keyspace '%s' does "
				     "not exist", st->ks);
			break;
		}
		if (keyspace)
			snprintf(keyspace, CL_NAME_MAX, "%s", st->ks);
		cql_wr_int(out, CQL_RESULT_SET_KEYSPACE);
		cql_wr_cstring(out, st->ks);
		rc = 0;
		break;
	case CL_CREATE_KEYSPACE:
		rc = exec_create_keyspace(x, out);
		break;
	case CL_CREATE_TABLE:
		rc = exec_create_table(x, keyspace, out);
		break;
	case CL_DROP_KEYSPACE:
	case CL_DROP_TABLE:
		rc = exec_drop(x, keyspace, out);
		break;
	default:
		break;		/* error set above */
	}
	if (rc == 0 && out->oom) {
		rc = -1;
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
	}
	if (rc < 0)
		out->len = start;
	ctx_done(x);
	free(x);
	return rc;
}

/* bind_type - type and name of a bind marker in table t */
static int bind_type(struct ex_ctx *x, const struct st_table *t, size_t i,
		     struct ex_rescol *rc)
{
	const struct cl_bindref *b = &x->st->binds[i];
	int c;

	memset(&rc->type, 0, sizeof(rc->type));
	rc->name = bind_name(b);
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

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
		return -1;
	}
	x->s = s;
	x->st = st;
	x->err = err;
	if (st->kind == CL_SELECT || st->kind == CL_INSERT ||
	    st->kind == CL_UPDATE || st->kind == CL_DELETE ||
	    st->kind == CL_TRUNCATE) {
		if (resolve(x, keyspace, &k, &t) < 0)
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
	if (out->oom) {
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
		goto out;
	}
	ret = 0;
out:
	ctx_done(x);
	free(x);
	return ret;
}

/* ---- system keyspaces ------------------------------------------- */

static const char *const ex_system_schema[] = {
	"CREATE KEYSPACE system WITH replication = "
	"{'class': 'org.apache.cassandra.locator.LocalStrategy'}",
	"CREATE TABLE system.local (key text PRIMARY KEY, bootstrapped text, "
	"broadcast_address inet, cluster_name text, cql_version text, "
	"data_center text, gossip_generation int, host_id uuid, "
	"listen_address inet, native_protocol_version text, partitioner text, "
	"rack text, release_version text, rpc_address inet, "
	"schema_version uuid, thrift_version text, tokens set<text>, "
	"truncated_at map<uuid, blob>)",
	"CREATE TABLE system.peers (peer inet PRIMARY KEY, data_center text, "
	"host_id uuid, preferred_ip inet, rack text, release_version text, "
	"rpc_address inet, schema_version uuid, tokens set<text>)",
	"CREATE TABLE system.peers_v2 (peer inet, peer_port int, "
	"data_center text, host_id uuid, native_address inet, native_port int, "
	"preferred_ip inet, preferred_port int, rack text, "
	"release_version text, schema_version uuid, tokens set<text>, "
	"PRIMARY KEY ((peer), peer_port))",
	"CREATE KEYSPACE system_schema WITH replication = "
	"{'class': 'org.apache.cassandra.locator.LocalStrategy'}",
	"CREATE TABLE system_schema.keyspaces (keyspace_name text PRIMARY KEY, "
	"durable_writes boolean, replication frozen<map<text, text>>)",
	"CREATE TABLE system_schema.tables (keyspace_name text, table_name text, "
	"bloom_filter_fp_chance double, caching frozen<map<text, text>>, "
	"cdc boolean, comment text, compaction frozen<map<text, text>>, "
	"compression frozen<map<text, text>>, crc_check_chance double, "
	"dclocal_read_repair_chance double, default_time_to_live int, "
	"extensions frozen<map<text, blob>>, flags frozen<set<text>>, "
	"gc_grace_seconds int, id uuid, max_index_interval int, "
	"memtable_flush_period_in_ms int, min_index_interval int, "
	"read_repair_chance double, speculative_retry text, "
	"PRIMARY KEY ((keyspace_name), table_name))",
	"CREATE TABLE system_schema.columns (keyspace_name text, "
	"table_name text, column_name text, clustering_order text, "
	"column_name_bytes blob, kind text, position int, type text, "
	"PRIMARY KEY ((keyspace_name), table_name, column_name))",
	"CREATE TABLE system_schema.types (keyspace_name text, type_name text, "
	"field_names frozen<list<text>>, field_types frozen<list<text>>, "
	"PRIMARY KEY ((keyspace_name), type_name))",
	"CREATE TABLE system_schema.functions (keyspace_name text, "
	"function_name text, argument_types frozen<list<text>>, "
	"argument_names frozen<list<text>>, body text, "
	"called_on_null_input boolean, language text, return_type text, "
	"PRIMARY KEY ((keyspace_name), function_name, argument_types))",
	"CREATE TABLE system_schema.aggregates (keyspace_name text, "
	"aggregate_name text, argument_types frozen<list<text>>, "
	"final_func text, initcond text, return_type text, state_func text, "
	"state_type text, "
	"PRIMARY KEY ((keyspace_name), aggregate_name, argument_types))",
	"CREATE TABLE system_schema.triggers (keyspace_name text, "
	"table_name text, trigger_name text, options frozen<map<text, text>>, "
	"PRIMARY KEY ((keyspace_name), table_name, trigger_name))",
	"CREATE TABLE system_schema.indexes (keyspace_name text, "
	"table_name text, index_name text, kind text, "
	"options frozen<map<text, text>>, "
	"PRIMARY KEY ((keyspace_name), table_name, index_name))",
	"CREATE TABLE system_schema.views (keyspace_name text, view_name text, "
	"base_table_id uuid, base_table_name text, bloom_filter_fp_chance "
	"double, caching frozen<map<text, text>>, cdc boolean, comment text, "
	"compaction frozen<map<text, text>>, "
	"compression frozen<map<text, text>>, crc_check_chance double, "
	"dclocal_read_repair_chance double, default_time_to_live int, "
	"extensions frozen<map<text, blob>>, gc_grace_seconds int, id uuid, "
	"include_all_columns boolean, max_index_interval int, "
	"memtable_flush_period_in_ms int, min_index_interval int, "
	"read_repair_chance double, speculative_retry text, where_clause text, "
	"PRIMARY KEY ((keyspace_name), view_name))",
};

/* run_internal - run one CQL text with system writes allowed */
static int run_internal(struct store *s, const char *cql)
{
	struct cl_stmt *st = calloc(1, sizeof(*st));
	struct cl_error perr;
	struct cql_error err;
	struct buf out;
	int rc = -1;

	if (st == NULL)
		return -1;
	buf_init(&out);
	if (cl_parse(cql, strlen(cql), st, &perr) < 0) {
		fprintf(stderr, "cqld: internal: %s: %s\n", perr.msg, cql);
		free(st);
		return -1;
	}
	ex_internal++;
	rc = ex_execute(s, NULL, st, NULL, &out, &err);
	ex_internal--;
	if (rc < 0)
		fprintf(stderr, "cqld: internal: %s: %.200s\n", err.message, cql);
	cl_stmt_free(st);
	free(st);
	buf_free(&out);
	return rc;
}

/* lit - append a CQL string literal */
static void lit(struct buf *b, const char *s)
{
	buf_append_byte(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_append_byte(b, '\'');
		buf_append_byte(b, (uint8_t)*s);
	}
	buf_append_byte(b, '\'');
}

/* uuid_text - 16 bytes as a UUID literal */
static void uuid_text(struct buf *b, const uint8_t *u)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf_append_byte(b, '-');
		buf_printf(b, "%02x", u[i]);
	}
}

/* schema_uuid - the schema version: changes with every schema change */
static void schema_uuid(const struct store *s, uint8_t u[16])
{
	static const uint8_t base[16] = {
		0x5c, 0x9d, 0x1e, 0x40, 0x8f, 0x3a, 0x3b, 0x6e,
		0x9a, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	int i;

	memcpy(u, base, 16);
	for (i = 0; i < 4; i++)
		u[12 + i] = (uint8_t)(s->generation >> (24 - 8 * i));
}

/* node_hash - FNV-1a 64 of an address and port, with a seed */
static uint64_t node_hash(const uint8_t *addr, size_t addrlen, int port,
			  uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < addrlen; i++)
		h = (h ^ addr[i]) * 0x100000001b3ULL;
	h = (h ^ (uint8_t)(port >> 8)) * 0x100000001b3ULL;
	h = (h ^ (uint8_t)port) * 0x100000001b3ULL;
	/* splitmix64's finalizer: nearby ports give unrelated ids and tokens */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* node_host_id - a node's host_id: a version 4 UUID from address, port */
static void node_host_id(const uint8_t *addr, size_t addrlen, int port,
			 uint8_t u[16])
{
	uint64_t h[2];
	int i;

	h[0] = node_hash(addr, addrlen, port, 0x686f73745f6964ULL);
	h[1] = node_hash(addr, addrlen, port, 0x686f73745f697e2ULL);
	for (i = 0; i < 8; i++) {
		u[i] = (uint8_t)(h[0] >> (56 - 8 * i));
		u[8 + i] = (uint8_t)(h[1] >> (56 - 8 * i));
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

/* node_token - a node's one Murmur3 token, never the reserved minimum */
static void node_token(struct buf *b, const uint8_t *addr, size_t addrlen,
		       int port)
{
	int64_t t = (int64_t)node_hash(addr, addrlen, port,
				       0x746f6b656eULL);

	if (t == INT64_MIN)
		t++;
	buf_printf(b, "{'%lld'}", (long long)t);
}

/*
 * peers_write - (re)write the rows of system.peers and system.peers_v2.
 * Every peer reports this node's schema version: writes are not
 * replicated, but drivers that wait for schema agreement must get it.
 * system.peers is keyed by address alone, so of several peers on one
 * address it keeps the last; only peers_v2 (keyed by address and port)
 * lists them all, with their ports. cqld has no storage port: peer_port
 * (the gossip port in Cassandra, which would tell peers on one address
 * apart) is the native port too.
 */
static void peers_write(struct store *s, const uint8_t schema[16])
{
	char addr[INET6_ADDRSTRLEN];
	struct buf b;
	uint8_t u[16];
	size_t i;
	int v2;

	if (ex_self == NULL)
		return;
	buf_init(&b);
	for (i = 0; i < ex_self->npeers; i++) {
		const struct ex_peer *p = &ex_self->peers[i];

		if (inet_ntop(p->addrlen == 16 ? AF_INET6 : AF_INET, p->addr,
			      addr, sizeof(addr)) == NULL)
			continue;
		node_host_id(p->addr, p->addrlen, p->port, u);
		for (v2 = 0; v2 < 2; v2++) {
			buf_reset(&b);
			buf_printf(&b, "INSERT INTO system.%s (peer, %s "
				   "data_center, host_id, rack, "
				   "release_version, schema_version, tokens) "
				   "VALUES (", v2 ? "peers_v2" : "peers",
				   v2 ? "peer_port, native_address, "
				   "native_port," : "rpc_address,");
			lit(&b, addr);
			if (v2)
				buf_printf(&b, ", %d, '%s', %d", p->port,
					   addr, p->port);
			else
				buf_printf(&b, ", '%s'", addr);
			buf_append_str(&b, ", ");
			lit(&b, p->dc);
			buf_append_str(&b, ", ");
			uuid_text(&b, u);
			buf_append_str(&b, ", '" EX_RACK "', ");
			lit(&b, ex_self->release_version ?
			    ex_self->release_version : EX_DEFAULT_RELEASE);
			buf_append_str(&b, ", ");
			uuid_text(&b, schema);
			buf_append_str(&b, ", ");
			node_token(&b, p->addr, p->addrlen, p->port);
			buf_append_str(&b, ")");
			if (!b.oom)
				(void)run_internal(s, (const char *)b.data);
		}
	}
	buf_free(&b);
}

/* schema_refresh - rebuild system_schema rows and the schema version */
static void schema_refresh(struct store *s)
{
	struct st_keyspace *sk;
	struct st_table *t;
	struct buf b;
	uint8_t u[16];
	size_t i, j, c;
	unsigned gen;

	if (ex_booting || (sk = st_keyspace_find(s, "system_schema")) == NULL)
		return;
	gen = s->generation;
	if ((t = st_table_find(sk, "keyspaces")) != NULL)
		st_table_truncate(t);
	if ((t = st_table_find(sk, "tables")) != NULL)
		st_table_truncate(t);
	if ((t = st_table_find(sk, "columns")) != NULL)
		st_table_truncate(t);
	buf_init(&b);
	for (i = 0; i < s->nks; i++) {
		const struct st_keyspace *k = s->ks[i];

		buf_reset(&b);
		buf_append_str(&b, "INSERT INTO system_schema.keyspaces "
			       "(keyspace_name, durable_writes, replication) "
			       "VALUES (");
		lit(&b, k->name);
		buf_printf(&b, ", %s, {", k->durable_writes ? "true" : "false");
		for (j = 0; j + 1 < k->nrepl; j += 2) {
			const char *v = k->repl[j + 1];

			if (j)
				buf_append_str(&b, ", ");
			lit(&b, k->repl[j]);
			buf_append_str(&b, ": ");
			/* Cassandra reports the full class name */
			if (strcmp(k->repl[j], "class") == 0 &&
			    strchr(v, '.') == NULL) {
				char full[CL_NAME_MAX + 64];

				snprintf(full, sizeof(full),
					 "org.apache.cassandra.locator.%s", v);
				lit(&b, full);
			} else {
				lit(&b, v);
			}
		}
		buf_append_str(&b, "})");
		if (!b.oom)
			(void)run_internal(s, (const char *)b.data);
		for (j = 0; j < k->ntables; j++) {
			const struct st_table *tb = k->tables[j];

			buf_reset(&b);
			buf_append_str(&b, "INSERT INTO system_schema.tables "
				       "(keyspace_name, table_name, "
				       "bloom_filter_fp_chance, caching, "
				       "comment, compaction, compression, "
				       "crc_check_chance, "
				       "dclocal_read_repair_chance, "
				       "default_time_to_live, flags, "
				       "gc_grace_seconds, id, "
				       "max_index_interval, "
				       "memtable_flush_period_in_ms, "
				       "min_index_interval, read_repair_chance, "
				       "speculative_retry) VALUES (");
			lit(&b, k->name);
			buf_append_str(&b, ", ");
			lit(&b, tb->name);
			buf_append_str(&b, ", 0.01, {'keys': 'ALL', "
				       "'rows_per_partition': 'NONE'}, '', "
				       "{'class': 'org.apache.cassandra.db."
				       "compaction.SizeTieredCompactionStrategy'"
				       ", 'max_threshold': '32', "
				       "'min_threshold': '4'}, {'chunk_length_in_"
				       "kb': '64', 'class': 'org.apache."
				       "cassandra.io.compress.LZ4Compressor'}, "
				       "1.0, 0.1, 0, {'compound'}, 864000, ");
			uuid_text(&b, tb->id);
			buf_append_str(&b, ", 2048, 0, 128, 0.0, "
				       "'99PERCENTILE')");
			if (!b.oom)
				(void)run_internal(s, (const char *)b.data);
			for (c = 0; c < tb->ncols; c++) {
				const struct st_column *col = &tb->cols[c];
				char tn[64];
				const char *p;

				buf_reset(&b);
				buf_append_str(&b, "INSERT INTO "
					       "system_schema.columns "
					       "(keyspace_name, table_name, "
					       "column_name, clustering_order, "
					       "column_name_bytes, kind, "
					       "position, type) VALUES (");
				lit(&b, k->name);
				buf_append_str(&b, ", ");
				lit(&b, tb->name);
				buf_append_str(&b, ", ");
				lit(&b, col->name);
				buf_printf(&b, ", '%s', 0x",
					   col->kind != ST_CLUSTERING ? "none" :
					   col->desc ? "desc" : "asc");
				for (p = col->name; *p; p++)
					buf_printf(&b, "%02x",
						   (unsigned char)*p);
				buf_printf(&b, ", '%s', %d, ",
					   col->kind == ST_PARTITION ?
					   "partition_key" :
					   col->kind == ST_CLUSTERING ?
					   "clustering" : "regular",
					   col->kind == ST_REGULAR ? -1 :
					   col->kind == ST_PARTITION ?
					   col->position : col->position -
					   (int)tb->npartition);
				lit(&b, value_type_name(&col->type, tn,
							sizeof(tn)));
				buf_append_str(&b, ")");
				if (!b.oom)
					(void)run_internal(s,
						(const char *)b.data);
			}
		}
	}
	/* the rows above are data, not schema: keep the version stable */
	s->generation = gen;
	schema_uuid(s, u);
	buf_reset(&b);
	buf_append_str(&b, "UPDATE system.local SET schema_version = ");
	uuid_text(&b, u);
	buf_append_str(&b, " WHERE key = 'local'");
	if (!b.oom && st_keyspace_find(s, "system"))
		(void)run_internal(s, (const char *)b.data);
	buf_free(&b);
	peers_write(s, u);
}

/* ex_init - set up the system keyspaces and this node's system.local */
int ex_init(struct store *s, const struct ex_node *node)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t u[16];
	struct buf b;
	size_t i;
	int rc;

	ex_self = node;
	ex_booting = 1;
	for (i = 0; i < sizeof(ex_system_schema) / sizeof(ex_system_schema[0]);
	     i++)
		if (run_internal(s, ex_system_schema[i]) < 0) {
			ex_booting = 0;
			return -1;
		}
	ex_booting = 0;
	st_keyspace_find(s, "system")->system = 1;
	st_keyspace_find(s, "system_schema")->system = 1;
	if (inet_ntop(node->addrlen == 16 ? AF_INET6 : AF_INET, node->addr,
		      addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "127.0.0.1");
	buf_init(&b);
	buf_append_str(&b, "INSERT INTO system.local (key, bootstrapped, "
		       "broadcast_address, cluster_name, cql_version, "
		       "data_center, gossip_generation, host_id, "
		       "listen_address, native_protocol_version, partitioner, "
		       "rack, release_version, rpc_address, schema_version, "
		       "thrift_version, tokens) VALUES ('local', 'COMPLETED', ");
	lit(&b, addr);
	buf_append_str(&b, ", 'cqld', '" EX_CQL_VERSION "', ");
	lit(&b, node->dc ? node->dc : EX_DEFAULT_DC);
	buf_append_str(&b, ", 1700000000, ");
	node_host_id(node->addr, node->addrlen, node->port, u);
	uuid_text(&b, u);
	buf_append_str(&b, ", ");
	lit(&b, addr);
	buf_printf(&b, ", '%d', 'org.apache.cassandra.dht.Murmur3Partitioner', "
		   "'" EX_RACK "', ", node->max_protocol);
	lit(&b, node->release_version ? node->release_version :
	    EX_DEFAULT_RELEASE);
	buf_append_str(&b, ", ");
	lit(&b, addr);
	buf_append_str(&b, ", ");
	schema_uuid(s, u);
	uuid_text(&b, u);
	buf_append_str(&b, ", '20.1.0', ");
	node_token(&b, node->addr, node->addrlen, node->port);
	buf_append_str(&b, ")");
	rc = b.oom ? -1 : run_internal(s, (const char *)b.data);
	buf_free(&b);
	if (rc == 0)
		schema_refresh(s);
	return rc;
}
