/*
 * cql_lang - tokenizer and parser of the CQL subset that cqld understands
 *
 * DESCRIPTION
 *	See cql_lang.h. A hand-written recursive descent parser over a
 *	one-token-lookahead lexer. Errors are reported the way Cassandra
 *	words them ("line L:C mismatched input 'x' expecting ..."), close
 *	enough for clients that only look at the error code.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql_lang.h"
#include "cql/cql_proto.h"

#define CL_TOKEN_SHOW	40	/* bytes of a token quoted in messages */

enum cl_tok_kind {
	TK_EOF,
	TK_WORD,		/* unquoted identifier or keyword */
	TK_QIDENT,		/* "quoted identifier" */
	TK_STRING,		/* 'string' or $$string$$ */
	TK_INT,
	TK_FLOAT,
	TK_UUID,
	TK_HEX,
	TK_SYM,			/* one punctuation character, or <= >= != */
	TK_BAD,			/* a character or construct we cannot lex */
};

struct cl_tok {
	enum cl_tok_kind kind;
	const char *p;		/* raw text of the token */
	size_t len;
	int line, col;
};

struct cl_parser {
	const char *text;
	size_t len;
	size_t pos;		/* lexer position */
	int line;		/* line at pos */
	size_t line_start;	/* offset of the start of that line */
	struct cl_tok tok;	/* current (lookahead) token */
	struct cl_stmt *st;
	struct cl_error *err;
	int failed;
};

/* ---- lexer ------------------------------------------------------- */

/* is_hex - hexadecimal digit */
static int is_hex(int c)
{
	return isxdigit((unsigned char)c) != 0;
}

/* uuid_at - a UUID literal starts at p (36 chars, 8-4-4-4-12) */
static int uuid_at(const char *p, size_t left)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	size_t i, g, off = 0;

	if (left < 36)
		return 0;
	for (g = 0; g < 5; g++) {
		for (i = 0; i < (size_t)groups[g]; i++)
			if (!is_hex(p[off++]))
				return 0;
		if (g < 4 && p[off++] != '-')
			return 0;
	}
	return left == 36 || !(isalnum((unsigned char)p[36]) || p[36] == '_');
}

