/*
 * exec - run parsed CQL statements against cqld's store
 *
 * DESCRIPTION
 *	See exec.h. This file holds the entry points (ex_execute,
 *	ex_prepare's context), name resolution, bound values, the WHERE
 *	clause of writes and INSERT, UPDATE, DELETE; SELECT is in
 *	ex_select.c, CREATE and DROP in exec_schema.c, the system tables
 *	in exec_system.c. Error codes and messages follow Cassandra 3.11,
 *	which is what system.local claims to be.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec_int.h"

int ex_internal;		/* writes to system tables allowed */

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
	       strcmp(ks, "system_traces") == 0 ||
	       strcmp(ks, "system_schema_mcs") == 0;
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

/* ex_target_or_error - ex_target(), with Cassandra's error when it fails */
int ex_target_or_error(struct ex_ctx *x, const char *keyspace, char *ks,
		       char *table)
{
	if (ex_target(keyspace, x->st, ks, table) == 0)
		return 0;
	ex_set_error(x->err, CQL_ERR_INVALID, "No keyspace has been "
		     "specified. USE a keyspace, or explicitly specify "
		     "keyspace.tablename");
	return -1;
}

/* ex_resolve - the keyspace and table of a table statement */
int ex_resolve(struct ex_ctx *x, const char *keyspace,
		   struct st_keyspace **kp, struct st_table **tp)
{
	char ks[CL_NAME_MAX], table[CL_NAME_MAX];

	if (ex_target_or_error(x, keyspace, ks, table) < 0)
		return -1;
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

/* ex_writable - refuse changes to system keyspaces from clients */
int ex_writable(struct ex_ctx *x, const char *ks)
{
	if (ex_internal || !ex_is_system_keyspace(ks))
		return 0;
	ex_set_error(x->err, CQL_ERR_UNAUTHORIZED,
		     "%s keyspace is not user-modifiable.", ks);
	return -1;
}

/* ex_bind_name - the name PREPARE reports for a bind marker */
const char *ex_bind_name(const struct cl_bindref *b)
{
	switch (b->role) {
	case CL_BIND_LIMIT: return "[limit]";
	case CL_BIND_TTL: return "[ttl]";
	case CL_BIND_TIMESTAMP: return "[timestamp]";
	default: return b->col;
	}
}

/* ex_map_values - match bound values to markers (by position or name) */
int ex_map_values(struct ex_ctx *x)
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
			const char *n = ex_bind_name(&st->binds[i]);

			if (strlen(n) == pp->names[j].len &&
			    strncasecmp(n, pp->names[j].p, pp->names[j].len) == 0)
				break;
		}
		if (j == pp->nvalues) {
			ex_set_error(x->err, CQL_ERR_INVALID, "No value for "
				     "bind variable %s",
				     ex_bind_name(&st->binds[i]));
			return -1;
		}
		x->vmap[i] = (int)j;
	}
	return 0;
}

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

