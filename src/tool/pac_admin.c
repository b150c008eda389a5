/*
 * postfix-aws-cassandra-admin - create the schema, import, export and edit map rows
 *
 * SYNOPSIS
 *	postfix-aws-cassandra-admin schema [--print] [--apply] [--replication SPEC] [--keyspaces]
 *	postfix-aws-cassandra-admin import [--dry-run] [--sync] [--concurrency N] MAP FILE|-
 *	postfix-aws-cassandra-admin export MAP
 *	postfix-aws-cassandra-admin get MAP KEY
 *	postfix-aws-cassandra-admin set MAP KEY [VALUE]
 *	postfix-aws-cassandra-admin delete MAP KEY
 *	postfix-aws-cassandra-admin enable|disable MAP KEY
 *
 * DESCRIPTION
 *	The daemon's companion for operators: it reads the same environment
 *	(KEYSPACE_NAME, CASSANDRA_*, AWS_REGION, the AWS credential chain;
 *	an environment file is the caller's to source) and writes at
 *	LOCAL_QUORUM. This file parses the command line; the subcommands
 *	live in tool_schema.c, tool_import.c and tool_rows.c.
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on a runtime failure (the database, a write
 *	that kept failing; get: no such row), 2 on a usage or configuration
 *	error, with a message naming the option or variable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tool/tool_cmd.h"

#ifndef PAC_VERSION
#define PAC_VERSION "unknown"
#endif

/* usage - the synopsis on stderr; the usage exit code */
static int usage(void)
{
	fprintf(stderr,
		"usage: %s schema [--print] [--apply] [--replication N|DC:N,...] [--keyspaces]\n"
		"       %s import [--dry-run] [--sync] [--concurrency N] MAP FILE|-\n"
		"       %s export MAP\n"
		"       %s get MAP KEY\n"
		"       %s set MAP KEY [VALUE]\n"
		"       %s delete MAP KEY\n"
		"       %s enable|disable MAP KEY\n"
		"MAP is one of: %s\n"
		"Settings come from the environment, as for the daemon (KEYSPACE_NAME,\n"
		"CASSANDRA_HOSTS, AWS_REGION, ...): see postfix-aws-cassandra-admin(8).\n",
		TOOL_NAME, TOOL_NAME, TOOL_NAME, TOOL_NAME, TOOL_NAME, TOOL_NAME, TOOL_NAME,
		tool_map_names());
	return TOOL_EXIT_USAGE;
}

/* parse_schema - schema's options */
static int parse_schema(int argc, char **argv, struct tool_schema_opts *o)
{
	int a;

	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--print") == 0)
			o->print = 1;
		else if (strcmp(argv[a], "--apply") == 0)
			o->apply = 1;
		else if (strcmp(argv[a], "--keyspaces") == 0)
			o->keyspaces = 1;
		else if (strcmp(argv[a], "--replication") == 0 && a + 1 < argc)
			o->replication = argv[++a];
		else
			return -1;
	}
	return 0;
}

/* parse_import - import's options; the index of MAP, or -1 */
static int parse_import(int argc, char **argv, struct tool_import_opts *o)
{
	int a;

	o->window = TOOL_WINDOW_DEFAULT;
	for (a = 0; a < argc && argv[a][0] == '-' && argv[a][1] != 0; a++) {
		if (strcmp(argv[a], "--dry-run") == 0)
			o->dry_run = 1;
		else if (strcmp(argv[a], "--sync") == 0)
			o->sync = 1;
		else if (strcmp(argv[a], "--concurrency") == 0 && a + 1 < argc &&
			 atoi(argv[a + 1]) >= 1 && atoi(argv[a + 1]) <= TOOL_WINDOW_MAX)
			o->window = atoi(argv[++a]);
		else
			return -1;
	}
	return argc - a == 2 ? a : -1;
}

/* run - the subcommand on an open tool */
static int run(struct tool *t, const char *cmd, const struct tool_map *m, int argc, char **argv,
	       const struct tool_import_opts *io)
{
	if (strcmp(cmd, "import") == 0)
		return tool_import(t, m, argv[1], io);
	if (strcmp(cmd, "export") == 0 && argc == 1)
		return tool_export(t, m);
	if (strcmp(cmd, "get") == 0 && argc == 2)
		return tool_get(t, m, argv[1]);
	if (strcmp(cmd, "set") == 0 && (argc == 2 || argc == 3))
		return tool_set(t, m, argv[1], argc == 3 ? argv[2] : NULL);
	if (strcmp(cmd, "delete") == 0 && argc == 2)
		return tool_delete(t, m, argv[1]);
	if ((strcmp(cmd, "enable") == 0 || strcmp(cmd, "disable") == 0) && argc == 2)
		return tool_enable(t, m, argv[1], cmd[0] == 'e');
	return usage();
}

int main(int argc, char **argv)
{
	static struct tool t;
	struct tool_schema_opts so;
	struct tool_import_opts io;
	const struct tool_map *m = NULL;
	const char *cmd;
	int rc, first = 2;

	log_init(TOOL_NAME, 0);
	log_set_level(LOG_LEVEL_WARN);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (argc < 2)
		return usage();
	cmd = argv[1];
	if (strcmp(cmd, "--version") == 0) {
		printf("%s %s\n", TOOL_NAME, PAC_VERSION);
		return TOOL_EXIT_OK;
	}
	memset(&so, 0, sizeof(so));
	memset(&io, 0, sizeof(io));
	if (strcmp(cmd, "schema") == 0) {
		if (parse_schema(argc - 2, argv + 2, &so) != 0)
			return usage();
	} else {
		if (strcmp(cmd, "import") == 0) {
			int a = parse_import(argc - 2, argv + 2, &io);

			if (a < 0)
				return usage();
			first = 2 + a;
		}
		if (argc <= first)
			return usage();
		if ((m = tool_map_find(argv[first])) == NULL) {
			fprintf(stderr, "%s: unknown map '%s' (one of: %s)\n", TOOL_NAME,
				argv[first], tool_map_names());
			return TOOL_EXIT_USAGE;
		}
	}
	if ((rc = tool_open(&t, m != NULL || so.apply)) != TOOL_EXIT_OK) {
		tool_close(&t);
		return rc;
	}
	if (m == NULL) {
		if (!so.keyspaces && !so.replication && t.cfg.auth_sigv4)
			so.keyspaces = 1;
		rc = tool_schema(&t, &so);
	} else {
		rc = run(&t, cmd, m, argc - first, argv + first, &io);
	}
	tool_close(&t);
	return rc;
}