/* lex_error_at - record a lexer or parser error at a position */
static void lex_error_at(struct cl_parser *ps, int code, int line, int col,
			 const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void lex_error_at(struct cl_parser *ps, int code, int line, int col,
			 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->failed)
		return;
	ps->failed = 1;
	ps->err->code = code;
	ps->err->line = line;
	ps->err->col = col;
	n = snprintf(ps->err->msg, sizeof(ps->err->msg), "line %d:%d ",
		     line, col);
	if (n < 0 || (size_t)n >= sizeof(ps->err->msg))
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg + n, sizeof(ps->err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* skip_blank - skip white space and comments; -1 on an open comment */
static int skip_blank(struct cl_parser *ps)
{
	const char *t = ps->text;

	while (ps->pos < ps->len) {
		char c = t[ps->pos];

		if (c == '\n') {
			ps->pos++;
			ps->line++;
			ps->line_start = ps->pos;
		} else if (isspace((unsigned char)c)) {
			ps->pos++;
		} else if ((c == '-' && ps->pos + 1 < ps->len &&
			    t[ps->pos + 1] == '-') ||
			   (c == '/' && ps->pos + 1 < ps->len &&
			    t[ps->pos + 1] == '/')) {
			while (ps->pos < ps->len && t[ps->pos] != '\n')
				ps->pos++;
		} else if (c == '/' && ps->pos + 1 < ps->len &&
			   t[ps->pos + 1] == '*') {
			int line = ps->line, col = (int)(ps->pos - ps->line_start);

			ps->pos += 2;
			for (;;) {
				if (ps->pos + 1 >= ps->len) {
					ps->pos = ps->len;
					lex_error_at(ps, CL_ERR_SYNTAX, line, col,
						     "unterminated comment");
					return -1;
				}
				if (t[ps->pos] == '*' && t[ps->pos + 1] == '/') {
					ps->pos += 2;
					break;
				}
				if (t[ps->pos] == '\n') {
					ps->line++;
					ps->line_start = ps->pos + 1;
				}
				ps->pos++;
			}
		} else {
			break;
		}
	}
	return 0;
}

/* lex_quoted - scan a quoted string or identifier ending in q ('' escape) */
static int lex_quoted(struct cl_parser *ps, char q)
{
	const char *t = ps->text;

	ps->pos++;
	for (;;) {
		if (ps->pos >= ps->len)
			return -1;
		if (t[ps->pos] == q) {
			if (ps->pos + 1 < ps->len && t[ps->pos + 1] == q) {
				ps->pos += 2;
				continue;
			}
			ps->pos++;
			return 0;
		}
		if (t[ps->pos] == '\n') {
			ps->line++;
			ps->line_start = ps->pos + 1;
		}
		ps->pos++;
	}
}

/* lex_number - scan an integer or float (optional leading '-') */
static enum cl_tok_kind lex_number(struct cl_parser *ps)
{
	const char *t = ps->text;
	enum cl_tok_kind k = TK_INT;

	if (t[ps->pos] == '-')
		ps->pos++;
	while (ps->pos < ps->len && isdigit((unsigned char)t[ps->pos]))
		ps->pos++;
	if (ps->pos + 1 < ps->len && t[ps->pos] == '.' &&
	    isdigit((unsigned char)t[ps->pos + 1])) {
		k = TK_FLOAT;
		ps->pos++;
		while (ps->pos < ps->len && isdigit((unsigned char)t[ps->pos]))
			ps->pos++;
	}
	if (ps->pos < ps->len && (t[ps->pos] == 'e' || t[ps->pos] == 'E')) {
		size_t save = ps->pos++;

		if (ps->pos < ps->len && (t[ps->pos] == '+' || t[ps->pos] == '-'))
			ps->pos++;
		if (ps->pos < ps->len && isdigit((unsigned char)t[ps->pos])) {
			k = TK_FLOAT;
			while (ps->pos < ps->len &&
			       isdigit((unsigned char)t[ps->pos]))
				ps->pos++;
		} else {
			ps->pos = save;
		}
	}
	/* a number glued to letters ("12abc") is not a number */
	if (ps->pos < ps->len &&
	    (isalpha((unsigned char)t[ps->pos]) || t[ps->pos] == '_'))
		return TK_BAD;
	return k;
}

/* lex - read the next token into ps->tok */
static void lex(struct cl_parser *ps)
{
	const char *t = ps->text;
	struct cl_tok *tok = &ps->tok;
	size_t start = ps->pos, start_line_start = ps->line_start;
	int start_line = ps->line;
	char c;

	if (skip_blank(ps) < 0) {
		tok->kind = TK_BAD;
		tok->p = t + start;	/* a rescan meets the same error */
		tok->line = start_line;
		tok->col = (int)(start - start_line_start);
		tok->len = 0;
		return;
	}
	tok->p = t + ps->pos;
	tok->line = ps->line;
	tok->col = (int)(ps->pos - ps->line_start);
	if (ps->pos >= ps->len) {
		tok->kind = TK_EOF;
		tok->len = 0;
		return;
	}
	c = t[ps->pos];
	if (uuid_at(t + ps->pos, ps->len - ps->pos)) {
		tok->kind = TK_UUID;
		ps->pos += 36;
	} else if (c == '0' && ps->pos + 1 < ps->len &&
		   (t[ps->pos + 1] == 'x' || t[ps->pos + 1] == 'X')) {
		ps->pos += 2;
		while (ps->pos < ps->len && is_hex(t[ps->pos]))
			ps->pos++;
		tok->kind = TK_HEX;
		if (ps->pos < ps->len && (isalnum((unsigned char)t[ps->pos]) ||
					  t[ps->pos] == '_'))
			tok->kind = TK_BAD;
	} else if (isalpha((unsigned char)c)) {
		while (ps->pos < ps->len && (isalnum((unsigned char)t[ps->pos]) ||
					     t[ps->pos] == '_'))
			ps->pos++;
		tok->kind = TK_WORD;
	} else if (isdigit((unsigned char)c) ||
		   (c == '-' && ps->pos + 1 < ps->len &&
		    isdigit((unsigned char)t[ps->pos + 1]))) {
		tok->kind = lex_number(ps);
	} else if (c == '\'' || c == '"') {
		tok->kind = c == '\'' ? TK_STRING : TK_QIDENT;
		if (lex_quoted(ps, c) < 0) {
			tok->kind = TK_BAD;
			tok->len = ps->len - (size_t)(tok->p - t);
			lex_error_at(ps, CL_ERR_SYNTAX, tok->line, tok->col,
				     "unterminated %s",
				     c == '\'' ? "string" : "quoted identifier");
			return;
		}
	} else if (c == '$' && ps->pos + 1 < ps->len && t[ps->pos + 1] == '$') {
		const char *end = NULL;
		size_t i;

		for (i = ps->pos + 2; i + 1 < ps->len; i++)
			if (t[i] == '$' && t[i + 1] == '$') {
				end = t + i;
				break;
			}
		if (end == NULL) {
			tok->kind = TK_BAD;
			tok->len = ps->len - ps->pos;
			lex_error_at(ps, CL_ERR_SYNTAX, tok->line, tok->col,
				     "unterminated string");
			return;
		}
		for (i = ps->pos; i < (size_t)(end - t); i++)
			if (t[i] == '\n') {
				ps->line++;
				ps->line_start = i + 1;
			}
		ps->pos = (size_t)(end - t) + 2;
		tok->kind = TK_STRING;
	} else if ((c == '<' || c == '>' || c == '!') && ps->pos + 1 < ps->len &&
		   t[ps->pos + 1] == '=') {
		ps->pos += 2;
		tok->kind = TK_SYM;
	} else if (strchr("(),;.=*?<>{}[]:+-", c) != NULL) {
		ps->pos++;
		tok->kind = TK_SYM;
	} else {
		ps->pos++;
		tok->kind = TK_BAD;
	}
	tok->len = (size_t)(t + ps->pos - tok->p);
}

/* ---- parser helpers ---------------------------------------------- */

/* tok_show - the current token as quoted in error messages */
static const char *tok_show(struct cl_parser *ps, char *out, size_t size)
{
	size_t n = ps->tok.len;

	if (ps->tok.kind == TK_EOF)
		return "<EOF>";
	if (n > CL_TOKEN_SHOW)
		n = CL_TOKEN_SHOW;
	if (n >= size)
		n = size - 1;
	memcpy(out, ps->tok.p, n);
	out[n] = 0;
	return out;
}

/* syntax - report a syntax error at the current token */
static void syntax(struct cl_parser *ps, const char *expecting)
{
	char show[CL_TOKEN_SHOW + 1];

	if (ps->tok.kind == TK_EOF && expecting)
		lex_error_at(ps, CL_ERR_SYNTAX, ps->tok.line, ps->tok.col,
			     "mismatched input '<EOF>' expecting %s",
			     expecting);
	else if (expecting)
		lex_error_at(ps, CL_ERR_SYNTAX, ps->tok.line, ps->tok.col,
			     "mismatched input '%s' expecting %s",
			     tok_show(ps, show, sizeof(show)), expecting);
	else
		lex_error_at(ps, CL_ERR_SYNTAX, ps->tok.line, ps->tok.col,
			     "no viable alternative at input '%s'",
			     tok_show(ps, show, sizeof(show)));
}

/* invalid - report an Invalid (semantic) error at the current token */
static void invalid(struct cl_parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void invalid(struct cl_parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = 1;
	ps->err->code = CL_ERR_INVALID;
	ps->err->line = ps->tok.line;
	ps->err->col = ps->tok.col;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
}

/* is_word - current token is the keyword kw (any case) */
static int is_word(struct cl_parser *ps, const char *kw)
{
	return ps->tok.kind == TK_WORD && ps->tok.len == strlen(kw) &&
	       strncasecmp(ps->tok.p, kw, ps->tok.len) == 0;
}

/* is_sym - current token is the punctuation s */
static int is_sym(struct cl_parser *ps, const char *s)
{
	return ps->tok.kind == TK_SYM && ps->tok.len == strlen(s) &&
	       memcmp(ps->tok.p, s, ps->tok.len) == 0;
}

/* accept_word - consume keyword kw if it is next */
static int accept_word(struct cl_parser *ps, const char *kw)
{
	if (ps->failed || !is_word(ps, kw))
		return 0;
	lex(ps);
	return 1;
}

/* accept_sym - consume punctuation s if it is next */
static int accept_sym(struct cl_parser *ps, const char *s)
{
	if (ps->failed || !is_sym(ps, s))
		return 0;
	lex(ps);
	return 1;
}

/* expect_word - consume keyword kw or fail */
static int expect_word(struct cl_parser *ps, const char *kw, const char *what)
{
	if (accept_word(ps, kw))
		return 0;
	syntax(ps, what);
	return -1;
}

/* expect_sym - consume punctuation s or fail */
static int expect_sym(struct cl_parser *ps, const char *s)
{
	char what[8];

	if (accept_sym(ps, s))
		return 0;
	snprintf(what, sizeof(what), "'%s'", s);
	syntax(ps, what);
	return -1;
}

/*
 * Words that can never be identifiers (a subset of Cassandra's reserved
 * keywords that matter for where this parser looks for names).
 */
static const char *const reserved[] = {
	"add", "allow", "alter", "and", "apply", "asc", "authorize", "batch",
	"begin", "by", "columnfamily", "create", "delete", "desc", "describe",
	"drop", "entries", "execute", "from", "full", "grant", "if", "in",
	"index", "infinity", "insert", "into", "keyspace", "limit", "modify",
	"nan", "norecursive", "not", "null", "of", "on", "or", "order",
	"primary", "rename", "revoke", "schema", "select", "set", "table",
	"to", "token", "truncate", "unlogged", "update", "use", "using",
	"where", "with",
};

/* is_reserved - the current word is a reserved keyword */
static int is_reserved(struct cl_parser *ps)
{
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (is_word(ps, reserved[i]))
			return 1;
	return 0;
}

/* parse_ident - an identifier into out[CL_NAME_MAX] */
static int parse_ident(struct cl_parser *ps, char *out, const char *what)
{
	size_t i, n = 0;

	if (ps->failed)
		return -1;
	if (ps->tok.kind == TK_WORD && !is_reserved(ps)) {
		if (ps->tok.len >= CL_NAME_MAX) {
			invalid(ps, "Identifier too long: %.40s...", ps->tok.p);
			return -1;
		}
		for (i = 0; i < ps->tok.len; i++)
			out[i] = (char)tolower((unsigned char)ps->tok.p[i]);
		out[ps->tok.len] = 0;
	} else if (ps->tok.kind == TK_QIDENT) {
		for (i = 1; i + 1 < ps->tok.len; i++) {
			if (ps->tok.p[i] == '"')
				i++;	/* "" stands for " */
			if (n + 1 >= CL_NAME_MAX) {
				invalid(ps, "Identifier too long");
				return -1;
			}
			out[n++] = ps->tok.p[i];
		}
		out[n] = 0;
		if (n == 0) {
			syntax(ps, what);
			return -1;
		}
	} else {
		syntax(ps, what);
		return -1;
	}
	lex(ps);
	return 0;
}

/* parse_qname - [keyspace '.'] name */
static int parse_qname(struct cl_parser *ps)
{
	char first[CL_NAME_MAX];

	if (parse_ident(ps, first, "a table name") < 0)
		return -1;
	if (accept_sym(ps, ".")) {
		memcpy(ps->st->ks, first, sizeof(first));
		return parse_ident(ps, ps->st->table, "a table name");
	}
	memcpy(ps->st->table, first, sizeof(first));
	return 0;
}

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
		invalid(ps, "out of memory");
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
		invalid(ps, "Too many bind markers (max %d)", CL_MAX_BIND);
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

static int parse_term_depth(struct cl_parser *ps, struct cl_term *t,
			    int depth, enum cl_bind_role role,
			    const char *col);

/* push_elem - grow a collection term by one element slot */
static struct cl_term *push_elem(struct cl_parser *ps, struct cl_term *t)
{
	struct cl_term *e;

	if (t->nelems >= CL_MAX_ELEMS) {
		invalid(ps, "Too many elements in collection literal (max %d)",
			CL_MAX_ELEMS);
		return NULL;
	}
	e = realloc(t->elems, (t->nelems + 1) * sizeof(*e));
	if (e == NULL) {
		invalid(ps, "out of memory");
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
	int is_list = is_sym(ps, "[");
	const char *close = is_list ? "]" : "}";
	struct cl_term *e;

	lex(ps);
	t->kind = is_list ? CL_TERM_LIST : CL_TERM_SET;
	if (accept_sym(ps, close))
		return 0;
	for (;;) {
		if ((e = push_elem(ps, t)) == NULL)
			return -1;
		if (parse_term_depth(ps, e, depth + 1, CL_BIND_COLUMN, NULL) < 0)
			return -1;
		if (!is_list && t->nelems == 1 && is_sym(ps, ":"))
			t->kind = CL_TERM_MAP;
		if (t->kind == CL_TERM_MAP) {
			if (expect_sym(ps, ":") < 0)
				return -1;
			if ((e = push_elem(ps, t)) == NULL)
				return -1;
			if (parse_term_depth(ps, e, depth + 1, CL_BIND_COLUMN,
					     NULL) < 0)
				return -1;
		}
		if (accept_sym(ps, close))
			return 0;
		if (expect_sym(ps, ",") < 0)
			return -1;
	}
}

/* parse_term_depth - a literal, collection literal, null or '?' */
static int parse_term_depth(struct cl_parser *ps, struct cl_term *t,
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
		invalid(ps, "Literal nested too deeply");
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
		if (is_word(ps, "true") || is_word(ps, "false")) {
			t->kind = CL_TERM_BOOL;
			t->ival = is_word(ps, "true");
		} else if (is_word(ps, "null")) {
			t->kind = CL_TERM_NULL;
		} else if (is_word(ps, "nan") || is_word(ps, "infinity")) {
			t->kind = CL_TERM_FLOAT;
			if (term_text(ps, t, tok->p, tok->len) < 0)
				return -1;
		} else {
			syntax(ps, NULL);
			return -1;
		}
		break;
	case TK_SYM:
		if (is_sym(ps, "?")) {
			if (depth > 0) {
				invalid(ps, "cqld: bind markers inside "
					"collection literals are not supported");
				return -1;
			}
			if (add_bind(ps, t, role, col) < 0)
				return -1;
			break;
		}
		if (is_sym(ps, "{") || is_sym(ps, "["))
			return parse_collection(ps, t, depth);
		if (is_sym(ps, ":")) {
			invalid(ps, "cqld: named bind markers are not supported");
			return -1;
		}
		syntax(ps, NULL);
		return -1;
	default:
		syntax(ps, NULL);
		return -1;
	}
	lex(ps);
	return 0;
}

/* parse_term - a term that binds a column (or a special role) */
static int parse_term(struct cl_parser *ps, struct cl_term *t,
		      enum cl_bind_role role, const char *col)
{
	return parse_term_depth(ps, t, 0, role, col);
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
		syntax(ps, "a type");
		return -1;
	}
	memcpy(name, ps->tok.p, ps->tok.len);
	name[ps->tok.len] = 0;
	if ((id = cl_type_parse_name(name)) < 0) {
		if (strcasecmp(name, "set") == 0 || strcasecmp(name, "list") == 0 ||
		    strcasecmp(name, "map") == 0 || strcasecmp(name, "frozen") == 0 ||
		    strcasecmp(name, "tuple") == 0)
			invalid(ps, "cqld: nested collection type %s<...> is "
				"not supported", name);
		else
			invalid(ps, "Unknown type %s", name);
		return -1;
	}
	lex(ps);
	return id;
}

/* parse_type - simple type, collection of simple types, frozen<...> */
static int parse_type(struct cl_parser *ps, struct cl_type *ty, int depth)
{
	int id;

	memset(ty, 0, sizeof(*ty));
	if (depth > CL_MAX_NEST) {
		invalid(ps, "Type nested too deeply");
		return -1;
	}
	if (is_word(ps, "frozen")) {
		lex(ps);
		if (expect_sym(ps, "<") < 0 || parse_type(ps, ty, depth + 1) < 0 ||
		    expect_sym(ps, ">") < 0)
			return -1;
		ty->frozen = 1;
		return 0;
	}
	if (is_word(ps, "set") || is_word(ps, "list")) {
		ty->id = is_word(ps, "set") ? CQL_TYPE_SET : CQL_TYPE_LIST;
		lex(ps);
		if (expect_sym(ps, "<") < 0)
			return -1;
		if (accept_word(ps, "frozen")) {
			invalid(ps, "cqld: frozen collection elements are not "
				"supported");
			return -1;
		}
		if ((id = parse_simple_type(ps)) < 0)
			return -1;
		ty->elem[0] = (uint16_t)id;
		return expect_sym(ps, ">");
	}
	if (is_word(ps, "map")) {
		ty->id = CQL_TYPE_MAP;
		lex(ps);
		if (expect_sym(ps, "<") < 0 || (id = parse_simple_type(ps)) < 0)
			return -1;
		ty->elem[0] = (uint16_t)id;
		if (expect_sym(ps, ",") < 0 || (id = parse_simple_type(ps)) < 0)
			return -1;
		ty->elem[1] = (uint16_t)id;
		return expect_sym(ps, ">");
	}
	if ((id = parse_simple_type(ps)) < 0)
		return -1;
	ty->id = (uint16_t)id;
	return 0;
}

/* ---- statements -------------------------------------------------- */

/* column_room - room for one more column after n, or -1 with the error */
static int column_room(struct cl_parser *ps, size_t n)
{
	if (n < CL_MAX_COLUMNS)
		return 0;
	invalid(ps, "cqld: too many columns (max %d)", CL_MAX_COLUMNS);
	return -1;
}

/* parse_if_not_exists - optional IF NOT EXISTS */
static int parse_if_not_exists(struct cl_parser *ps)
{
	if (!accept_word(ps, "if"))
		return 0;
	if (expect_word(ps, "not", "K_NOT") < 0 ||
	    expect_word(ps, "exists", "K_EXISTS") < 0)
		return -1;
	ps->st->if_not_exists = 1;
	return 0;
}

/* parse_if_exists - optional IF EXISTS */
static int parse_if_exists(struct cl_parser *ps)
{
	if (!accept_word(ps, "if"))
		return 0;
	if (expect_word(ps, "exists", "K_EXISTS") < 0)
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
	if (!is_word(ps, "if"))
		return 0;
	lex(ps);
	if (!accept_word(ps, "exists")) {
		invalid(ps, "cqld: conditional %s other than IF EXISTS are not "
			"supported", what);
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
	if (parse_ident(ps, name, "a property name") < 0 ||
	    expect_sym(ps, "=") < 0)
		return -1;
	return parse_term_depth(ps, value, 1, CL_BIND_COLUMN, NULL);
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
	    parse_ident(ps, st->ks, "a keyspace name") < 0)
		return -1;
	if (!accept_word(ps, "with"))
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
			invalid(ps, "Invalid value for property '%s'", name);
			return -1;
		} else {
			cl_term_free(&value);	/* other options: ignored */
		}
	} while (accept_word(ps, "and"));
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
			invalid(ps, "Multiple definition of identifier %s",
				name);
			return -1;
		}
	if (st->nkey >= CL_MAX_COLUMNS) {
		invalid(ps, "Too many primary key columns");
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
		invalid(ps, "Multiple PRIMARY KEYs specified (exactly one "
			"required)");
		return -1;
	}
	if (expect_sym(ps, "(") < 0)
		return -1;
	if (accept_sym(ps, "(")) {
		do {
			if (parse_ident(ps, name, "a column name") < 0 ||
			    add_key(ps, name) < 0)
				return -1;
		} while (accept_sym(ps, ","));
		if (expect_sym(ps, ")") < 0)
			return -1;
	} else {
		if (parse_ident(ps, name, "a column name") < 0 ||
		    add_key(ps, name) < 0)
			return -1;
	}
	st->npartition = st->nkey;
	while (accept_sym(ps, ",")) {
		if (parse_ident(ps, name, "a column name") < 0 ||
		    add_key(ps, name) < 0)
			return -1;
	}
	return expect_sym(ps, ")");
}

