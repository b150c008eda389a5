/*
 * store - cqld's in-memory keyspaces, tables and rows
 *
 * DESCRIPTION
 *	See store.h. Rows live in one sorted array per table, found by
 *	binary search: inserts are O(n), which is fine for test data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql/cql_proto.h"
#include "store.h"
#include "value.h"

/* st_init - empty store */
void st_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
}

/* row_free - release a row */
static void row_free(const struct st_table *t, struct st_row *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < t->ncols; i++)
		free(r->vals[i].p);
	free(r->vals);
	free(r);
}

/* table_free - release a table and its rows */
static void table_free(struct st_table *t)
{
	st_table_truncate(t);
	free(t->rows);
	free(t->cols);
	free(t);
}

/* keyspace_free - release a keyspace and its tables */
static void keyspace_free(struct st_keyspace *k)
{
	size_t i;

	for (i = 0; i < k->ntables; i++)
		table_free(k->tables[i]);
	free(k->tables);
	for (i = 0; i < k->nrepl; i++)
		free(k->repl[i]);
	free(k->repl);
	free(k);
}

/* st_free - release everything */
void st_free(struct store *s)
{
	size_t i;

	for (i = 0; i < s->nks; i++)
		keyspace_free(s->ks[i]);
	free(s->ks);
	memset(s, 0, sizeof(*s));
}

/* st_keyspace_find - keyspace by name */
struct st_keyspace *st_keyspace_find(struct store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nks; i++)
		if (strcmp(s->ks[i]->name, name) == 0)
			return s->ks[i];
	return NULL;
}

/* st_keyspace_create - new empty keyspace */
struct st_keyspace *st_keyspace_create(struct store *s, const char *name,
				       const struct cl_term *replication,
				       int durable_writes)
{
	struct st_keyspace *k, **v;
	size_t i;

	if ((v = realloc(s->ks, (s->nks + 1) * sizeof(*v))) == NULL)
		return NULL;
	s->ks = v;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->durable_writes = durable_writes != 0;
	if (replication && replication->kind == CL_TERM_MAP &&
	    replication->nelems > 0) {
		k->repl = calloc(replication->nelems, sizeof(*k->repl));
		if (k->repl == NULL) {
			free(k);
			return NULL;
		}
		for (i = 0; i + 1 < replication->nelems; i += 2) {
			const struct cl_term *key = &replication->elems[i];
			const struct cl_term *val = &replication->elems[i + 1];

			/* nested values (maps) are kept as "{...}" */
			k->repl[k->nrepl++] = strdup(key->str ? key->str : "");
			k->repl[k->nrepl++] = strdup(val->str ? val->str :
						     val->kind == CL_TERM_BOOL ?
						     (val->ival ? "true" : "false") :
						     "{...}");
			if (k->repl[k->nrepl - 1] == NULL ||
			    k->repl[k->nrepl - 2] == NULL) {
				keyspace_free(k);
				return NULL;
			}
		}
	}
	s->ks[s->nks++] = k;
	s->generation++;
	return k;
}

/* st_keyspace_drop - remove a keyspace */
void st_keyspace_drop(struct store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nks; i++)
		if (strcmp(s->ks[i]->name, name) == 0) {
			keyspace_free(s->ks[i]);
			memmove(&s->ks[i], &s->ks[i + 1],
				(s->nks - i - 1) * sizeof(s->ks[0]));
			s->nks--;
			s->generation++;
			return;
		}
}

/* st_table_find - table by name */
struct st_table *st_table_find(struct st_keyspace *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->ntables; i++)
		if (strcmp(k->tables[i]->name, name) == 0)
			return k->tables[i];
	return NULL;
}

