/*
 * result_rows - the reply data of a map from the rows of its query (see
 * result_rows.h)
 */
#include <stdio.h>
#include <string.h>

#include "cql/cql_proto.h"
#include "result_format.h"
#include "result_rows.h"

#define RESULT_SEPARATOR	", "	/* between the values of a reply */
#define RESULT_TYPE_NAME_MAX	64	/* bytes of a column type's name */

/* value_type - a type whose values read as text: see result_rows.h */
static int value_type(uint16_t id)
{
	switch (id) {
	case CQL_TYPE_ASCII:
	case CQL_TYPE_VARCHAR:
	case CQL_TYPE_TINYINT:
	case CQL_TYPE_SMALLINT:
	case CQL_TYPE_INT:
	case CQL_TYPE_BIGINT:
		return 1;
	default:
		return 0;
	}
}

/* type_text - a column type as CQL writes it, e.g. "set<timestamp>" */
static void type_text(const struct cql_type *t, char *out, size_t size)
{
	const char *more = t->nested ? "<...>" : "";

	switch (t->id) {
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
		snprintf(out, size, "%s<%s%s>", cql_type_name(t->id),
			 cql_type_name(t->elem[0]), more);
		break;
	case CQL_TYPE_MAP:
		snprintf(out, size, "map<%s, %s>", cql_type_name(t->elem[0]),
			 cql_type_name(t->elem[1]));
		break;
	default:
		snprintf(out, size, "%s", cql_type_name(t->id));
		break;
	}
}

/* result_rows_check - see result_rows.h */
int result_rows_check(const struct cql_rows_meta *m, char *why, size_t size)
{
	const struct cql_column *c;
	char type[RESULT_TYPE_NAME_MAX];
	int32_t i;

	if (m->ncols < 1) {
		snprintf(why, size, "the query selects no column");
		return -1;
	}
	c = &m->cols[0];
	type_text(&c->type, type, sizeof(type));
	if (c->type.id == CQL_TYPE_LIST || c->type.id == CQL_TYPE_SET ?
	    c->type.nested || !value_type(c->type.elem[0]) : !value_type(c->type.id)) {
		snprintf(why, size, "value column %s is %s; it must be text, ascii, "
			 "an integer (tinyint, smallint, int, bigint), or a list or set "
			 "of those", c->name, type);
		return -1;
	}
	for (i = 1; i < m->ncols; i++) {
		c = &m->cols[i];
		if (strcmp(c->name, "active") == 0 && c->type.id != CQL_TYPE_BOOLEAN) {
			type_text(&c->type, type, sizeof(type));
			snprintf(why, size, "column active is %s; it must be boolean", type);
			return -1;
		}
	}
	return 0;
}

/* value_append - format one value and join it to the reply */
static int value_append(const char *fmt, const char *v, size_t n,
			struct buf *out, int found)
{
	size_t mark = out->len;

	if (n == 0)
		return found;		/* an empty value is no value */
	if (found)
		buf_append(out, RESULT_SEPARATOR, sizeof(RESULT_SEPARATOR) - 1);
	if (result_format_apply(fmt, v, n, out) == 0) {
		out->len = mark;	/* discarded by %d */
		return found;
	}
	return 1;
}

/* result_rows_format - see result_rows.h */
int result_rows_format(struct cql_rows *rows, const char *fmt, struct buf *out)
{
	struct cql_cell cells[CQL_MAX_COLUMNS], el;
	struct buf tmp;
	int32_t i, active = -1;
	int found = 0, rc;
	size_t pos;

	if (rows->meta.ncols < 1)
		return -1;
	for (i = 1; i < rows->meta.ncols; i++)
		if (strcmp(rows->meta.cols[i].name, "active") == 0)
			active = i;
	buf_init(&tmp);
	while ((rc = cql_rows_next(rows, cells)) == 1) {
		if (active >= 0 && (cells[active].kind != CQL_CELL_BOOL ||
				    cells[active].i == 0))
			continue;	/* false, null, or not a boolean */
		switch (cells[0].kind) {
		case CQL_CELL_NULL:
			break;
		case CQL_CELL_COLLECTION:
			pos = 0;
			while ((rc = cql_collection_next(&cells[0], &pos, &el)) == 1) {
				buf_reset(&tmp);
				if (cql_cell_to_text(&el, &tmp) == 0)
					found = value_append(fmt, (char *)tmp.data,
							     tmp.len, out, found);
			}
			if (rc < 0)
				goto bad;
			break;
		default:
			buf_reset(&tmp);
			if (cql_cell_to_text(&cells[0], &tmp) != 0)
				goto bad;
			found = value_append(fmt, (char *)tmp.data, tmp.len, out,
					     found);
			break;
		}
	}
	if (rc < 0)
		goto bad;
	buf_free(&tmp);
	return out->oom ? -1 : found;
bad:
	buf_free(&tmp);
	return -1;
}