/* parse_clustering_order - CLUSTERING ORDER BY (c ASC|DESC, ...) */
static int parse_clustering_order(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	char name[CL_NAME_MAX];
	size_t i, n = 0;

	if (expect_word(ps, "order", "K_ORDER") < 0 ||
	    expect_word(ps, "by", "K_BY") < 0 || expect_sym(ps, "(") < 0)
		return -1;
	do {
		int desc = 0;

		if (parse_ident(ps, name, "a column name") < 0)
			return -1;
		if (accept_word(ps, "desc"))
			desc = 1;
		else
			(void)accept_word(ps, "asc");
		for (i = st->npartition; i < st->nkey; i++)
			if (strcmp(st->key[i], name) == 0)
				break;
		if (i == st->nkey) {
			invalid(ps, "Missing CLUSTERING ORDER for column %s",
				name);
			return -1;
		}
		if (i != st->npartition + n) {
			invalid(ps, "The order of columns in the CLUSTERING "
				"ORDER directive must be the one of the "
				"clustering key");
			return -1;
		}
		st->key_desc[i] = (uint8_t)desc;
		n++;
	} while (accept_sym(ps, ","));
	return expect_sym(ps, ")");
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
	if (parse_if_not_exists(ps) < 0 || parse_qname(ps) < 0 ||
	    expect_sym(ps, "(") < 0)
		return -1;
	do {
		if (is_word(ps, "primary")) {
			lex(ps);
			if (expect_word(ps, "key", "K_KEY") < 0 ||
			    parse_primary_key(ps) < 0)
				return -1;
			continue;
		}
		if (column_room(ps, st->ncols) < 0)
			return -1;
		cd = &st->cols[st->ncols];
		if (parse_ident(ps, cd->name, "a column name") < 0)
			return -1;
		if (find_coldef(st, cd->name) >= 0) {
			invalid(ps, "Multiple definition of identifier %s",
				cd->name);
			return -1;
		}
		if (parse_type(ps, &cd->type, 0) < 0)
			return -1;
		st->ncols++;
		if (accept_word(ps, "static"))
			cd->is_static = 1;
		if (accept_word(ps, "primary")) {
			if (expect_word(ps, "key", "K_KEY") < 0)
				return -1;
			if (st->nkey > 0) {
				invalid(ps, "Multiple PRIMARY KEYs specified "
					"(exactly one required)");
				return -1;
			}
			if (add_key(ps, cd->name) < 0)
				return -1;
			st->npartition = 1;
		}
	} while (accept_sym(ps, ","));
	if (expect_sym(ps, ")") < 0)
		return -1;
	if (st->nkey == 0) {
		invalid(ps, "No PRIMARY KEY specifed (exactly one required)");
		return -1;
	}
	for (i = 0; i < st->nkey; i++) {
		int c = find_coldef(st, st->key[i]);

		if (c < 0) {
			invalid(ps, "Unknown definition %s referenced in "
				"PRIMARY KEY", st->key[i]);
			return -1;
		}
		if (st->cols[c].type.id == CQL_TYPE_COUNTER) {
			invalid(ps, "counter type is not supported for "
				"PRIMARY KEY part %s", st->key[i]);
			return -1;
		}
		if ((st->cols[c].type.id == CQL_TYPE_SET ||
		     st->cols[c].type.id == CQL_TYPE_LIST ||
		     st->cols[c].type.id == CQL_TYPE_MAP) &&
		    !st->cols[c].type.frozen) {
			invalid(ps, "Invalid non-frozen collection type for "
				"PRIMARY KEY component %s", st->key[i]);
			return -1;
		}
	}
	if (!accept_word(ps, "with"))
		return 0;
	do {
		if (accept_word(ps, "clustering")) {
			if (parse_clustering_order(ps) < 0)
				return -1;
		} else if (accept_word(ps, "compact")) {
			if (expect_word(ps, "storage", "K_STORAGE") < 0)
				return -1;
		} else {
			if (parse_property(ps, name, &value) < 0) {
				cl_term_free(&value);
				return -1;
			}
			cl_term_free(&value);	/* table options: ignored */
		}
	} while (accept_word(ps, "and"));
	return 0;
}