/* st_table_create - new table from CREATE TABLE */
struct st_table *st_table_create(struct store *s, struct st_keyspace *k,
				 const struct cl_stmt *st, char *err,
				 size_t errlen)
{
	struct st_table *t, **v;
	size_t i, j, n;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->cols = calloc(st->ncols, sizeof(*t->cols))) == NULL) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(t->ks, sizeof(t->ks), "%s", k->name);
	snprintf(t->name, sizeof(t->name), "%s", st->table);
	/* Cassandra's column order: partition key, clustering, then by name */
	n = 0;
	for (i = 0; i < st->nkey; i++) {
		for (j = 0; j < st->ncols; j++)
			if (strcmp(st->cols[j].name, st->key[i]) == 0)
				break;
		if (j == st->ncols) {
			snprintf(err, errlen, "Unknown definition %s referenced "
				 "in PRIMARY KEY", st->key[i]);
			table_free(t);
			return NULL;
		}
		snprintf(t->cols[n].name, CL_NAME_MAX, "%s", st->cols[j].name);
		t->cols[n].type = st->cols[j].type;
		t->cols[n].kind = i < st->npartition ? ST_PARTITION :
						       ST_CLUSTERING;
		t->cols[n].position = (int)i;
		t->cols[n].desc = st->key_desc[i];
		t->key[i] = (int)n;
		n++;
	}
	t->nkey = st->nkey;
	t->npartition = st->npartition;
	for (;;) {
		const struct cl_coldef *best = NULL;

		for (j = 0; j < st->ncols; j++) {
			const struct cl_coldef *cd = &st->cols[j];
			int used = 0;

			for (i = 0; i < n; i++)
				if (strcmp(t->cols[i].name, cd->name) == 0)
					used = 1;
			if (!used && (best == NULL ||
				      strcmp(cd->name, best->name) < 0))
				best = cd;
		}
		if (best == NULL)
			break;
		snprintf(t->cols[n].name, CL_NAME_MAX, "%s", best->name);
		t->cols[n].type = best->type;
		t->cols[n].kind = ST_REGULAR;
		t->cols[n].position = -1;
		n++;
	}
	t->ncols = n;
	/* a table id, stable per name and generation: enough for drivers */
	for (i = 0; i < 16; i++)
		t->id[i] = (uint8_t)(k->name[i % 8] * 31 + st->table[i % 8] +
				     (int)(s->generation * 7 + i));
	t->id[6] = (t->id[6] & 0x0F) | 0x40;	/* version 4 */
	t->id[8] = (t->id[8] & 0x3F) | 0x80;	/* IETF variant */
	if ((v = realloc(k->tables, (k->ntables + 1) * sizeof(*v))) == NULL) {
		table_free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->tables = v;
	k->tables[k->ntables++] = t;
	s->generation++;
	return t;
}

/* st_table_drop - remove a table */
void st_table_drop(struct store *s, struct st_keyspace *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->ntables; i++)
		if (strcmp(k->tables[i]->name, name) == 0) {
			table_free(k->tables[i]);
			memmove(&k->tables[i], &k->tables[i + 1],
				(k->ntables - i - 1) * sizeof(k->tables[0]));
			k->ntables--;
			s->generation++;
			return;
		}
}

/* st_table_truncate - remove all rows */
void st_table_truncate(struct st_table *t)
{
	st_row_remove(t, 0, t->nrows);
}

