/*
 * cql_lang - tokenizer and parser of the CQL subset that cqld understands
 *
 * DESCRIPTION
 *	See cql_lang.h. A hand-written recursive descent parser over a
 *	one-token-lookahead lexer (cql_lex.c; terms and types in
 *	cql_term.c): this file parses the statements. Errors are reported
 *	the way Cassandra words them ("line L:C mismatched input 'x'
 *	expecting ..."), close enough for clients that only look at the
 *	error code.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql_parser.h"
#include "cql/cql_proto.h"

/* ---- statements -------------------------------------------------- */

/* accept_table - TABLE or its old name COLUMNFAMILY, consumed */
static int accept_table(struct cl_parser *ps)
{
	return cl_accept_word(ps, "table") || cl_accept_word(ps, "columnfamily");
}

/* accept_keyspace - KEYSPACE or its other name SCHEMA, consumed */
static int accept_keyspace(struct cl_parser *ps)
{
	return cl_accept_word(ps, "keyspace") || cl_accept_word(ps, "schema");
}

/* column_room - room for one more column after n, or -1 with the error */
static int column_room(struct cl_parser *ps, size_t n)
{
	if (n < CL_MAX_COLUMNS)
		return 0;
	cl_invalid(ps, "cqld: too many columns (max %d)", CL_MAX_COLUMNS);
	return -1;
}

/* parse_if_not_exists - optional IF NOT EXISTS */
static int parse_if_not_exists(struct cl_parser *ps)
{
	if (!cl_accept_word(ps, "if"))
		return 0;
	if (cl_expect_word(ps, "not", "K_NOT") < 0 ||
	    cl_expect_word(ps, "exists", "K_EXISTS") < 0)
		return -1;
	ps->st->if_not_exists = 1;
	return 0;
}

/* parse_if_exists - optional IF EXISTS */
static int parse_if_exists(struct cl_parser *ps)
{
	if (!cl_accept_word(ps, "if"))
		return 0;
	if (cl_expect_word(ps, "exists", "K_EXISTS") < 0)
		return -1;
	ps->st->if_exists = 1;
	return 0;
}

/*
 * parse_condition - the optional IF EXISTS that ends UPDATE and DELETE
 * (what: "updates" or "deletes"); other conditions (IF col = v) are
 * refused by name.
 */
static int parse_condition(struct cl_parser *ps, const char *what)
{
	if (!cl_is_word(ps, "if"))
		return 0;
	cl_lex(ps);
	if (!cl_accept_word(ps, "exists")) {
		cl_invalid(ps, "cqld: conditional %s other than IF EXISTS are "
			   "not supported", what);
		return -1;
	}
	ps->st->if_exists = 1;
	return 0;
}

/* parse_property - name '=' term; handed back for the caller to use */
static int parse_property(struct cl_parser *ps, char *name,
			  struct cl_term *value)
{
	memset(value, 0, sizeof(*value));	/* the caller frees it */
	if (cl_parse_ident(ps, name, "a property name") < 0 ||
	    cl_expect_sym(ps, "=") < 0)
		return -1;
	return cl_parse_term_depth(ps, value, 1, CL_BIND_COLUMN, NULL);
}

/* parse_create_keyspace - CREATE KEYSPACE [IF NOT EXISTS] ks WITH ... */
static int parse_create_keyspace(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	char name[CL_NAME_MAX];
	struct cl_term value;

	st->kind = CL_CREATE_KEYSPACE;
	st->durable_writes = -1;
	if (parse_if_not_exists(ps) < 0 ||
	    cl_parse_ident(ps, st->ks, "a keyspace name") < 0)
		return -1;
	if (!cl_accept_word(ps, "with"))
		return 0;
	do {
		if (parse_property(ps, name, &value) < 0) {
			cl_term_free(&value);
			return -1;
		}
		if (strcmp(name, "replication") == 0 &&
		    (value.kind == CL_TERM_MAP ||
		     (value.kind == CL_TERM_SET && value.nelems == 0))) {
			cl_term_free(&st->replication);
			st->replication = value;
			st->replication.kind = CL_TERM_MAP;
		} else if (strcmp(name, "durable_writes") == 0 &&
			   value.kind == CL_TERM_BOOL) {
			st->durable_writes = (int)value.ival;
			cl_term_free(&value);
		} else if (strcmp(name, "replication") == 0 ||
			   strcmp(name, "durable_writes") == 0) {
			cl_term_free(&value);
			cl_invalid(ps, "Invalid value for property '%s'", name);
			return -1;
		} else {
			cl_term_free(&value);	/* other options: ignored */
		}
	} while (cl_accept_word(ps, "and"));
	return 0;
}