/* parse_using - USING TTL x [AND TIMESTAMP y] (either order) */
static int parse_using(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;

	do {
		if (accept_word(ps, "ttl")) {
			cl_term_free(&st->ttl);
			if (parse_term(ps, &st->ttl, CL_BIND_TTL, NULL) < 0)
				return -1;
		} else if (accept_word(ps, "timestamp")) {
			cl_term_free(&st->timestamp);
			if (parse_term(ps, &st->timestamp, CL_BIND_TIMESTAMP,
				       NULL) < 0)
				return -1;
		} else {
			syntax(ps, "K_TTL or K_TIMESTAMP");
			return -1;
		}
	} while (accept_word(ps, "and"));
	return 0;
}

/* parse_insert - INSERT INTO t (cols) VALUES (terms) [IF NOT EXISTS] [USING] */
static int parse_insert(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	size_t i, n = 0;

	st->kind = CL_INSERT;
	if (expect_word(ps, "into", "K_INTO") < 0 || parse_qname(ps) < 0)
		return -1;
	if (is_word(ps, "json")) {
		invalid(ps, "cqld: INSERT JSON is not supported");
		return -1;
	}
	if (expect_sym(ps, "(") < 0)
		return -1;
	do {
		if (column_room(ps, st->nassign) < 0)
			return -1;
		if (parse_ident(ps, st->assign[st->nassign].col,
				"a column name") < 0)
			return -1;
		for (i = 0; i < st->nassign; i++)
			if (strcmp(st->assign[i].col,
				   st->assign[st->nassign].col) == 0) {
				invalid(ps, "Multiple definitions found for "
					"column %s", st->assign[i].col);
				return -1;
			}
		st->nassign++;
	} while (accept_sym(ps, ","));
	if (expect_sym(ps, ")") < 0 ||
	    expect_word(ps, "values", "K_VALUES") < 0 || expect_sym(ps, "(") < 0)
		return -1;
	do {
		if (n >= st->nassign) {
			invalid(ps, "Unmatched column names/values");
			return -1;
		}
		if (parse_term(ps, &st->assign[n].value, CL_BIND_COLUMN,
			       st->assign[n].col) < 0)
			return -1;
		n++;
	} while (accept_sym(ps, ","));
	if (expect_sym(ps, ")") < 0)
		return -1;
	if (n != st->nassign) {
		invalid(ps, "Unmatched column names/values");
		return -1;
	}
	if (parse_if_not_exists(ps) < 0)
		return -1;
	if (accept_word(ps, "using") && parse_using(ps) < 0)
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
			invalid(ps, "cqld: too many relations (max %d)",
				CL_MAX_WHERE);
			return -1;
		}
		r = &st->where[st->nwhere];
		if (is_word(ps, "token")) {
			invalid(ps, "cqld: token() restrictions are not "
				"supported");
			return -1;
		}
		if (parse_ident(ps, r->col, "an identifier") < 0)
			return -1;
		if (accept_sym(ps, "="))
			r->op = CL_OP_EQ;
		else if (accept_sym(ps, "<"))
			r->op = CL_OP_LT;
		else if (accept_sym(ps, "<="))
			r->op = CL_OP_LE;
		else if (accept_sym(ps, ">"))
			r->op = CL_OP_GT;
		else if (accept_sym(ps, ">="))
			r->op = CL_OP_GE;
		else if (is_word(ps, "in") || is_word(ps, "contains") ||
			 is_sym(ps, "!=")) {
			char show[CL_TOKEN_SHOW + 1];

			invalid(ps, "cqld: '%s' relations are not supported",
				tok_show(ps, show, sizeof(show)));
			return -1;
		} else {
			syntax(ps, "one of '=', '<', '<=', '>', '>='");
			return -1;
		}
		if (parse_term(ps, &r->value, CL_BIND_COLUMN, r->col) < 0)
			return -1;
		st->nwhere++;
	} while (accept_word(ps, "and"));
	return 0;
}

