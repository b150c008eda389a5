/*
 * cql_lex - the tokenizer of cqld's CQL, and the token-level helpers
 *
 * SYNOPSIS
 *	#include "cql_parser.h"
 *
 * DESCRIPTION
 *	cl_lex() reads the next token (words, quoted identifiers, strings
 *	in '' or $$, numbers, UUIDs, blobs, symbols) into ps->tok, skipping
 *	blanks and comments. The helpers match and consume keywords and
 *	symbols, read identifiers (reserved words refused) and qualified
 *	table names, and record errors the way Cassandra words them
 *	("line L:C mismatched input 'x' expecting ...").
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql_parser.h"

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

/* cl_lex - read the next token into ps->tok */
void cl_lex(struct cl_parser *ps)
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

/* cl_tok_show - the current token as quoted in error messages */
const char *cl_tok_show(struct cl_parser *ps, char *out, size_t size)
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

/* cl_syntax - report a syntax error at the current token */
void cl_syntax(struct cl_parser *ps, const char *expecting)
{
	char show[CL_TOKEN_SHOW + 1];

	if (ps->tok.kind == TK_EOF && expecting)
		lex_error_at(ps, CL_ERR_SYNTAX, ps->tok.line, ps->tok.col,
			     "mismatched input '<EOF>' expecting %s",
			     expecting);
	else if (expecting)
		lex_error_at(ps, CL_ERR_SYNTAX, ps->tok.line, ps->tok.col,
			     "mismatched input '%s' expecting %s",
			     cl_tok_show(ps, show, sizeof(show)), expecting);
	else
		lex_error_at(ps, CL_ERR_SYNTAX, ps->tok.line, ps->tok.col,
			     "no viable alternative at input '%s'",
			     cl_tok_show(ps, show, sizeof(show)));
}

/* cl_invalid - report an Invalid (semantic) error at the current token */
void cl_invalid(struct cl_parser *ps, const char *fmt, ...)
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

/* cl_is_word - current token is the keyword kw (any case) */
int cl_is_word(struct cl_parser *ps, const char *kw)
{
	return ps->tok.kind == TK_WORD && ps->tok.len == strlen(kw) &&
	       strncasecmp(ps->tok.p, kw, ps->tok.len) == 0;
}

/* cl_is_sym - current token is the punctuation s */
int cl_is_sym(struct cl_parser *ps, const char *s)
{
	return ps->tok.kind == TK_SYM && ps->tok.len == strlen(s) &&
	       memcmp(ps->tok.p, s, ps->tok.len) == 0;
}

/* cl_accept_word - consume keyword kw if it is next */
int cl_accept_word(struct cl_parser *ps, const char *kw)
{
	if (ps->failed || !cl_is_word(ps, kw))
		return 0;
	cl_lex(ps);
	return 1;
}

/* cl_accept_sym - consume punctuation s if it is next */
int cl_accept_sym(struct cl_parser *ps, const char *s)
{
	if (ps->failed || !cl_is_sym(ps, s))
		return 0;
	cl_lex(ps);
	return 1;
}

/* cl_expect_word - consume keyword kw or fail */
int cl_expect_word(struct cl_parser *ps, const char *kw, const char *what)
{
	if (cl_accept_word(ps, kw))
		return 0;
	cl_syntax(ps, what);
	return -1;
}

/* cl_expect_sym - consume punctuation s or fail */
int cl_expect_sym(struct cl_parser *ps, const char *s)
{
	char what[8];

	if (cl_accept_sym(ps, s))
		return 0;
	snprintf(what, sizeof(what), "'%s'", s);
	cl_syntax(ps, what);
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
		if (cl_is_word(ps, reserved[i]))
			return 1;
	return 0;
}

/* cl_parse_ident - an identifier into out[CL_NAME_MAX] */
int cl_parse_ident(struct cl_parser *ps, char *out, const char *what)
{
	size_t i, n = 0;

	if (ps->failed)
		return -1;
	if (ps->tok.kind == TK_WORD && !is_reserved(ps)) {
		if (ps->tok.len >= CL_NAME_MAX) {
			cl_invalid(ps, "Identifier too long: %.40s...", ps->tok.p);
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
				cl_invalid(ps, "Identifier too long");
				return -1;
			}
			out[n++] = ps->tok.p[i];
		}
		out[n] = 0;
		if (n == 0) {
			cl_syntax(ps, what);
			return -1;
		}
	} else {
		cl_syntax(ps, what);
		return -1;
	}
	cl_lex(ps);
	return 0;
}

/* cl_parse_qname - [keyspace '.'] name */
int cl_parse_qname(struct cl_parser *ps)
{
	char first[CL_NAME_MAX];

	if (cl_parse_ident(ps, first, "a table name") < 0)
		return -1;
	if (cl_accept_sym(ps, ".")) {
		memcpy(ps->st->ks, first, sizeof(first));
		return cl_parse_ident(ps, ps->st->table, "a table name");
	}
	memcpy(ps->st->table, first, sizeof(first));
	return 0;
}

