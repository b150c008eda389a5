/*
 * tool_schema - `schema [--print] [--apply]`: the keyspace and its seven tables
 *
 * SYNOPSIS
 *	#include "tool/tool_cmd.h"
 *
 * DESCRIPTION
 *	The statements of packaging/schema/keyspaces.cql and cassandra.cql for KEYSPACE_NAME: the six
 *	map tables and pac_changes, the change serials the daemons poll.
 *	For Amazon Keyspaces (SigV4 in use, or --keyspaces) the keyspace is
 *	SingleRegionStrategy and every table on-demand ("capacity_mode"
 *	PAY_PER_REQUEST in CUSTOM_PROPERTIES: "CREATE TABLE", Amazon
 *	Keyspaces developer guide); for Cassandra or ScyllaDB --replication
 *	gives the replication: "N" (SimpleStrategy, N copies) or
 *	"dc1:3,dc2:3" (NetworkTopologyStrategy).
 *
 *	--apply reads system_schema.keyspaces and .tables, creates only what
 *	is missing (IF NOT EXISTS besides) and never drops or alters. Amazon
 *	Keyspaces creates keyspaces and tables asynchronously: a table is
 *	usable when system_schema_mcs.tables says status 'ACTIVE'
 *	("Check keyspace and table creation status", developer guide), so
 *	on Keyspaces the tool polls that, with a progress line, until all
 *	seven are ACTIVE or TOOL_SCHEMA_WAIT_S passes.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tool/tool_cmd.h"

#define TOOL_SCHEMA_WAIT_S	600	/* for Keyspaces to create the tables */
#define TOOL_SCHEMA_POLL_MS	1000	/* between status reads */
#define TOOL_REPLICATION_MAX	256	/* bytes of the replication map */
#define TOOL_NTABLES		7	/* six maps and pac_changes */
#define KEYSPACES_CAPACITY	" WITH CUSTOM_PROPERTIES = {'capacity_mode': " \
				"{'throughput_mode': 'PAY_PER_REQUEST'}}"

/* replication_map - the CQL replication map of --replication; -1 if malformed */
static int replication_map(const char *spec, char *out, size_t len)
{
	const char *p;
	size_t n;

	if (spec[strspn(spec, "0123456789")] == 0 && *spec && strlen(spec) < 4) {
		snprintf(out, len, "{'class': 'SimpleStrategy', 'replication_factor': %s}", spec);
		return 0;
	}
	n = (size_t)snprintf(out, len, "{'class': 'NetworkTopologyStrategy'");
	for (p = spec; *p; ) {
		size_t dc = strcspn(p, ":"), rf;

		if (dc == 0 || p[dc] != ':')
			return -1;
		for (size_t i = 0; i < dc; i++)
			if (!isalnum((unsigned char)p[i]) && !strchr("_-.", p[i]))
				return -1;
		rf = strspn(p + dc + 1, "0123456789");
		if (rf == 0 || rf > 3 || (p[dc + 1 + rf] != ',' && p[dc + 1 + rf] != 0))
			return -1;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, ", '%.*s': %.*s", (int)dc, p,
				      (int)rf, p + dc + 1);
		p += dc + 1 + rf + (p[dc + 1 + rf] == ',');
	}
	if (n + 2 > len || p == spec)
		return -1;
	snprintf(out + n, len - n, "}");
	return 0;
}

/* table_columns - the columns of table i (0..5 the maps, 6 pac_changes) */
static void table_columns(size_t i, const char **name, char *cols, size_t len, int keyspaces)
{
	const struct tool_map *m = tool_map_at(i);
	const char *key = m ? m->key : "table_name", *col = m ? m->column : "serial";
	const char *type = !m ? "bigint" : m->kind == TOOL_MAP_ACTIVE ? "boolean" : "text";

	*name = m ? m->name : TOOL_CHANGES_TABLE;
	if (keyspaces)
		snprintf(cols, len, "(%s text, %s %s, PRIMARY KEY (%s))", key, col, type, key);
	else
		snprintf(cols, len, "(%s text PRIMARY KEY, %s %s)", key, col, type);
}

/* statements - the keyspace's statement (index 0) and each table's */
static void statement(const struct tool *t, const struct tool_schema_opts *o,
		      const char *repl, size_t i, char *out, size_t len)
{
	char cols[TOOL_STMT_MAX / 2];
	const char *name;

	if (i == 0) {
		snprintf(out, len, "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s;",
			 t->cfg.keyspace, o->keyspaces ? "{'class': 'SingleRegionStrategy'}" : repl);
		return;
	}
	table_columns(i - 1, &name, cols, sizeof(cols), o->keyspaces);
	snprintf(out, len, "CREATE TABLE IF NOT EXISTS %s.%s %s%s;", t->cfg.keyspace, name, cols,
		 o->keyspaces ? KEYSPACES_CAPACITY : "");
}

/* exists - does the query (a system_schema read) return a row named name */
static int exists(struct tool *t, const char *query, const char *name, int *failed)
{
	struct tool_answer a;
	size_t r;
	int found = 0;

	if (tool_run_retrying(t, NULL, query, NULL, 0, &a) != 0) {
		fprintf(stderr, "%s: %s: %s\n", TOOL_NAME, query, a.reason);
		*failed = 1;
	}
	for (r = 0; r < a.nrows; r++)
		if (strcmp(tool_answer_cell(&a, r, 0), name) == 0)
			found = 1;
	tool_answer_free(&a);
	return found;
}