/* parse_update - UPDATE t [USING] SET c = v, ... WHERE ... [IF EXISTS] */
static int parse_update(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;
	struct cl_assign *a;
	size_t i;

	st->kind = CL_UPDATE;
	if (parse_qname(ps) < 0)
		return -1;
	if (accept_word(ps, "using") && parse_using(ps) < 0)
		return -1;
	if (expect_word(ps, "set", "K_SET") < 0)
		return -1;
	do {
		if (column_room(ps, st->nassign) < 0)
			return -1;
		a = &st->assign[st->nassign];
		if (parse_ident(ps, a->col, "a column name") < 0)
			return -1;
		if (is_sym(ps, "[")) {
			invalid(ps, "cqld: element assignments are not "
				"supported");
			return -1;
		}
		if (expect_sym(ps, "=") < 0)
			return -1;
		if (ps->tok.kind == TK_WORD || ps->tok.kind == TK_QIDENT) {
			if (!is_word(ps, "true") && !is_word(ps, "false") &&
			    !is_word(ps, "null")) {
				invalid(ps, "cqld: only 'column = value' "
					"assignments are supported");
				return -1;
			}
		}
		if (parse_term(ps, &a->value, CL_BIND_COLUMN, a->col) < 0)
			return -1;
		if (is_sym(ps, "+") || is_sym(ps, "-")) {
			invalid(ps, "cqld: only 'column = value' assignments "
				"are supported");
			return -1;
		}
		for (i = 0; i < st->nassign; i++)
			if (strcmp(st->assign[i].col, a->col) == 0) {
				invalid(ps, "Multiple incompatible setting of "
					"column %s", a->col);
				return -1;
			}
		st->nassign++;
	} while (accept_sym(ps, ","));
	if (expect_word(ps, "where", "K_WHERE") < 0 || parse_where(ps) < 0)
		return -1;
	return parse_condition(ps, "updates");
}