/* find_coldef - index of a defined column, or -1 */
static int find_coldef(const struct cl_stmt *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->ncols; i++)
		if (strcmp(st->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* add_key - append a primary key column name */
static int add_key(struct cl_parser *ps, const char *name)
{
	struct cl_stmt *st = ps->st;
	size_t i;

	for (i = 0; i < st->nkey; i++)
		if (strcmp(st->key[i], name) == 0) {
			cl_invalid(ps, "Multiple definition of identifier %s",
				   name);
			return -1;
		}
	if (st->nkey >= CL_MAX_COLUMNS) {
		cl_invalid(ps, "Too many primary key columns");
		return -1;
	}
	snprintf(st->key[st->nkey++], CL_NAME_MAX, "%s", name);
	return 0;
}

/* parse_primary_key - PRIMARY KEY ( pk | (pk, ...) [, ck ...] ) */
static int parse_primary_key(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	char name[CL_NAME_MAX];

	if (st->nkey > 0) {
		cl_invalid(ps, "Multiple PRIMARY KEYs specified (exactly one "
			   "required)");
		return -1;
	}
	if (cl_expect_sym(ps, "(") < 0)
		return -1;
	if (cl_accept_sym(ps, "(")) {
		do {
			if (cl_parse_ident(ps, name, "a column name") < 0 ||
			    add_key(ps, name) < 0)
				return -1;
		} while (cl_accept_sym(ps, ","));
		if (cl_expect_sym(ps, ")") < 0)
			return -1;
	} else {
		if (cl_parse_ident(ps, name, "a column name") < 0 ||
		    add_key(ps, name) < 0)
			return -1;
	}
	st->npartition = st->nkey;
	while (cl_accept_sym(ps, ",")) {
		if (cl_parse_ident(ps, name, "a column name") < 0 ||
		    add_key(ps, name) < 0)
			return -1;
	}
	return cl_expect_sym(ps, ")");
}

/* parse_clustering_order - CLUSTERING ORDER BY (c ASC|DESC, ...) */
static int parse_clustering_order(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	char name[CL_NAME_MAX];
	size_t i, n = 0;

	if (cl_expect_word(ps, "order", "K_ORDER") < 0 ||
	    cl_expect_word(ps, "by", "K_BY") < 0 || cl_expect_sym(ps, "(") < 0)
		return -1;
	do {
		int desc = 0;

		if (cl_parse_ident(ps, name, "a column name") < 0)
			return -1;
		if (cl_accept_word(ps, "desc"))
			desc = 1;
		else
			(void)cl_accept_word(ps, "asc");
		for (i = st->npartition; i < st->nkey; i++)
			if (strcmp(st->key[i], name) == 0)
				break;
		if (i == st->nkey) {
			cl_invalid(ps, "Missing CLUSTERING ORDER for column %s",
				   name);
			return -1;
		}
		if (i != st->npartition + n) {
			cl_invalid(ps, "The order of columns in the CLUSTERING "
				   "ORDER directive must be the one of the "
				   "clustering key");
			return -1;
		}
		st->key_desc[i] = (uint8_t)desc;
		n++;
	} while (cl_accept_sym(ps, ","));
	return cl_expect_sym(ps, ")");
}

/* parse_create_table - CREATE TABLE [IF NOT EXISTS] [ks.]t (...) [WITH] */
static int parse_create_table(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	struct cl_coldef *cd;
	char name[CL_NAME_MAX];
	struct cl_term value;
	size_t i;

	st->kind = CL_CREATE_TABLE;
	if (parse_if_not_exists(ps) < 0 || cl_parse_qname(ps) < 0 ||
	    cl_expect_sym(ps, "(") < 0)
		return -1;
	do {
		if (cl_is_word(ps, "primary")) {
			cl_lex(ps);
			if (cl_expect_word(ps, "key", "K_KEY") < 0 ||
			    parse_primary_key(ps) < 0)
				return -1;
			continue;
		}
		if (column_room(ps, st->ncols) < 0)
			return -1;
		cd = &st->cols[st->ncols];
		if (cl_parse_ident(ps, cd->name, "a column name") < 0)
			return -1;
		if (find_coldef(st, cd->name) >= 0) {
			cl_invalid(ps, "Multiple definition of identifier %s",
				   cd->name);
			return -1;
		}
		if (cl_parse_type(ps, &cd->type, 0) < 0)
			return -1;
		st->ncols++;
		if (cl_accept_word(ps, "static"))
			cd->is_static = 1;
		if (cl_accept_word(ps, "primary")) {
			if (cl_expect_word(ps, "key", "K_KEY") < 0)
				return -1;
			if (st->nkey > 0) {
				cl_invalid(ps, "Multiple PRIMARY KEYs specified "
					   "(exactly one required)");
				return -1;
			}
			if (add_key(ps, cd->name) < 0)
				return -1;
			st->npartition = 1;
		}
	} while (cl_accept_sym(ps, ","));
	if (cl_expect_sym(ps, ")") < 0)
		return -1;
	if (st->nkey == 0) {
		cl_invalid(ps, "No PRIMARY KEY specifed (exactly one required)");
		return -1;
	}
	for (i = 0; i < st->nkey; i++) {
		int c = find_coldef(st, st->key[i]);

		if (c < 0) {
			cl_invalid(ps, "Unknown definition %s referenced in "
				   "PRIMARY KEY", st->key[i]);
			return -1;
		}
		if (st->cols[c].type.id == CQL_TYPE_COUNTER) {
			cl_invalid(ps, "counter type is not supported for "
				   "PRIMARY KEY part %s", st->key[i]);
			return -1;
		}
		if ((st->cols[c].type.id == CQL_TYPE_SET ||
		     st->cols[c].type.id == CQL_TYPE_LIST ||
		     st->cols[c].type.id == CQL_TYPE_MAP) &&
		    !st->cols[c].type.frozen) {
			cl_invalid(ps, "Invalid non-frozen collection type for "
				   "PRIMARY KEY component %s", st->key[i]);
			return -1;
		}
	}
	if (!cl_accept_word(ps, "with"))
		return 0;
	do {
		if (cl_accept_word(ps, "clustering")) {
			if (parse_clustering_order(ps) < 0)
				return -1;
		} else if (cl_accept_word(ps, "compact")) {
			if (cl_expect_word(ps, "storage", "K_STORAGE") < 0)
				return -1;
		} else {
			if (parse_property(ps, name, &value) < 0) {
				cl_term_free(&value);
				return -1;
			}
			cl_term_free(&value);	/* table options: ignored */
		}
	} while (cl_accept_word(ps, "and"));
	return 0;
}

/* parse_using - USING TTL x [AND TIMESTAMP y] (either order) */
static int parse_using(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;

	do {
		if (cl_accept_word(ps, "ttl")) {
			cl_term_free(&st->ttl);
			if (cl_parse_term(ps, &st->ttl, CL_BIND_TTL, NULL) < 0)
				return -1;
		} else if (cl_accept_word(ps, "timestamp")) {
			cl_term_free(&st->timestamp);
			if (cl_parse_term(ps, &st->timestamp, CL_BIND_TIMESTAMP,
					  NULL) < 0)
				return -1;
		} else {
			cl_syntax(ps, "K_TTL or K_TIMESTAMP");
			return -1;
		}
	} while (cl_accept_word(ps, "and"));
	return 0;
}

/* parse_insert - INSERT INTO t (cols) VALUES (terms) [IF NOT EXISTS] [USING] */
static int parse_insert(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	size_t i, n = 0;

	st->kind = CL_INSERT;
	if (cl_expect_word(ps, "into", "K_INTO") < 0 || cl_parse_qname(ps) < 0)
		return -1;
	if (cl_is_word(ps, "json")) {
		cl_invalid(ps, "cqld: INSERT JSON is not supported");
		return -1;
	}
	if (cl_expect_sym(ps, "(") < 0)
		return -1;
	do {
		if (column_room(ps, st->nassign) < 0)
			return -1;
		if (cl_parse_ident(ps, st->assign[st->nassign].col,
				   "a column name") < 0)
			return -1;
		for (i = 0; i < st->nassign; i++)
			if (strcmp(st->assign[i].col,
				   st->assign[st->nassign].col) == 0) {
				cl_invalid(ps, "Multiple definitions found for "
					   "column %s", st->assign[i].col);
				return -1;
			}
		st->nassign++;
	} while (cl_accept_sym(ps, ","));
	if (cl_expect_sym(ps, ")") < 0 ||
	    cl_expect_word(ps, "values", "K_VALUES") < 0 ||
	    cl_expect_sym(ps, "(") < 0)
		return -1;
	do {
		if (n >= st->nassign) {
			cl_invalid(ps, "Unmatched column names/values");
			return -1;
		}
		if (cl_parse_term(ps, &st->assign[n].value, CL_BIND_COLUMN,
				  st->assign[n].col) < 0)
			return -1;
		n++;
	} while (cl_accept_sym(ps, ","));
	if (cl_expect_sym(ps, ")") < 0)
		return -1;
	if (n != st->nassign) {
		cl_invalid(ps, "Unmatched column names/values");
		return -1;
	}
	if (parse_if_not_exists(ps) < 0)
		return -1;
	if (cl_accept_word(ps, "using") && parse_using(ps) < 0)
		return -1;
	return 0;
}

/* parse_where - WHERE rel (AND rel)* */
static int parse_where(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	struct cl_relation *r;

	do {
		if (st->nwhere >= CL_MAX_WHERE) {
			cl_invalid(ps, "cqld: too many relations (max %d)",
				   CL_MAX_WHERE);
			return -1;
		}
		r = &st->where[st->nwhere];
		if (cl_is_word(ps, "token")) {
			cl_invalid(ps, "cqld: token() restrictions are not "
				   "supported");
			return -1;
		}
		if (cl_parse_ident(ps, r->col, "an identifier") < 0)
			return -1;
		if (cl_accept_sym(ps, "="))
			r->op = CL_OP_EQ;
		else if (cl_accept_sym(ps, "<"))
			r->op = CL_OP_LT;
		else if (cl_accept_sym(ps, "<="))
			r->op = CL_OP_LE;
		else if (cl_accept_sym(ps, ">"))
			r->op = CL_OP_GT;
		else if (cl_accept_sym(ps, ">="))
			r->op = CL_OP_GE;
		else if (cl_is_word(ps, "in") || cl_is_word(ps, "contains") ||
			 cl_is_sym(ps, "!=")) {
			char show[CL_TOKEN_SHOW + 1];

			cl_invalid(ps, "cqld: '%s' relations are not supported",
				   cl_tok_show(ps, show, sizeof(show)));
			return -1;
		} else {
			cl_syntax(ps, "one of '=', '<', '<=', '>', '>='");
			return -1;
		}
		if (cl_parse_term(ps, &r->value, CL_BIND_COLUMN, r->col) < 0)
			return -1;
		st->nwhere++;
	} while (cl_accept_word(ps, "and"));
	return 0;
}

/* parse_update - UPDATE t [USING] SET c = v, ... WHERE ... [IF EXISTS] */
static int parse_update(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	struct cl_assign *a;
	size_t i;

	st->kind = CL_UPDATE;
	if (cl_parse_qname(ps) < 0)
		return -1;
	if (cl_accept_word(ps, "using") && parse_using(ps) < 0)
		return -1;
	if (cl_expect_word(ps, "set", "K_SET") < 0)
		return -1;
	do {
		if (column_room(ps, st->nassign) < 0)
			return -1;
		a = &st->assign[st->nassign];
		if (cl_parse_ident(ps, a->col, "a column name") < 0)
			return -1;
		if (cl_is_sym(ps, "[")) {
			cl_invalid(ps, "cqld: element assignments are not "
				   "supported");
			return -1;
		}
		if (cl_expect_sym(ps, "=") < 0)
			return -1;
		if (ps->tok.kind == TK_WORD || ps->tok.kind == TK_QIDENT) {
			if (!cl_is_word(ps, "true") && !cl_is_word(ps, "false") &&
			    !cl_is_word(ps, "null")) {
				cl_invalid(ps, "cqld: only 'column = value' "
					   "assignments are supported");
				return -1;
			}
		}
		if (cl_parse_term(ps, &a->value, CL_BIND_COLUMN, a->col) < 0)
			return -1;
		if (cl_is_sym(ps, "+") || cl_is_sym(ps, "-")) {
			cl_invalid(ps, "cqld: only 'column = value' assignments "
				   "are supported");
			return -1;
		}
		for (i = 0; i < st->nassign; i++)
			if (strcmp(st->assign[i].col, a->col) == 0) {
				cl_invalid(ps, "Multiple incompatible setting of "
					   "column %s", a->col);
				return -1;
			}
		st->nassign++;
	} while (cl_accept_sym(ps, ","));
	if (cl_expect_word(ps, "where", "K_WHERE") < 0 || parse_where(ps) < 0)
		return -1;
	return parse_condition(ps, "updates");
}

/* parse_delete - DELETE FROM t [USING TIMESTAMP] WHERE ... [IF EXISTS] */
static int parse_delete(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;

	st->kind = CL_DELETE;
	if (!cl_is_word(ps, "from")) {
		cl_invalid(ps, "cqld: deleting single columns is not supported");
		return -1;
	}
	cl_lex(ps);
	if (cl_parse_qname(ps) < 0)
		return -1;
	if (cl_accept_word(ps, "using") && parse_using(ps) < 0)
		return -1;
	if (cl_expect_word(ps, "where", "K_WHERE") < 0 || parse_where(ps) < 0)
		return -1;
	return parse_condition(ps, "deletes");
}

/* parse_selector - column [AS alias] | count(*) [AS alias] */
static int parse_selector(struct cl_parser *ps, struct cl_selector *s)
{
	if (cl_is_word(ps, "count")) {
		struct cl_parser save = *ps;

		cl_lex(ps);
		if (cl_accept_sym(ps, "(")) {
			if (!cl_accept_sym(ps, "*")) {
				if (ps->tok.kind == TK_INT && ps->tok.len == 1 &&
				    ps->tok.p[0] == '1')
					cl_lex(ps);
				else {
					cl_syntax(ps, "'*'");
					return -1;
				}
			}
			if (cl_expect_sym(ps, ")") < 0)
				return -1;
			s->is_count = 1;
			goto alias;
		}
		*ps = save;	/* a column called "count" */
	}
	if (cl_parse_ident(ps, s->col, "a column name") < 0)
		return -1;
	if (cl_is_sym(ps, "(")) {
		char show[CL_TOKEN_SHOW + 1];

		cl_invalid(ps, "cqld: function calls in selections are not "
			   "supported (%s)", cl_tok_show(ps, show, sizeof(show)));
		return -1;
	}
alias:
	if (cl_accept_word(ps, "as"))
		return cl_parse_ident(ps, s->alias, "an alias");
	return 0;
}

/* parse_select - SELECT [DISTINCT] sel FROM t [WHERE] [ORDER BY] [LIMIT] */
static int parse_select(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;

	st->kind = CL_SELECT;
	if (cl_is_word(ps, "json")) {
		cl_invalid(ps, "cqld: SELECT JSON is not supported");
		return -1;
	}
	if (cl_accept_word(ps, "distinct"))
		st->distinct = 1;
	if (cl_accept_sym(ps, "*")) {
		st->select_star = 1;
	} else {
		do {
			if (st->nsel >= CL_MAX_COLUMNS) {
				cl_invalid(ps, "cqld: too many selectors (max %d)",
					   CL_MAX_COLUMNS);
				return -1;
			}
			if (parse_selector(ps, &st->sel[st->nsel]) < 0)
				return -1;
			st->nsel++;
		} while (cl_accept_sym(ps, ","));
	}
	if (cl_expect_word(ps, "from", "K_FROM") < 0 || cl_parse_qname(ps) < 0)
		return -1;
	if (cl_accept_word(ps, "where") && parse_where(ps) < 0)
		return -1;
	if (cl_accept_word(ps, "group")) {
		cl_invalid(ps, "cqld: GROUP BY is not supported");
		return -1;
	}
	if (cl_accept_word(ps, "order")) {
		if (cl_expect_word(ps, "by", "K_BY") < 0 ||
		    cl_parse_ident(ps, st->order_col, "a column name") < 0)
			return -1;
		if (cl_accept_word(ps, "desc"))
			st->order_desc = 1;
		else
			(void)cl_accept_word(ps, "asc");
		if (cl_is_sym(ps, ",")) {
			cl_invalid(ps, "cqld: ORDER BY on several columns is not "
				   "supported");
			return -1;
		}
	}
	if (cl_is_word(ps, "per")) {
		cl_invalid(ps, "cqld: PER PARTITION LIMIT is not supported");
		return -1;
	}
	if (cl_accept_word(ps, "limit")) {
		if (cl_parse_term(ps, &st->limit, CL_BIND_LIMIT, NULL) < 0)
			return -1;
		if (st->limit.kind != CL_TERM_INT &&
		    st->limit.kind != CL_TERM_BIND) {
			cl_invalid(ps, "Invalid LIMIT value");
			return -1;
		}
	}
	if (cl_accept_word(ps, "allow")) {
		if (cl_expect_word(ps, "filtering", "K_FILTERING") < 0)
			return -1;
		st->allow_filtering = 1;
	}
	return 0;
}


/* What cqld knows by name and refuses: CREATE ..., and statements */
static const char *const unsupported_creates[] = {
	"index", "type", "materialized", "function", "aggregate", "role",
	"user", "trigger", "custom", NULL,
};
static const char *const unsupported_statements[] = {
	"begin", "alter", "grant", "revoke", "list", NULL,
};

/* is_one_of - the current token is one of the words (NULL-terminated) */
static int is_one_of(struct cl_parser *ps, const char *const *words)
{
	for (; *words; words++)
		if (cl_is_word(ps, *words))
			return 1;
	return 0;
}

/* unsupported - Invalid: fmt with the current token for its %s; -1 */
static int unsupported(struct cl_parser *ps, const char *fmt)
{
	char show[CL_TOKEN_SHOW + 1];

	cl_invalid(ps, fmt, cl_tok_show(ps, show, sizeof(show)));
	return -1;
}

/* parse_statement - dispatch on the first keyword */
static int parse_statement(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;

	st->line = ps->tok.line;
	if (cl_accept_word(ps, "select"))
		return parse_select(ps);
	if (cl_accept_word(ps, "insert"))
		return parse_insert(ps);
	if (cl_accept_word(ps, "update"))
		return parse_update(ps);
	if (cl_accept_word(ps, "delete"))
		return parse_delete(ps);
	if (cl_accept_word(ps, "use")) {
		st->kind = CL_USE;
		return cl_parse_ident(ps, st->ks, "a keyspace name");
	}
	if (cl_accept_word(ps, "truncate")) {
		st->kind = CL_TRUNCATE;
		(void)accept_table(ps);
		return cl_parse_qname(ps);
	}
	if (cl_accept_word(ps, "create")) {
		if (accept_keyspace(ps))
			return parse_create_keyspace(ps);
		if (accept_table(ps))
			return parse_create_table(ps);
		if (is_one_of(ps, unsupported_creates))
			return unsupported(ps, "cqld: CREATE %s is not "
					   "supported");
		cl_syntax(ps, "K_KEYSPACE or K_TABLE");
		return -1;
	}
	if (cl_accept_word(ps, "drop")) {
		if (accept_keyspace(ps)) {
			st->kind = CL_DROP_KEYSPACE;
			if (parse_if_exists(ps) < 0)
				return -1;
			return cl_parse_ident(ps, st->ks, "a keyspace name");
		}
		if (accept_table(ps)) {
			st->kind = CL_DROP_TABLE;
			if (parse_if_exists(ps) < 0)
				return -1;
			return cl_parse_qname(ps);
		}
		cl_syntax(ps, "K_KEYSPACE or K_TABLE");
		return -1;
	}
	if (is_one_of(ps, unsupported_statements))
		return unsupported(ps, "cqld: %s statements are not supported");
	cl_syntax(ps, NULL);
	return -1;
}

/* parser_init - set up a parser over text at pos */
static void parser_init(struct cl_parser *ps, const char *text, size_t len,
			const struct cl_cursor *cur, struct cl_stmt *st,
			struct cl_error *err)
{
	memset(ps, 0, sizeof(*ps));
	ps->text = text;
	ps->len = len;
	ps->line = 1;
	if (cur) {
		ps->pos = cur->pos < len ? cur->pos : len;
		ps->line = cur->line + 1;
		ps->line_start = cur->line_start;
	}
	ps->st = st;
	ps->err = err;
	memset(err, 0, sizeof(*err));
	memset(st, 0, sizeof(*st));
	st->durable_writes = -1;
}

/* cl_stmt_free - release what a parsed statement owns */
void cl_stmt_free(struct cl_stmt *st)
{
	size_t i;

	cl_term_free(&st->replication);
	for (i = 0; i < CL_MAX_COLUMNS; i++)
		cl_term_free(&st->assign[i].value);
	for (i = 0; i < CL_MAX_WHERE; i++)
		cl_term_free(&st->where[i].value);
	cl_term_free(&st->ttl);
	cl_term_free(&st->timestamp);
	cl_term_free(&st->limit);
}

/* parse_one - statement then ';' or end; for both entry points */
static int parse_one(struct cl_parser *ps, int script)
{
	if (parse_statement(ps) < 0 || ps->failed)
		goto fail;
	if (cl_accept_sym(ps, ";"))
		return 0;
	if (ps->tok.kind == TK_EOF)
		return 0;
	if (script)
		cl_syntax(ps, "';'");
	else
		cl_syntax(ps, "EOF");
fail:
	if (!ps->failed)
		cl_syntax(ps, NULL);
	cl_stmt_free(ps->st);
	return -1;
}

/* cl_parse - parse exactly one statement */
int cl_parse(const char *text, size_t len, struct cl_stmt *st,
	     struct cl_error *err)
{
	struct cl_parser ps;

	parser_init(&ps, text, len, NULL, st, err);
	cl_lex(&ps);
	if (ps.failed)
		return -1;
	if (ps.tok.kind == TK_EOF) {
		cl_syntax(&ps, NULL);
		return -1;
	}
	if (parse_one(&ps, 0) < 0)
		return -1;
	if (ps.tok.kind != TK_EOF) {
		cl_syntax(&ps, "EOF");
		cl_stmt_free(st);
		return -1;
	}
	return 0;
}

/* cl_parse_next - next statement of a script */
int cl_parse_next(const char *text, size_t len, struct cl_cursor *cur,
		  struct cl_stmt *st, struct cl_error *err)
{
	struct cl_parser ps;

	parser_init(&ps, text, len, cur, st, err);
	for (;;) {
		cl_lex(&ps);
		if (ps.failed)
			return -1;
		if (ps.tok.kind == TK_EOF) {
			cur->pos = len;
			return 0;
		}
		if (!cl_is_sym(&ps, ";"))
			break;
	}
	if (parse_one(&ps, 1) < 0)
		return -1;
	/*
	 * The lookahead token was lexed already: resume at its start. When
	 * lexing it failed, the next call meets (and reports) that error.
	 */
	cur->pos = (size_t)(ps.tok.p - text);
	cur->line = ps.tok.line - 1;
	cur->line_start = cur->pos - (size_t)ps.tok.col;
	return 1;
}

/* cl_term_kind_name - CQL name of a literal kind */
const char *cl_term_kind_name(enum cl_term_kind k)
{
	switch (k) {
	case CL_TERM_NULL: return "NULL";
	case CL_TERM_STRING: return "STRING";
	case CL_TERM_INT: return "INTEGER";
	case CL_TERM_FLOAT: return "FLOAT";
	case CL_TERM_BOOL: return "BOOLEAN";
	case CL_TERM_UUID: return "UUID";
	case CL_TERM_HEX: return "HEX";
	case CL_TERM_BIND: return "bind marker";
	case CL_TERM_SET: return "set";
	case CL_TERM_LIST: return "list";
	case CL_TERM_MAP: return "map";
	}
	return "?";
}