/* ex_eval_int - an integer parameter (LIMIT, TTL, TIMESTAMP); 1 if given */
int ex_eval_int(struct ex_ctx *x, const struct cl_term *t, uint16_t id,
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

/* ex_eval_where - evaluate the WHERE clause against table t */
int ex_eval_where(struct ex_ctx *x, const struct st_table *t,
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

	if (ex_eval_where(x, t, r) < 0)
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
	rc_ret = ex_result_rows(x, out, t->ks, t->name, rc, n, cells, 1);
	x->pp = save;
	return rc_ret;
}

/* check_using - evaluate (and check) USING TTL / TIMESTAMP, then ignore */
static int check_using(struct ex_ctx *x)
{
	int64_t v = 0;
	int rc;

	if ((rc = ex_eval_int(x, &x->st->ttl, CQL_TYPE_INT, "[ttl]", &v)) < 0)
		return -1;
	if (rc > 0 && v < 0) {
		ex_set_error(x->err, CQL_ERR_INVALID, "A TTL must be greater "
			     "or equal to 0, but was %lld", (long long)v);
		return -1;
	}
	if (ex_eval_int(x, &x->st->timestamp, CQL_TYPE_BIGINT, "[timestamp]",
		     &v) < 0)
		return -1;
	return 0;
}

/* write_target - the table a write works on, checked: writable, values bound */
static int write_target(struct ex_ctx *x, const char *keyspace,
			struct st_table **tp)
{
	struct st_keyspace *k;

	if (ex_resolve(x, keyspace, &k, tp) < 0 ||
	    ex_writable(x, k->name) < 0 || ex_map_values(x) < 0 ||
	    check_using(x) < 0)
		return -1;
	return 0;
}

/*
 * assignments - resolve and evaluate the column = value pairs of INSERT
 * (VALUES) or UPDATE (SET) in text order, as the markers are numbered.
 * INSERT puts key columns into key[] and have[]; UPDATE refuses them.
 * cols[], state[] (EV_*) and vals[] get one entry per assignment.
 */
static int assignments(struct ex_ctx *x, const struct st_table *t,
		       int *cols, int *state, struct st_value *vals,
		       struct st_value *key, int *have)
{
	const struct cl_stmt *st = x->st;
	int insert = st->kind == CL_INSERT;
	size_t i;

	for (i = 0; i < st->nassign; i++) {
		const struct cl_assign *a = &st->assign[i];
		const struct st_column *c;

		if ((cols[i] = st_column_find(t, a->col)) < 0) {
			ex_set_error(x->err, CQL_ERR_INVALID, "Undefined column "
				     "name %s", a->col);
			return -1;
		}
		c = &t->cols[cols[i]];
		if (!insert && c->kind != ST_REGULAR) {
			ex_set_error(x->err, CQL_ERR_INVALID, "PRIMARY KEY part "
				     "%s found in SET part", a->col);
			return -1;
		}
		if (c->type.id == CQL_TYPE_COUNTER) {
			if (insert)
				ex_set_error(x->err, CQL_ERR_INVALID, "INSERT "
					     "statements are not allowed on "
					     "counter tables, use UPDATE instead");
			else
				ex_set_error(x->err, CQL_ERR_INVALID, "Cannot "
					     "set the value of counter column %s "
					     "(counters can only be incremented/"
					     "decremented, not set)", a->col);
			return -1;
		}
		if ((state[i] = eval(x, &a->value, &c->type, a->col,
				     &vals[i])) < 0)
			return -1;
		if (c->kind == ST_REGULAR)
			continue;
		if (state[i] != EV_VALUE) {
			ex_set_error(x->err, CQL_ERR_INVALID, state[i] ==
				     EV_UNSET ? "Invalid unset value for "
				     "column %s" : "Invalid null value in "
				     "condition for column %s", a->col);
			return -1;
		}
		key[c->position] = vals[i];
		have[c->position] = 1;
	}
	return 0;
}

/*
 * write_row - the row of key (created if need be, with its row marker
 * when marker is set) with the regular columns of the assignments
 * written; unset values leave a column alone. NULL with x->err.
 */
static struct st_row *write_row(struct ex_ctx *x, struct st_table *t,
				const struct st_value *key, int marker,
				const int *cols, const int *state,
				const struct st_value *vals)
{
	struct st_row *row;
	size_t i;

	if ((row = st_row_get(t, key, 1)) == NULL) {
		ex_set_error(x->err, CQL_ERR_SERVER, "cqld: out of memory or "
			     "too many rows");
		return NULL;
	}
	if (marker)
		row->marker = 1;
	for (i = 0; i < x->st->nassign; i++) {
		if (t->cols[cols[i]].kind != ST_REGULAR || state[i] == EV_UNSET)
			continue;
		if (st_row_set(t, row, cols[i], vals[i].p,
			       state[i] == EV_NULL ? -1 : vals[i].len) < 0) {
			ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
			return NULL;
		}
	}
	return row;
}

/*
 * exec_upsert - INSERT [IF NOT EXISTS] (the key from the VALUES) or
 * UPDATE [IF EXISTS] (the key from the WHERE clause). Only INSERT sets
 * the row marker, so a row an UPDATE leaves without values is gone.
 */
static int exec_upsert(struct ex_ctx *x, const char *keyspace,
		       struct buf *out)
{
	const struct cl_stmt *st = x->st;
	struct st_table *t;
	struct st_value key[CL_MAX_COLUMNS], vals[CL_MAX_COLUMNS];
	int cols[CL_MAX_COLUMNS], state[CL_MAX_COLUMNS];
	int have[CL_MAX_COLUMNS] = {0};
	int insert = st->kind == CL_INSERT, live;
	struct st_row *row;
	size_t nkey;

	/* markers are numbered in text order: SET comes before WHERE */
	if (write_target(x, keyspace, &t) < 0 ||
	    assignments(x, t, cols, state, vals, key, have) < 0)
		return -1;
	if (insert ? missing_parts(x, t, have, 0) < 0 ||
		     missing_parts(x, t, have, 1) < 0 :
		     where_key(x, t, key, &nkey, 1) < 0)
		return -1;
	if (check_key_values(x, t, key) < 0)
		return -1;
	row = st_row_get(t, key, 0);
	live = row && st_row_live(t, row);
	if (st->if_not_exists && live)
		return lwt_result(x, out, t, 0, row);
	if (st->if_exists && !live)
		return lwt_result(x, out, t, 0, NULL);
	if ((row = write_row(x, t, key, insert, cols, state, vals)) == NULL)
		return -1;
	if (!st_row_live(t, row))
		st_gc(t);
	if (st->if_not_exists || st->if_exists)
		return lwt_result(x, out, t, 1, NULL);
	ex_result_void(out);
	return 0;
}

/* exec_delete - DELETE FROM ... WHERE (partition or rows) [IF EXISTS] */
static int exec_delete(struct ex_ctx *x, const char *keyspace,
		       struct buf *out)
{
	const struct cl_stmt *st = x->st;
	struct st_table *t;
	struct st_value key[CL_MAX_COLUMNS];
	size_t nkey, from, to;

	if (write_target(x, keyspace, &t) < 0 ||
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
	ex_result_void(out);
	return 0;
}

/* ---- entry points ------------------------------------------------- */

/*
 * ex_ctx_new - a context for running (pp: values and paging, never NULL
 * then) or preparing (pp NULL) st; NULL with err set when out of memory.
 */
struct ex_ctx *ex_ctx_new(struct store *s, const struct cl_stmt *st,
			  const struct ex_params *pp, struct cql_error *err)
{
	struct ex_ctx *x;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
		return NULL;
	}
	x->s = s;
	x->st = st;
	x->pp = pp;
	x->err = err;
	return x;
}

/* ex_ctx_free - release a context and its value storage */
void ex_ctx_free(struct ex_ctx *x)
{
	size_t i;

	for (i = 0; i < x->nslot; i++)
		buf_free(&x->slot[i]);
	free(x);
}

/* exec_truncate - TRUNCATE */
static int exec_truncate(struct ex_ctx *x, const char *keyspace,
			 struct buf *out)
{
	struct st_keyspace *k;
	struct st_table *t;

	if (ex_resolve(x, keyspace, &k, &t) < 0 || ex_writable(x, k->name) < 0)
		return -1;
	st_table_truncate(t);
	ex_result_void(out);
	return 0;
}

/* exec_use - USE: the session keyspace (when there is one) changes */
static int exec_use(struct ex_ctx *x, char *keyspace, struct buf *out)
{
	const struct cl_stmt *st = x->st;

	if (st_keyspace_find(x->s, st->ks) == NULL) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Keyspace '%s' does "
			     "not exist", st->ks);
		return -1;
	}
	if (keyspace)
		snprintf(keyspace, CL_NAME_MAX, "%s", st->ks);
	cql_wr_int(out, CQL_RESULT_SET_KEYSPACE);
	cql_wr_cstring(out, st->ks);
	return 0;
}

