/*
 * cql_term - literals, bind markers and types in cqld's CQL parser
 *
 * SYNOPSIS
 *	#include "cql_parser.h"
 *
 * DESCRIPTION
 *	cl_parse_term() reads a literal (string, number, UUID, blob,
 *	boolean, null), a collection literal (list, set, map, nested up to
 *	a depth) or a bind marker, which it records with the column or role
 *	(LIMIT, TTL, TIMESTAMP) it binds. cl_parse_type() reads a column
 *	type, simple or a (frozen) collection of simple types.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql_parser.h"
#include "cql/cql_proto.h"

/* ---- terms ------------------------------------------------------- */

/* cl_term_free - release what a term owns */
void cl_term_free(struct cl_term *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nelems; i++)
		cl_term_free(&t->elems[i]);
	free(t->elems);
	free(t->str);
	memset(t, 0, sizeof(*t));
}

/* term_text - copy the current token's raw text into t->str */
static int term_text(struct cl_parser *ps, struct cl_term *t,
		     const char *p, size_t n)
{
	if ((t->str = malloc(n + 1)) == NULL) {
		cl_invalid(ps, "out of memory");
		return -1;
	}
	memcpy(t->str, p, n);
	t->str[n] = 0;
	t->len = n;
	return 0;
}

/* add_bind - record a bind marker and what it binds */
static int add_bind(struct cl_parser *ps, struct cl_term *t,
		    enum cl_bind_role role, const char *col)
{
	struct cl_stmt *st = ps->st;

	if (st->nbind >= CL_MAX_BIND) {
		cl_invalid(ps, "Too many bind markers (max %d)", CL_MAX_BIND);
		return -1;
	}
	t->kind = CL_TERM_BIND;
	t->bind = (int)st->nbind;
	st->binds[st->nbind].role = role;
	if (col)
		snprintf(st->binds[st->nbind].col, CL_NAME_MAX, "%s", col);
	st->nbind++;
	return 0;
}

/* push_elem - grow a collection term by one element slot */
static struct cl_term *push_elem(struct cl_parser *ps, struct cl_term *t)
{
	struct cl_term *e;