/* active_tables - how many of the seven system_schema_mcs calls ACTIVE; -1 on error */
static int active_tables(struct tool *t)
{
	char q[TOOL_STMT_MAX];
	struct tool_answer a;
	size_t r, i;
	int n = 0;

	snprintf(q, sizeof(q), "SELECT table_name, status FROM system_schema_mcs.tables "
		 "WHERE keyspace_name = '%s'", t->cfg.keyspace);
	if (tool_run_retrying(t, NULL, q, NULL, 0, &a) != 0) {
		fprintf(stderr, "\n%s: %s: %s\n", TOOL_NAME, q, a.reason);
		tool_answer_free(&a);
		return -1;
	}
	for (r = 0; r < a.nrows; r++)
		for (i = 0; i < TOOL_NTABLES; i++) {
			const struct tool_map *m = tool_map_at(i);

			if (strcmp(tool_answer_cell(&a, r, 0), m ? m->name : TOOL_CHANGES_TABLE) == 0 &&
			    strcmp(tool_answer_cell(&a, r, 1), "ACTIVE") == 0)
				n++;
		}
	tool_answer_free(&a);
	return n;
}

/* wait_active - poll until the seven tables are ACTIVE, with a progress line */
static int wait_active(struct tool *t)
{
	int waited = 0, n;

	while ((n = active_tables(t)) >= 0 && n < TOOL_NTABLES) {
		if (waited >= TOOL_SCHEMA_WAIT_S * 1000) {
			fprintf(stderr, "\n%s: tables still not ACTIVE after %d s\n", TOOL_NAME,
				TOOL_SCHEMA_WAIT_S);
			return TOOL_EXIT_FAIL;
		}
		printf("\rwaiting for Amazon Keyspaces: %d/%d tables ACTIVE (%d s)", n,
		       TOOL_NTABLES, waited / 1000);
		fflush(stdout);
		tool_sleep(t, TOOL_SCHEMA_POLL_MS);
		waited += TOOL_SCHEMA_POLL_MS;
	}
	if (n < 0)
		return TOOL_EXIT_FAIL;
	/* Padded: the line overwrites the longer progress line on a terminal. */
	printf("%s%d/%d tables ACTIVE%*s\n", waited ? "\r" : "", n, TOOL_NTABLES,
	       waited ? 30 : 0, "");
	return TOOL_EXIT_OK;
}

/* apply - create what is missing */
static int apply(struct tool *t, const struct tool_schema_opts *o, const char *repl)
{
	char q[TOOL_STMT_MAX], cql[TOOL_STMT_MAX], cols[TOOL_STMT_MAX / 2];
	const char *name;
	struct tool_answer a;
	size_t i;
	int failed = 0, created = 0;

	for (i = 0; i <= TOOL_NTABLES && !failed; i++) {
		if (i == 0) {
			name = t->cfg.keyspace;
			snprintf(q, sizeof(q), "SELECT keyspace_name FROM system_schema.keyspaces "
				 "WHERE keyspace_name = '%s'", name);
		} else {
			table_columns(i - 1, &name, cols, sizeof(cols), o->keyspaces);
			snprintf(q, sizeof(q), "SELECT table_name FROM system_schema.tables "
				 "WHERE keyspace_name = '%s'", t->cfg.keyspace);
		}
		if (exists(t, q, name, &failed) || failed) {
			if (!failed)
				printf("exists  %s%s%s\n", i ? t->cfg.keyspace : "keyspace ",
				       i ? "." : "", name);
			continue;
		}
		statement(t, o, repl, i, cql, sizeof(cql));
		/* CREATE ... IF NOT EXISTS: idempotent, so safe to send again. */
		if (tool_run_retrying(t, NULL, cql, NULL, 0, &a) != 0) {
			fprintf(stderr, "%s: %s: %s\n", TOOL_NAME, cql, a.reason);
			failed = 1;
		} else {
			printf("created %s%s%s\n", i ? t->cfg.keyspace : "keyspace ", i ? "." : "",
			       name);
			created++;
		}
		tool_answer_free(&a);
		/* Keyspaces creates a keyspace asynchronously too: wait until it is listed. */
		for (int w = 0; i == 0 && !failed && o->keyspaces && w < TOOL_SCHEMA_WAIT_S &&
		     !exists(t, q, name, &failed); w++)
			tool_sleep(t, TOOL_SCHEMA_POLL_MS);
	}
	if (failed)
		return TOOL_EXIT_FAIL;
	if (o->keyspaces)
		return wait_active(t);
	printf("%d created, nothing dropped\n", created);
	return TOOL_EXIT_OK;
}

/* tool_schema - print and/or apply */
int tool_schema(struct tool *t, const struct tool_schema_opts *o)
{
	char repl[TOOL_REPLICATION_MAX] = "", cql[TOOL_STMT_MAX];
	size_t i;

	if (!o->keyspaces && (o->replication == NULL ||
			      replication_map(o->replication, repl, sizeof(repl)) != 0)) {
		fprintf(stderr, "%s: schema: %s; give --replication N (SimpleStrategy) or "
			"--replication dc1:3[,dc2:3] (NetworkTopologyStrategy) for Cassandra or "
			"ScyllaDB, or use Amazon Keyspaces (AWS_REGION, or --keyspaces)\n", TOOL_NAME,
			o->replication ? "bad --replication" : "no replication given");
		return TOOL_EXIT_USAGE;
	}
	if (o->print || !o->apply)
		for (i = 0; i <= TOOL_NTABLES; i++) {
			statement(t, o, repl, i, cql, sizeof(cql));
			printf("%s\n", cql);
		}
	return o->apply ? apply(t, o, repl) : TOOL_EXIT_OK;
}