/* How each kind of statement but USE runs */
typedef int ex_run_fn(struct ex_ctx *x, const char *keyspace,
		      struct buf *out);

static ex_run_fn *const ex_runners[] = {
	[CL_CREATE_KEYSPACE] = ex_create_keyspace,
	[CL_CREATE_TABLE] = ex_create_table,
	[CL_DROP_KEYSPACE] = ex_drop,
	[CL_DROP_TABLE] = ex_drop,
	[CL_INSERT] = exec_upsert,
	[CL_UPDATE] = exec_upsert,
	[CL_DELETE] = exec_delete,
	[CL_SELECT] = ex_select,
	[CL_TRUNCATE] = exec_truncate,
};

#define EX_NRUNNERS	(sizeof(ex_runners) / sizeof(ex_runners[0]))

/* ex_execute - run a statement */
int ex_execute(struct store *s, char *keyspace, const struct cl_stmt *st,
	       const struct ex_params *pp, struct buf *out,
	       struct cql_error *err)
{
	static const struct ex_params none;
	struct ex_ctx *x;
	size_t start = out->len;
	int rc = -1;

	if ((x = ex_ctx_new(s, st, pp ? pp : &none, err)) == NULL)
		return -1;
	if (x->pp->nvalues != st->nbind)
		ex_set_error(err, CQL_ERR_INVALID, "Invalid amount of bind "
			     "variables: expected %zu, got %zu", st->nbind,
			     x->pp->nvalues);
	else if (st->kind == CL_USE)
		rc = exec_use(x, keyspace, out);
	else if ((size_t)st->kind < EX_NRUNNERS && ex_runners[st->kind])
		rc = ex_runners[st->kind](x, keyspace, out);
	if (rc == 0 && out->oom) {
		rc = -1;
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
	}
	if (rc < 0)
		out->len = start;
	ex_ctx_free(x);
	return rc;
}

/* ex_result_void - RESULT Void */
void ex_result_void(struct buf *out)
{
	cql_wr_int(out, CQL_RESULT_VOID);
}
