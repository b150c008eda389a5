/*
 * cql_lang - tokenizer and parser of the CQL subset that cqld understands
 *
 * SYNOPSIS
 *	#include "cql_lang.h"
 *
 * DESCRIPTION
 *	Pure code: text in, statement struct (or error) out. No storage, no
 *	sockets. Keywords are case-insensitive; unquoted identifiers are folded
 *	to lower case, "quoted" ones are kept as written.
 *
 *	cl_parse() parses exactly one statement (an optional trailing ';' is
 *	allowed). cl_parse_next() parses the next statement of a script and
 *	advances a cursor, for --load files; line numbers are counted from the
 *	start of the script.
 *
 *	Literal values are kept as terms (struct cl_term) and only converted
 *	to a column's type at execution, where the schema is known. Bind
 *	markers ('?') are numbered in order of appearance; for each one the
 *	parser records what it binds (a column name, or [limit], [ttl],
 *	[timestamp]) so that PREPARE can describe it.
 */
#ifndef CQLD_CQL_LANG_H
#define CQLD_CQL_LANG_H

#include <stddef.h>
#include <stdint.h>

#define CL_NAME_MAX	128	/* bytes of an identifier, with the NUL */
#define CL_MAX_COLUMNS	64	/* columns of a table or a statement */
#define CL_MAX_WHERE	32	/* relations in a WHERE clause */
#define CL_MAX_BIND	128	/* bind markers in one statement */
#define CL_MAX_ELEMS	4096	/* elements of one collection literal */
#define CL_MAX_NEST	8	/* nesting depth of literals and types */
#define CL_MSG_MAX	256	/* bytes of an error message */

/* Error classes, matching the CQL error codes they become */
#define CL_ERR_SYNTAX	0x2000
#define CL_ERR_INVALID	0x2200

struct cl_error {
	int code;		/* CL_ERR_SYNTAX or CL_ERR_INVALID */
	int line;		/* 1-based, from the start of the text */
	int col;		/* 0-based, like Cassandra's "line 1:7" */
	char msg[CL_MSG_MAX];
};

enum cl_term_kind {
	CL_TERM_NULL,
	CL_TERM_STRING,		/* str/len: unescaped */
	CL_TERM_INT,		/* str: digits as written; ival when it fits */
	CL_TERM_FLOAT,		/* str: as written */
	CL_TERM_BOOL,		/* ival 0/1 */
	CL_TERM_UUID,		/* str: as written */
	CL_TERM_HEX,		/* str: 0x... as written */
	CL_TERM_BIND,		/* bind: marker index */
	CL_TERM_SET,		/* elems */
	CL_TERM_LIST,		/* elems */
	CL_TERM_MAP,		/* elems: key, value, key, value ... */
};

struct cl_term {
	enum cl_term_kind kind;
	int64_t ival;
	int ival_ok;		/* INT: the digits fit in an int64 */
	char *str;		/* NUL-terminated, owned */
	size_t len;
	int bind;
	struct cl_term *elems;	/* owned array */
	size_t nelems;
};

/* Column types: ids as in cql_proto.h (enum cql_type_id) */
struct cl_type {
	uint16_t id;
	uint16_t elem[2];	/* list/set: elem[0]; map: key, value */
	uint8_t frozen;
};

struct cl_coldef {
	char name[CL_NAME_MAX];
	struct cl_type type;
	uint8_t is_static;
};

enum cl_kind {
	CL_CREATE_KEYSPACE,
	CL_CREATE_TABLE,
	CL_DROP_KEYSPACE,
	CL_DROP_TABLE,
	CL_USE,
	CL_INSERT,
	CL_UPDATE,
	CL_DELETE,
	CL_SELECT,
	CL_TRUNCATE,
};

enum cl_op { CL_OP_EQ, CL_OP_LT, CL_OP_LE, CL_OP_GT, CL_OP_GE };

struct cl_relation {
	char col[CL_NAME_MAX];
	enum cl_op op;
	struct cl_term value;
};

struct cl_assign {
	char col[CL_NAME_MAX];
	struct cl_term value;
};

/* What a bind marker binds: a column, or a special value */
enum cl_bind_role { CL_BIND_COLUMN, CL_BIND_LIMIT, CL_BIND_TTL,
		    CL_BIND_TIMESTAMP };

struct cl_bindref {
	enum cl_bind_role role;
	char col[CL_NAME_MAX];	/* CL_BIND_COLUMN */
};

struct cl_selector {
	char col[CL_NAME_MAX];	/* empty for count(*) */
	char alias[CL_NAME_MAX];	/* empty when none */
	uint8_t is_count;
};

struct cl_stmt {
	enum cl_kind kind;
	int line;		/* line of the first token */
	char ks[CL_NAME_MAX];	/* empty when not given */
	char table[CL_NAME_MAX];
	uint8_t if_not_exists;
	uint8_t if_exists;

	/* CREATE KEYSPACE */
	struct cl_term replication;	/* MAP, or NULL when absent */
	int durable_writes;		/* -1 when absent */

	/* CREATE TABLE */
	struct cl_coldef cols[CL_MAX_COLUMNS];
	size_t ncols;
	char key[CL_MAX_COLUMNS][CL_NAME_MAX];	/* partition then clustering */
	size_t nkey;
	size_t npartition;		/* leading key entries that partition */
	uint8_t key_desc[CL_MAX_COLUMNS];	/* CLUSTERING ORDER DESC */

	/* INSERT (names + values) and UPDATE (SET) */
	struct cl_assign assign[CL_MAX_COLUMNS];
	size_t nassign;
	struct cl_term ttl;		/* NULL kind when absent */
	struct cl_term timestamp;

	/* UPDATE, DELETE, SELECT */
	struct cl_relation where[CL_MAX_WHERE];
	size_t nwhere;

	/* SELECT */
	uint8_t select_star;
	uint8_t distinct;
	struct cl_selector sel[CL_MAX_COLUMNS];
	size_t nsel;
	struct cl_term limit;		/* NULL kind when absent */
	uint8_t allow_filtering;
	char order_col[CL_NAME_MAX];	/* ORDER BY, empty when absent */
	uint8_t order_desc;

	/* bind markers */
	struct cl_bindref binds[CL_MAX_BIND];
	size_t nbind;
};

/*
 * cl_parse - parse one statement from text/len into *st. Returns 0, or
 * -1 with *err set. On success the caller must cl_stmt_free(st).
 */
int cl_parse(const char *text, size_t len, struct cl_stmt *st,
	     struct cl_error *err);

/* Where cl_parse_next() is in a script; zero it to start. */
struct cl_cursor {
	size_t pos;		/* offset of the next byte to read */
	int line;		/* line number at pos, minus one */
	size_t line_start;	/* offset where that line starts */
};

/*
 * cl_parse_next - parse the statement that starts at the cursor (skipping
 * blanks, comments and empty statements). Returns 1 with a statement and
 * the cursor after its ';', 0 at the end of the text, -1 on error.
 */
int cl_parse_next(const char *text, size_t len, struct cl_cursor *cur,
		  struct cl_stmt *st, struct cl_error *err);

/* cl_stmt_free - release what a parsed statement owns */
void cl_stmt_free(struct cl_stmt *st);

/* cl_term_free - release what a term owns */
void cl_term_free(struct cl_term *t);

/* cl_type_parse_name - simple type name to type id; -1 when unknown */
int cl_type_parse_name(const char *name);

/* cl_term_kind_name - CQL name of a literal kind, for error messages */
const char *cl_term_kind_name(enum cl_term_kind k);

#endif
