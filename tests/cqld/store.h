/*
 * store - cqld's in-memory keyspaces, tables and rows
 *
 * SYNOPSIS
 *	#include "store.h"
 *
 * DESCRIPTION
 *	A store holds keyspaces; a keyspace holds tables; a table holds rows
 *	kept sorted by primary key: partition key columns compared as bytes
 *	(Cassandra would order partitions by token; tests must not rely on
 *	the order of partitions), then clustering columns in their type's
 *	order, reversed for DESC clustering order.
 *
 *	Cells hold values in protocol form (see value.h). A row inserted with
 *	INSERT has a row marker and exists even when all its regular cells
 *	are null; a row made by UPDATE exists only while a regular cell is
 *	set, as in Cassandra.
 */
#ifndef CQLD_STORE_H
#define CQLD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cql_lang.h"

#define ST_MAX_ROWS	(4u * 1024 * 1024)	/* rows per table */

enum st_col_kind { ST_PARTITION, ST_CLUSTERING, ST_REGULAR };

struct st_column {
	char name[CL_NAME_MAX];
	struct cl_type type;
	enum st_col_kind kind;
	int position;		/* within the key, -1 for regular columns */
	uint8_t desc;		/* clustering order DESC */
};

struct st_value {
	uint8_t *p;		/* owned; NULL when null or empty */
	int32_t len;		/* < 0: null */
};

struct st_row {
	uint8_t marker;		/* made by INSERT */
	struct st_value *vals;	/* one per column */
};

struct st_table {
	char ks[CL_NAME_MAX];
	char name[CL_NAME_MAX];
	struct st_column *cols;
	size_t ncols;
	int key[CL_MAX_COLUMNS];	/* column index of each key part */
	size_t nkey;
	size_t npartition;
	struct st_row **rows;
	size_t nrows;
	size_t cap;
	uint8_t id[16];
};

struct st_keyspace {
	char name[CL_NAME_MAX];
	struct st_table **tables;
	size_t ntables;
	char **repl;		/* replication: key, value, key, value ... */
	size_t nrepl;
	int durable_writes;
	int system;		/* not user-modifiable */
};

struct store {
	struct st_keyspace **ks;
	size_t nks;
	unsigned generation;	/* bumped on each schema change */
};

void st_init(struct store *s);
void st_free(struct store *s);

struct st_keyspace *st_keyspace_find(struct store *s, const char *name);
/* st_keyspace_create - new empty keyspace; NULL on allocation failure */
struct st_keyspace *st_keyspace_create(struct store *s, const char *name,
				       const struct cl_term *replication,
				       int durable_writes);
void st_keyspace_drop(struct store *s, const char *name);

struct st_table *st_table_find(struct st_keyspace *k, const char *name);
/*
 * st_table_create - new table from a CREATE TABLE statement; NULL with a
 * message in err on failure.
 */
struct st_table *st_table_create(struct store *s, struct st_keyspace *k,
				 const struct cl_stmt *st, char *err,
				 size_t errlen);
void st_table_drop(struct store *s, struct st_keyspace *k, const char *name);
void st_table_truncate(struct st_table *t);

/* st_column_find - index of a column, or -1 */
int st_column_find(const struct st_table *t, const char *name);

/*
 * st_key_compare - compare a row with a key prefix of nvals values (in
 * key order); 0 when the row's first nvals key parts equal them.
 */
int st_key_compare(const struct st_table *t, const struct st_row *r,
		   const struct st_value *vals, size_t nvals);

/*
 * st_row_lower - index of the first row whose key is not below the
 * prefix vals[0..nvals).
 */
size_t st_row_lower(const struct st_table *t, const struct st_value *vals,
		    size_t nvals);

/*
 * st_row_get - the row with the full primary key vals (nkey values), or,
 * if create, a new empty row inserted in order. NULL when absent or out
 * of memory / rows.
 */
struct st_row *st_row_get(struct st_table *t, const struct st_value *vals,
			  int create);

/* st_row_set - replace a cell (copying the value; len < 0 is null) */
int st_row_set(struct st_table *t, struct st_row *r, int col,
	       const uint8_t *p, int32_t len);

/* st_row_live - the row exists (marker or a non-null regular cell) */
int st_row_live(const struct st_table *t, const struct st_row *r);

/* st_row_remove - remove rows [from, to) */
void st_row_remove(struct st_table *t, size_t from, size_t to);

/* st_gc - drop rows that are no longer live, keeping order */
void st_gc(struct st_table *t);

#endif