/* parse_delete - DELETE FROM t [USING TIMESTAMP] WHERE ... [IF EXISTS] */
static int parse_delete(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;

	st->kind = CL_DELETE;
	if (!is_word(ps, "from")) {
		invalid(ps, "cqld: deleting single columns is not supported");
		return -1;
	}
	lex(ps);
	if (parse_qname(ps) < 0)
		return -1;
	if (accept_word(ps, "using") && parse_using(ps) < 0)
		return -1;
	if (expect_word(ps, "where", "K_WHERE") < 0 || parse_where(ps) < 0)
		return -1;
	return parse_condition(ps, "deletes");
}

/* parse_selector - column [AS alias] | count(*) [AS alias] */
static int parse_selector(struct cl_parser *ps, struct cl_selector *s)
{
	if (is_word(ps, "count")) {
		struct cl_parser save = *ps;

		lex(ps);
		if (accept_sym(ps, "(")) {
			if (!accept_sym(ps, "*")) {
				if (ps->tok.kind == TK_INT && ps->tok.len == 1 &&
				    ps->tok.p[0] == '1')
					lex(ps);
				else {
					syntax(ps, "'*'");
					return -1;
				}
			}
			if (expect_sym(ps, ")") < 0)
				return -1;
			s->is_count = 1;
			goto alias;
		}
		*ps = save;	/* a column called "count" */
	}
	if (parse_ident(ps, s->col, "a column name") < 0)
		return -1;
	if (is_sym(ps, "(")) {
		char show[CL_TOKEN_SHOW + 1];

		invalid(ps, "cqld: function calls in selections are not "
			"supported (%s)", tok_show(ps, show, sizeof(show)));
		return -1;
	}
alias:
	if (accept_word(ps, "as"))
		return parse_ident(ps, s->alias, "an alias");
	return 0;
}