	if (t->nelems >= CL_MAX_ELEMS) {
		cl_invalid(ps, "Too many elements in collection literal (max %d)",
			   CL_MAX_ELEMS);
		return NULL;
	}
	e = realloc(t->elems, (t->nelems + 1) * sizeof(*e));
	if (e == NULL) {
		cl_invalid(ps, "out of memory");
		return NULL;
	}
	t->elems = e;
	e = &t->elems[t->nelems++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* parse_collection - '{' ... '}' (set or map) or '[' ... ']' (list) */
static int parse_collection(struct cl_parser *ps, struct cl_term *t,
			    int depth)
{
	int is_list = cl_is_sym(ps, "[");
	const char *close = is_list ? "]" : "}";
	struct cl_term *e;

	cl_lex(ps);
	t->kind = is_list ? CL_TERM_LIST : CL_TERM_SET;
	if (cl_accept_sym(ps, close))
		return 0;
	for (;;) {
		if ((e = push_elem(ps, t)) == NULL)
			return -1;
		if (cl_parse_term_depth(ps, e, depth + 1, CL_BIND_COLUMN,
					NULL) < 0)
			return -1;
		if (!is_list && t->nelems == 1 && cl_is_sym(ps, ":"))
			t->kind = CL_TERM_MAP;
		if (t->kind == CL_TERM_MAP) {
			if (cl_expect_sym(ps, ":") < 0)
				return -1;
			if ((e = push_elem(ps, t)) == NULL)
				return -1;
			if (cl_parse_term_depth(ps, e, depth + 1, CL_BIND_COLUMN,
						NULL) < 0)
				return -1;
		}
		if (cl_accept_sym(ps, close))
			return 0;
		if (cl_expect_sym(ps, ",") < 0)
			return -1;
	}
}

/* cl_parse_term_depth - a literal, collection literal, null or '?' */
int cl_parse_term_depth(struct cl_parser *ps, struct cl_term *t,
			int depth, enum cl_bind_role role,
			const char *col)
{
	const struct cl_tok *tok = &ps->tok;
	size_t i, n;
	char *s;

	memset(t, 0, sizeof(*t));
	if (ps->failed)
		return -1;
	if (depth > CL_MAX_NEST) {
		cl_invalid(ps, "Literal nested too deeply");
		return -1;
	}
	switch (tok->kind) {
	case TK_STRING:
		t->kind = CL_TERM_STRING;
		if (tok->p[0] == '$') {
			if (term_text(ps, t, tok->p + 2, tok->len - 4) < 0)
				return -1;
			break;
		}
		if (term_text(ps, t, tok->p + 1, tok->len - 2) < 0)
			return -1;
		for (i = n = 0, s = t->str; i < t->len; i++) {
			if (s[i] == '\'')
				i++;	/* '' stands for ' */
			s[n++] = s[i];
		}
		s[n] = 0;
		t->len = n;
		break;
	case TK_INT:
		t->kind = CL_TERM_INT;
		if (term_text(ps, t, tok->p, tok->len) < 0)
			return -1;
		errno = 0;
		t->ival = strtoll(t->str, NULL, 10);
		t->ival_ok = errno == 0;
		break;
	case TK_FLOAT:
	case TK_UUID:
	case TK_HEX:
		t->kind = tok->kind == TK_FLOAT ? CL_TERM_FLOAT :
			  tok->kind == TK_UUID ? CL_TERM_UUID : CL_TERM_HEX;
		if (term_text(ps, t, tok->p, tok->len) < 0)
			return -1;
		break;
	case TK_WORD:
		if (cl_is_word(ps, "true") || cl_is_word(ps, "false")) {
			t->kind = CL_TERM_BOOL;
			t->ival = cl_is_word(ps, "true");
		} else if (cl_is_word(ps, "null")) {
			t->kind = CL_TERM_NULL;
		} else if (cl_is_word(ps, "nan") || cl_is_word(ps, "infinity")) {
			t->kind = CL_TERM_FLOAT;
			if (term_text(ps, t, tok->p, tok->len) < 0)
				return -1;
		} else {
			cl_syntax(ps, NULL);
			return -1;
		}
		break;
	case TK_SYM:
		if (cl_is_sym(ps, "?")) {
			if (depth > 0) {
				cl_invalid(ps, "cqld: bind markers inside "
					   "collection literals are not supported");
				return -1;
			}
			if (add_bind(ps, t, role, col) < 0)
				return -1;
			break;
		}
		if (cl_is_sym(ps, "{") || cl_is_sym(ps, "["))
			return parse_collection(ps, t, depth);
		if (cl_is_sym(ps, ":")) {
			cl_invalid(ps, "cqld: named bind markers are not supported");
			return -1;
		}
		cl_syntax(ps, NULL);
		return -1;
	default:
		cl_syntax(ps, NULL);
		return -1;
	}
	cl_lex(ps);
	return 0;
}

/* cl_parse_term - a term that binds a column (or a special role) */
int cl_parse_term(struct cl_parser *ps, struct cl_term *t,
		  enum cl_bind_role role, const char *col)
{
	return cl_parse_term_depth(ps, t, 0, role, col);
}

/* ---- types ------------------------------------------------------- */

static const struct {
	const char *name;
	uint16_t id;
} type_names[] = {
	{"ascii", CQL_TYPE_ASCII}, {"bigint", CQL_TYPE_BIGINT},
	{"blob", CQL_TYPE_BLOB}, {"boolean", CQL_TYPE_BOOLEAN},
	{"counter", CQL_TYPE_COUNTER}, {"decimal", CQL_TYPE_DECIMAL},
	{"double", CQL_TYPE_DOUBLE}, {"float", CQL_TYPE_FLOAT},
	{"int", CQL_TYPE_INT}, {"text", CQL_TYPE_VARCHAR},
	{"timestamp", CQL_TYPE_TIMESTAMP}, {"uuid", CQL_TYPE_UUID},
	{"varchar", CQL_TYPE_VARCHAR}, {"varint", CQL_TYPE_VARINT},
	{"timeuuid", CQL_TYPE_TIMEUUID}, {"inet", CQL_TYPE_INET},
	{"date", CQL_TYPE_DATE}, {"time", CQL_TYPE_TIME},
	{"smallint", CQL_TYPE_SMALLINT}, {"tinyint", CQL_TYPE_TINYINT},
};

/* cl_type_parse_name - simple type name to id; -1 when unknown */
int cl_type_parse_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcasecmp(name, type_names[i].name) == 0)
			return type_names[i].id;
	return -1;
}

