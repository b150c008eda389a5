/*
 * exec_int - what the parts of cqld's statement runner share
 *
 * SYNOPSIS
 *	#include "exec_int.h"
 *
 * DESCRIPTION
 *	Private to exec.c (context, names, bound values, WHERE, writes, the
 *	entry points), exec_select.c (SELECT, Rows and Prepared metadata),
 *	exec_schema.c (CREATE and DROP) and exec_system.c (system.local,
 *	system.peers*, system_schema). Everyone else includes exec.h.
 */
#ifndef CQLD_EXEC_INT_H
#define CQLD_EXEC_INT_H

#include "exec.h"
#include "value.h"

#define EX_NSLOTS		(CL_MAX_COLUMNS + CL_MAX_WHERE + 4)

/* One statement being executed */
struct ex_ctx {
	struct store *s;
	const struct cl_stmt *st;
	const struct ex_params *pp;
	struct cql_error *err;
	int vmap[CL_MAX_BIND];	/* value index of each bind marker */
	struct buf slot[EX_NSLOTS];	/* storage for evaluated values */
	size_t nslot;
	const size_t *row_bytes;	/* per result row: bytes read (NULL:
					   count the cells returned) */
	const uint8_t *matched;		/* per row read: returned (NULL: all) */
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

/* What ex_eval() found: a value, null, or (v4) not set */
enum { EV_VALUE, EV_NULL, EV_UNSET };

/* Nonzero while cqld itself writes (system tables are writable then) */
extern int ex_internal;

/* exec.c */
struct ex_ctx *ex_ctx_new(struct store *s, const struct cl_stmt *st,
			  const struct ex_params *pp, struct cql_error *err);
void ex_ctx_free(struct ex_ctx *x);
int ex_target_or_error(struct ex_ctx *x, const char *keyspace, char *ks,
		       char *table);
int ex_resolve(struct ex_ctx *x, const char *keyspace,
	       struct st_keyspace **kp, struct st_table **tp);
int ex_writable(struct ex_ctx *x, const char *ks);
const char *ex_bind_name(const struct cl_bindref *b);
int ex_map_values(struct ex_ctx *x);
int ex_eval_int(struct ex_ctx *x, const struct cl_term *t, uint16_t id,
		const char *name, int64_t *out);
int ex_eval_where(struct ex_ctx *x, const struct st_table *t,
		  struct ex_restr *r);
void ex_result_void(struct buf *out);

/* exec_select.c */
int ex_select(struct ex_ctx *x, const char *keyspace, struct buf *out);
int ex_result_rows(struct ex_ctx *x, struct buf *out, const char *ks,
		   const char *table, const struct ex_rescol *cols,
		   size_t ncols, const struct st_value *const *cells,
		   size_t nrows);

/* exec_schema.c */
int ex_create_keyspace(struct ex_ctx *x, const char *keyspace,
		       struct buf *out);
int ex_create_table(struct ex_ctx *x, const char *keyspace,
		    struct buf *out);
int ex_drop(struct ex_ctx *x, const char *keyspace, struct buf *out);

/* exec_system.c */
void ex_schema_refresh(struct store *s);

#endif