/* parse_select - SELECT [DISTINCT] sel FROM t [WHERE] [ORDER BY] [LIMIT] */
static int parse_select(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;

	st->kind = CL_SELECT;
	if (is_word(ps, "json")) {
		invalid(ps, "cqld: SELECT JSON is not supported");
		return -1;
	}
	if (accept_word(ps, "distinct"))
		st->distinct = 1;
	if (accept_sym(ps, "*")) {
		st->select_star = 1;
	} else {
		do {
			if (st->nsel >= CL_MAX_COLUMNS) {
				invalid(ps, "cqld: too many selectors (max %d)",
					CL_MAX_COLUMNS);
				return -1;
			}
			if (parse_selector(ps, &st->sel[st->nsel]) < 0)
				return -1;
			st->nsel++;
		} while (accept_sym(ps, ","));
	}
	if (expect_word(ps, "from", "K_FROM") < 0 || parse_qname(ps) < 0)
		return -1;
	if (accept_word(ps, "where") && parse_where(ps) < 0)
		return -1;
	if (accept_word(ps, "group")) {
		invalid(ps, "cqld: GROUP BY is not supported");
		return -1;
	}
	if (accept_word(ps, "order")) {
		if (expect_word(ps, "by", "K_BY") < 0 ||
		    parse_ident(ps, st->order_col, "a column name") < 0)
			return -1;
		if (accept_word(ps, "desc"))
			st->order_desc = 1;
		else
			(void)accept_word(ps, "asc");
		if (is_sym(ps, ",")) {
			invalid(ps, "cqld: ORDER BY on several columns is not "
				"supported");
			return -1;
		}
	}
	if (is_word(ps, "per")) {
		invalid(ps, "cqld: PER PARTITION LIMIT is not supported");
		return -1;
	}
	if (accept_word(ps, "limit")) {
		if (parse_term(ps, &st->limit, CL_BIND_LIMIT, NULL) < 0)
			return -1;
		if (st->limit.kind != CL_TERM_INT &&
		    st->limit.kind != CL_TERM_BIND) {
			invalid(ps, "Invalid LIMIT value");
			return -1;
		}
	}
	if (accept_word(ps, "allow")) {
		if (expect_word(ps, "filtering", "K_FILTERING") < 0)
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
		if (is_word(ps, *words))
			return 1;
	return 0;
}

/* unsupported - Invalid: fmt with the current token for its %s; -1 */
static int unsupported(struct cl_parser *ps, const char *fmt)
{
	char show[CL_TOKEN_SHOW + 1];

	invalid(ps, fmt, tok_show(ps, show, sizeof(show)));
	return -1;
}

/* parse_statement - dispatch on the first keyword */
static int parse_statement(struct cl_parser *ps)
{
	struct cl_stmt *st = ps->st;

	st->line = ps->tok.line;
	if (accept_word(ps, "select"))
		return parse_select(ps);
	if (accept_word(ps, "insert"))
		return parse_insert(ps);
	if (accept_word(ps, "update"))
		return parse_update(ps);
	if (accept_word(ps, "delete"))
		return parse_delete(ps);
	if (accept_word(ps, "use")) {
		st->kind = CL_USE;
		return parse_ident(ps, st->ks, "a keyspace name");
	}
	if (accept_word(ps, "truncate")) {
		st->kind = CL_TRUNCATE;
		(void)(accept_word(ps, "table") || accept_word(ps, "columnfamily"));
		return parse_qname(ps);
	}
	if (accept_word(ps, "create")) {
		if (accept_word(ps, "keyspace") || accept_word(ps, "schema"))
			return parse_create_keyspace(ps);
		if (accept_word(ps, "table") || accept_word(ps, "columnfamily"))
			return parse_create_table(ps);
		if (is_one_of(ps, unsupported_creates))
			return unsupported(ps, "cqld: CREATE %s is not "
					   "supported");
		syntax(ps, "K_KEYSPACE or K_TABLE");
		return -1;
	}
	if (accept_word(ps, "drop")) {
		if (accept_word(ps, "keyspace") || accept_word(ps, "schema")) {
			st->kind = CL_DROP_KEYSPACE;
			if (parse_if_exists(ps) < 0)
				return -1;
			return parse_ident(ps, st->ks, "a keyspace name");
		}
		if (accept_word(ps, "table") || accept_word(ps, "columnfamily")) {
			st->kind = CL_DROP_TABLE;
			if (parse_if_exists(ps) < 0)
				return -1;
			return parse_qname(ps);
		}
		syntax(ps, "K_KEYSPACE or K_TABLE");
		return -1;
	}
	if (is_one_of(ps, unsupported_statements))
		return unsupported(ps, "cqld: %s statements are not supported");
	syntax(ps, NULL);
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
	if (accept_sym(ps, ";"))
		return 0;
	if (ps->tok.kind == TK_EOF)
		return 0;
	if (script)
		syntax(ps, "';'");
	else
		syntax(ps, "EOF");
fail:
	if (!ps->failed)
		syntax(ps, NULL);
	cl_stmt_free(ps->st);
	return -1;
}

/* cl_parse - parse exactly one statement */
int cl_parse(const char *text, size_t len, struct cl_stmt *st,
	     struct cl_error *err)
{
	struct cl_parser ps;

	parser_init(&ps, text, len, NULL, st, err);
	lex(&ps);
	if (ps.failed)
		return -1;
	if (ps.tok.kind == TK_EOF) {
		syntax(&ps, NULL);
		return -1;
	}
	if (parse_one(&ps, 0) < 0)
		return -1;
	if (ps.tok.kind != TK_EOF) {
		syntax(&ps, "EOF");
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
		lex(&ps);
		if (ps.failed)
			return -1;
		if (ps.tok.kind == TK_EOF) {
			cur->pos = len;
			return 0;
		}
		if (!is_sym(&ps, ";"))
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