/* parse_simple_type - a simple type name; the id or -1 */
static int parse_simple_type(struct cl_parser *ps)
{
	char name[CL_NAME_MAX];
	int id;

	if (ps->tok.kind != TK_WORD || ps->tok.len >= sizeof(name)) {
		cl_syntax(ps, "a type");
		return -1;
	}
	memcpy(name, ps->tok.p, ps->tok.len);
	name[ps->tok.len] = 0;
	if ((id = cl_type_parse_name(name)) < 0) {
		if (strcasecmp(name, "set") == 0 || strcasecmp(name, "list") == 0 ||
		    strcasecmp(name, "map") == 0 || strcasecmp(name, "frozen") == 0 ||
		    strcasecmp(name, "tuple") == 0)
			cl_invalid(ps, "cqld: nested collection type %s<...> is "
				   "not supported", name);
		else
			cl_invalid(ps, "Unknown type %s", name);
		return -1;
	}
	cl_lex(ps);
	return id;
}

/* cl_parse_type - simple type, collection of simple types, frozen<...> */
int cl_parse_type(struct cl_parser *ps, struct cl_type *ty, int depth)
{
	int id;

	memset(ty, 0, sizeof(*ty));
	if (depth > CL_MAX_NEST) {
		cl_invalid(ps, "Type nested too deeply");
		return -1;
	}
	if (cl_is_word(ps, "frozen")) {
		cl_lex(ps);
		if (cl_expect_sym(ps, "<") < 0 ||
		    cl_parse_type(ps, ty, depth + 1) < 0 ||
		    cl_expect_sym(ps, ">") < 0)
			return -1;
		ty->frozen = 1;
		return 0;
	}
	if (cl_is_word(ps, "set") || cl_is_word(ps, "list")) {
		ty->id = cl_is_word(ps, "set") ? CQL_TYPE_SET : CQL_TYPE_LIST;
		cl_lex(ps);
		if (cl_expect_sym(ps, "<") < 0)
			return -1;
		if (cl_accept_word(ps, "frozen")) {
			cl_invalid(ps, "cqld: frozen collection elements are not "
				   "supported");
			return -1;
		}
		if ((id = parse_simple_type(ps)) < 0)
			return -1;
		ty->elem[0] = (uint16_t)id;
		return cl_expect_sym(ps, ">");
	}
	if (cl_is_word(ps, "map")) {
		ty->id = CQL_TYPE_MAP;
		cl_lex(ps);
		if (cl_expect_sym(ps, "<") < 0 ||
		    (id = parse_simple_type(ps)) < 0)
			return -1;
		ty->elem[0] = (uint16_t)id;
		if (cl_expect_sym(ps, ",") < 0 ||
		    (id = parse_simple_type(ps)) < 0)
			return -1;
		ty->elem[1] = (uint16_t)id;
		return cl_expect_sym(ps, ">");
	}
	if ((id = parse_simple_type(ps)) < 0)
		return -1;
	ty->id = (uint16_t)id;
	return 0;
}

