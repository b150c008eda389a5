/*
 * change_set - the serials of the change table (see change_set.h)
 */
#include <string.h>
#include <strings.h>

#include "change_set.h"
#include "cql/cql_proto.h"

#define CHANGE_COL_TABLE	"table_name"
#define CHANGE_COL_SERIAL	"serial"

/* ident_char - may c be part of an unquoted CQL identifier? */
static int ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* lower - ASCII lower case */
static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * skip_quoted - past a '...' or "..." (doubled quote escapes) starting at
 * p; with out, the unquoted text is copied there (*n bytes, at most max)
 */
static const char *skip_quoted(const char *p, char *out, size_t max, size_t *n)
{
	char q = *p++;

	for (; *p; p++) {
		if (*p == q && p[1] != q)
			return p + 1;
		if (*p == q)
			p++;
		if (out && *n < max)
			out[*n] = *p;
		if (out)
			(*n)++;
	}
	return NULL;		/* unterminated */
}

/*
 * ident - one identifier at p into out (lower case unless quoted);
 * returns the end, or NULL if none or longer than max
 */
static const char *ident(const char *p, char *out, size_t max)
{
	size_t n = 0;

	if (*p == '"') {
		if ((p = skip_quoted(p, out, max, &n)) == NULL)
			return NULL;
	} else {
		for (; ident_char(*p); p++, n++)
			if (n < max)
				out[n] = lower(*p);
	}
	if (n == 0 || n > max)
		return NULL;
	out[n] = 0;
	return p;
}

/* is_space - CQL whitespace */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* change_table_of_query - the [keyspace.]table after the first FROM keyword */
int change_table_of_query(const char *query, char *table, size_t size)
{
	char part[CHANGE_TABLE_MAX + 1];
	const char *p = query;
	size_t max = size > 0 && size - 1 < CHANGE_TABLE_MAX ? size - 1 : CHANGE_TABLE_MAX;

	if (size == 0)
		return -1;
	while (*p) {
		if (*p == '\'' || *p == '"') {
			if ((p = skip_quoted(p, NULL, 0, NULL)) == NULL)
				return -1;
			continue;
		}
		if (!ident_char(*p)) {
			p++;
			continue;
		}
		if (strncasecmp(p, "from", 4) == 0 && is_space(p[4]))
			break;
		while (ident_char(*p))
			p++;
	}
	if (*p == 0)
		return -1;
	for (p += 4; is_space(*p); p++)
		;
	if ((p = ident(p, part, max)) == NULL)
		return -1;
	if (*p == '.' && (p = ident(p + 1, part, max)) == NULL)
		return -1;
	memcpy(table, part, strlen(part) + 1);
	return 0;
}

/* column - index of the column named name, or -1 */
static int column(const struct cql_rows_meta *m, const char *name)
{
	int32_t i;

	for (i = 0; i < m->ncols; i++)
		if (strcmp(m->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* listed - is the table (len bytes) one of tables[]? */
static int listed(const char *const *tables, size_t ntables, const uint8_t *name, size_t len)
{
	size_t i;

	for (i = 0; i < ntables; i++)
		if (tables[i] && strlen(tables[i]) == len && memcmp(tables[i], name, len) == 0)
			return 1;
	return 0;
}

/* find - index of table in set, or -1 */
static int find(const struct change_set *set, const char *table)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->table[i], table) == 0)
			return (int)i;
	return -1;
}

/* change_set_read - the listed tables' serials from a Rows result */
int change_set_read(struct change_set *set, struct cql_rows *rows,
		    const char *const *tables, size_t ntables)
{
	struct cql_cell cells[CQL_MAX_COLUMNS];
	int t = column(&rows->meta, CHANGE_COL_TABLE);
	int s = column(&rows->meta, CHANGE_COL_SERIAL);
	int rc;

	set->n = 0;
	if (t < 0 || s < 0)
		return -1;
	while ((rc = cql_rows_next(rows, cells)) == 1) {
		if (cells[t].kind != CQL_CELL_TEXT ||
		    (cells[s].kind != CQL_CELL_INT && cells[s].kind != CQL_CELL_NULL))
			goto bad;
		if (cells[s].kind == CQL_CELL_NULL || cells[t].len > CHANGE_TABLE_MAX ||
		    !listed(tables, ntables, cells[t].p, cells[t].len) ||
		    set->n == CHANGE_SET_MAX)
			continue;
		memcpy(set->table[set->n], cells[t].p, cells[t].len);
		set->table[set->n][cells[t].len] = 0;
		/* A key is one row; a server that says otherwise gets its first heard. */
		if (find(set, set->table[set->n]) >= 0)
			continue;
		set->serial[set->n++] = cells[s].i;
	}
	if (rc == 0)
		return 0;
bad:
	set->n = 0;
	return -1;
}

/* change_set_changed - a serial that differs, appeared or went */
int change_set_changed(const struct change_set *before,
		       const struct change_set *now, const char *table)
{
	int a = find(before, table), b = find(now, table);

	if (a < 0 || b < 0)
		return a != b;
	return before->serial[a] != now->serial[b];
}

/* change_set_plan - the maps changed now, and those changed at the last poll */
uint64_t change_set_plan(const struct change_set *before, const struct change_set *now,
			 const char *const *tables, size_t nmaps, uint64_t again,
			 uint64_t *changed)
{
	size_t i;

	*changed = 0;
	for (i = 0; i < nmaps && i < 64; i++)
		if (tables[i] && change_set_changed(before, now, tables[i]))
			*changed |= (uint64_t)1 << i;
	return *changed | again;
}