/* st_column_find - index of a column, or -1 */
int st_column_find(const struct st_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* part_compare - compare one key part of a row with a value */
static int part_compare(const struct st_table *t, size_t part,
			const struct st_value *a, const struct st_value *b)
{
	const struct st_column *c = &t->cols[t->key[part]];
	size_t alen = a->len > 0 ? (size_t)a->len : 0;
	size_t blen = b->len > 0 ? (size_t)b->len : 0;
	int r;

	if (part < t->npartition) {
		size_t n = alen < blen ? alen : blen;

		if (n && (r = memcmp(a->p, b->p, n)) != 0)
			return r < 0 ? -1 : 1;
		return (alen > blen) - (alen < blen);
	}
	if (value_is_collection(c->type.id)) {
		size_t n = alen < blen ? alen : blen;

		r = n ? memcmp(a->p, b->p, n) : 0;
		r = r ? (r < 0 ? -1 : 1) : (alen > blen) - (alen < blen);
	} else {
		r = value_compare(c->type.id, a->p, alen, b->p, blen);
	}
	return c->desc ? -r : r;
}

/* st_key_compare - compare a row with a key prefix */
int st_key_compare(const struct st_table *t, const struct st_row *r,
		   const struct st_value *vals, size_t nvals)
{
	size_t i;
	int c;

	for (i = 0; i < nvals && i < t->nkey; i++)
		if ((c = part_compare(t, i, &r->vals[t->key[i]], &vals[i])) != 0)
			return c;
	return 0;
}

/* st_row_lower - first row not below the prefix */
size_t st_row_lower(const struct st_table *t, const struct st_value *vals,
		    size_t nvals)
{
	size_t lo = 0, hi = t->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st_key_compare(t, t->rows[mid], vals, nvals) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* copy_value - owned copy of a value */
static int copy_value(struct st_value *dst, const uint8_t *p, int32_t len)
{
	dst->p = NULL;
	dst->len = len;
	if (len <= 0)
		return 0;
	if ((dst->p = malloc((size_t)len)) == NULL)
		return -1;
	memcpy(dst->p, p, (size_t)len);
	return 0;
}

/* st_row_get - find, or make, the row with a full primary key */
struct st_row *st_row_get(struct st_table *t, const struct st_value *vals,
			  int create)
{
	size_t pos = st_row_lower(t, vals, t->nkey), i;
	struct st_row *r;

	if (pos < t->nrows && st_key_compare(t, t->rows[pos], vals,
					     t->nkey) == 0)
		return t->rows[pos];
	if (!create || t->nrows >= ST_MAX_ROWS)
		return NULL;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct st_row **v = realloc(t->rows, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		t->rows = v;
		t->cap = cap;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->vals = calloc(t->ncols, sizeof(*r->vals))) == NULL) {
		free(r);
		return NULL;
	}
	for (i = 0; i < t->ncols; i++)
		r->vals[i].len = -1;
	for (i = 0; i < t->nkey; i++)
		if (copy_value(&r->vals[t->key[i]], vals[i].p,
			       vals[i].len) < 0) {
			row_free(t, r);
			return NULL;
		}
	memmove(&t->rows[pos + 1], &t->rows[pos],
		(t->nrows - pos) * sizeof(t->rows[0]));
	t->rows[pos] = r;
	t->nrows++;
	return r;
}

/* st_row_set - replace a cell */
int st_row_set(struct st_table *t, struct st_row *r, int col,
	       const uint8_t *p, int32_t len)
{
	struct st_value v;

	if (col < 0 || (size_t)col >= t->ncols)
		return -1;
	if (copy_value(&v, p, len) < 0)
		return -1;
	free(r->vals[col].p);
	r->vals[col] = v;
	return 0;
}

/* st_row_live - the row exists */
int st_row_live(const struct st_table *t, const struct st_row *r)
{
	size_t i;

	if (r->marker)
		return 1;
	for (i = 0; i < t->ncols; i++)
		if (t->cols[i].kind == ST_REGULAR && r->vals[i].len >= 0)
			return 1;
	return 0;
}

/* st_row_remove - remove rows [from, to) */
void st_row_remove(struct st_table *t, size_t from, size_t to)
{
	size_t i;

	if (to > t->nrows)
		to = t->nrows;
	if (from >= to)
		return;
	for (i = from; i < to; i++)
		row_free(t, t->rows[i]);
	memmove(&t->rows[from], &t->rows[to],
		(t->nrows - to) * sizeof(t->rows[0]));
	t->nrows -= to - from;
}

/* st_gc - drop rows that are no longer live */
void st_gc(struct st_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->nrows; i++) {
		if (st_row_live(t, t->rows[i]))
			t->rows[n++] = t->rows[i];
		else
			row_free(t, t->rows[i]);
	}
	t->nrows = n;
}
