/*
 * tool_cmd - the admin program's subcommands
 *
 * SYNOPSIS
 *	#include "tool/tool_cmd.h"
 *
 * DESCRIPTION
 *	One function per subcommand, each returning the program's exit code
 *	(tool.h): tool_import.c (import), tool_rows.c (export, get, set,
 *	delete, enable, disable), tool_schema.c (schema). pac_admin.c parses
 *	the command line and calls them.
 */
#ifndef PAC_TOOL_CMD_H
#define PAC_TOOL_CMD_H

#include "tool/tool.h"

struct tool_import_opts {
	int dry_run;		/* write nothing, say what would be */
	int sync;		/* delete rows the source does not have */
	int window;		/* writes in flight */
};

int tool_import(struct tool *t, const struct tool_map *m, const char *path,
		const struct tool_import_opts *o);

int tool_export(struct tool *t, const struct tool_map *m);
int tool_get(struct tool *t, const struct tool_map *m, const char *key);
int tool_set(struct tool *t, const struct tool_map *m, const char *key, const char *value);
int tool_delete(struct tool *t, const struct tool_map *m, const char *key);
int tool_enable(struct tool *t, const struct tool_map *m, const char *key, int on);

struct tool_schema_opts {
	int print;		/* print the statements */
	int apply;		/* create what is missing */
	const char *replication;	/* Cassandra/Scylla: "N" or "dc1:3,dc2:3" */
	int keyspaces;		/* Amazon Keyspaces' statements (default with SigV4) */
};

int tool_schema(struct tool *t, const struct tool_schema_opts *o);

/* The statements of a map (tool_rows.c). */
enum tool_stmt_kind {
	TOOL_STMT_PUT,		/* INSERT key (active = true | value) */
	TOOL_STMT_DELETE,	/* DELETE by key */
	TOOL_STMT_GET,		/* SELECT key, column by key */
	TOOL_STMT_ACTIVE,	/* UPDATE active by key */
};

/* tool_map_stmt - prepare one of m's statements; NULL with a message */
struct cql_stmt *tool_map_stmt(struct tool *t, const struct tool_map *m, enum tool_stmt_kind k);

#endif
