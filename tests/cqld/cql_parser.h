/*
 * cql_parser - the parser state and helpers cqld's CQL parser shares
 *
 * SYNOPSIS
 *	#include "cql_parser.h"
 *
 * DESCRIPTION
 *	Private to cql_lex.c (the tokenizer, errors, keywords, names),
 *	cql_term.c (literals, bind markers, collections, types) and
 *	cql_lang.c (statements and the cl_parse() entry points). The
 *	parser is recursive descent over one token of lookahead (ps->tok);
 *	the first error sticks (ps->failed) and is the one reported.
 */
#ifndef CQLD_CQL_PARSER_H
#define CQLD_CQL_PARSER_H

#include <stddef.h>

#include "cql_lang.h"

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

/* cql_lex.c */
void cl_lex(struct cl_parser *ps);
const char *cl_tok_show(struct cl_parser *ps, char *out, size_t size);
void cl_syntax(struct cl_parser *ps, const char *expecting);
void cl_invalid(struct cl_parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cl_is_word(struct cl_parser *ps, const char *kw);
int cl_is_sym(struct cl_parser *ps, const char *s);
int cl_accept_word(struct cl_parser *ps, const char *kw);
int cl_accept_sym(struct cl_parser *ps, const char *s);
int cl_expect_word(struct cl_parser *ps, const char *kw, const char *what);
int cl_expect_sym(struct cl_parser *ps, const char *s);
int cl_parse_ident(struct cl_parser *ps, char *out, const char *what);
int cl_parse_qname(struct cl_parser *ps);

/* cql_term.c */
int cl_parse_term(struct cl_parser *ps, struct cl_term *t,
		  enum cl_bind_role role, const char *col);
int cl_parse_term_depth(struct cl_parser *ps, struct cl_term *t, int depth,
			enum cl_bind_role role, const char *col);
int cl_parse_type(struct cl_parser *ps, struct cl_type *ty, int depth);

#endif
