/*
 * tool_rows - export, get, set, delete, enable and disable of map rows
 *
 * SYNOPSIS
 *	#include "tool/tool_cmd.h"
 *
 * DESCRIPTION
 *	export prints a map in Postfix's table source format, "key<TAB>value"
 *	per row as `postmap -s` prints, streamed page by page; the value of
 *	domains, relay_domains and users is what the daemon answers for the
 *	key (its result format), so that `import` of an export writes
 *	nothing. A row the daemon would not answer (inactive, or a null
 *	value) is printed as a comment, "# inactive: KEY".
 *
 *	get prints one row the same way (exit 1 without one); set writes
 *	one (a value for virtual_aliases, transport_maps, access_maps;
 *	active = true for the others); delete removes one; enable and
 *	disable set `active` of an existing row. Keys are folded to lower
 *	case as the daemon folds what it looks up. Each write bumps the
 *	table's serial in pac_changes.
 */
#include <stdio.h>
#include <string.h>

#include "lookup_key.h"
#include "result_format.h"
#include "tool/tool_cmd.h"

/* tool_map_stmt - prepare one of m's statements */
struct cql_stmt *tool_map_stmt(struct tool *t, const struct tool_map *m, enum tool_stmt_kind k)
{
	char cql[TOOL_STMT_MAX];
	const char *ks = t->cfg.keyspace;

	switch (k) {
	case TOOL_STMT_PUT:
		if (m->kind == TOOL_MAP_ACTIVE)
			snprintf(cql, sizeof(cql), "INSERT INTO %s.%s (%s, active) VALUES (?, true)",
				 ks, m->name, m->key);
		else
			snprintf(cql, sizeof(cql), "INSERT INTO %s.%s (%s, %s) VALUES (?, ?)",
				 ks, m->name, m->key, m->column);
		break;
	case TOOL_STMT_DELETE:
		snprintf(cql, sizeof(cql), "DELETE FROM %s.%s WHERE %s = ?", ks, m->name, m->key);
		break;
	case TOOL_STMT_GET:
		snprintf(cql, sizeof(cql), "SELECT %s, %s FROM %s.%s WHERE %s = ?", m->key,
			 m->column, ks, m->name, m->key);
		break;
	default:
		snprintf(cql, sizeof(cql), "UPDATE %s.%s SET active = ? WHERE %s = ?", ks,
			 m->name, m->key);
		break;
	}
	return tool_prepare(t, cql);
}

/* print_row - one row in source format, or as a comment when the daemon would not answer it */
static int print_row(void *arg, const char *key, const char *value)
{
	const struct tool_map *m = arg;
	struct buf out;

	if (value == NULL || *value == 0 ||
	    (m->kind == TOOL_MAP_ACTIVE && strcmp(value, "true") != 0)) {
		printf("# %s: %s\n", m->kind == TOOL_MAP_ACTIVE ? "inactive" : "no value", key);
		return 0;
	}
	if (m->kind == TOOL_MAP_VALUE) {
		printf("%s\t%s\n", key, value);
		return 0;
	}
	buf_init(&out);
	if (!result_format_apply(m->format, key, strlen(key), &out))
		buf_append_str(&out, key);
	printf("%s\t%.*s\n", key, (int)out.len, (const char *)out.data);
	buf_free(&out);
	return 0;
}

/* tool_export - the whole map on stdout */
int tool_export(struct tool *t, const struct tool_map *m)
{
	int rc = tool_scan(t, m, print_row, (void *)m);

	fflush(stdout);
	return rc == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

/* fold_key - the key as the daemon looks it up; -1 with a message */
static int fold_key(const char *key, char *out)
{
	const char *why;

	if (!lookup_key_valid(key, strlen(key), &why)) {
		fprintf(stderr, "%s: key \"%s\": %s\n", TOOL_NAME, key, why);
		return -1;
	}
	lookup_key_fold(key, strlen(key), out);
	return 0;
}

/*
 * keyed - the folded key (into k, bound as v) and m's statement of kind;
 * TOOL_EXIT_OK, or the exit code of what went wrong (a message printed)
 */
static int keyed(struct tool *t, const struct tool_map *m, const char *key,
		 enum tool_stmt_kind kind, char *k, struct cql_value *v, struct cql_stmt **st)
{
	if (fold_key(key, k) != 0)
		return TOOL_EXIT_USAGE;
	if ((*st = tool_map_stmt(t, m, kind)) == NULL)
		return TOOL_EXIT_FAIL;
	v->p = k;
	v->len = (int32_t)strlen(k);
	return TOOL_EXIT_OK;
}

/* tool_get - one row */
int tool_get(struct tool *t, const struct tool_map *m, const char *key)
{
	char k[LOOKUP_KEY_MAX + 1];
	struct cql_stmt *st;
	struct tool_answer a;
	struct cql_value v;
	int rc;

	if ((rc = keyed(t, m, key, TOOL_STMT_GET, k, &v, &st)) != TOOL_EXIT_OK)
		return rc;
	rc = TOOL_EXIT_FAIL;
	if (tool_run_retrying(t, st, NULL, &v, 1, &a) != 0)
		fprintf(stderr, "%s: %s\n", TOOL_NAME, a.reason);
	else if (a.nrows == 0)
		fprintf(stderr, "%s: %s: no row for %s\n", TOOL_NAME, m->name, k);
	else
		rc = print_row((void *)m, tool_answer_cell(&a, 0, 0),
			       tool_answer_cell(&a, 0, 1)) == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
	tool_answer_free(&a);
	return rc;
}

/* write_one - one statement with one or two values, then the change serial */
static int write_one(struct tool *t, const struct tool_map *m, struct cql_stmt *st,
		     const struct cql_value *v, size_t n, const char *done)
{
	struct tool_answer a;

	if (tool_run_retrying(t, st, NULL, v, n, &a) != 0) {
		fprintf(stderr, "%s: %s: %s\n", TOOL_NAME, m->name, a.reason);
		tool_answer_free(&a);
		return TOOL_EXIT_FAIL;
	}
	tool_answer_free(&a);
	tool_bump_change(t, m->name);
	printf("%s\n", done);
	return TOOL_EXIT_OK;
}

/* tool_set - write one row */
int tool_set(struct tool *t, const struct tool_map *m, const char *key, const char *value)
{
	char k[LOOKUP_KEY_MAX + 1], done[LOOKUP_KEY_MAX + 64];
	struct cql_stmt *st;
	struct cql_value v[2];
	int rc;

	if (m->kind == TOOL_MAP_VALUE && (value == NULL || *value == 0)) {
		fprintf(stderr, "%s: set %s needs a value: set %s KEY VALUE\n", TOOL_NAME,
			m->name, m->name);
		return TOOL_EXIT_USAGE;
	}
	if ((rc = keyed(t, m, key, TOOL_STMT_PUT, k, &v[0], &st)) != TOOL_EXIT_OK)
		return rc;
	v[1].p = value;
	v[1].len = value ? (int32_t)strlen(value) : -1;
	snprintf(done, sizeof(done), "%s: set %s", m->name, k);
	return write_one(t, m, st, v, m->kind == TOOL_MAP_VALUE ? 2 : 1, done);
}

/* tool_delete - remove one row */
int tool_delete(struct tool *t, const struct tool_map *m, const char *key)
{
	char k[LOOKUP_KEY_MAX + 1], done[LOOKUP_KEY_MAX + 64];
	struct cql_stmt *st;
	struct cql_value v;
	int rc;

	if ((rc = keyed(t, m, key, TOOL_STMT_DELETE, k, &v, &st)) != TOOL_EXIT_OK)
		return rc;
	snprintf(done, sizeof(done), "%s: deleted %s", m->name, k);
	return write_one(t, m, st, &v, 1, done);
}

/* tool_enable - set active of an existing row */
int tool_enable(struct tool *t, const struct tool_map *m, const char *key, int on)
{
	char k[LOOKUP_KEY_MAX + 1], done[LOOKUP_KEY_MAX + 64];
	struct cql_stmt *get, *st;
	struct tool_answer a;
	struct cql_value v[2];
	uint8_t b = on ? 1 : 0;
	int rc;

	if (m->kind != TOOL_MAP_ACTIVE) {
		fprintf(stderr, "%s: %s has no active column (use set or delete)\n", TOOL_NAME,
			m->name);
		return TOOL_EXIT_USAGE;
	}
	if (fold_key(key, k) != 0)
		return TOOL_EXIT_USAGE;
	if ((get = tool_map_stmt(t, m, TOOL_STMT_GET)) == NULL ||
	    (st = tool_map_stmt(t, m, TOOL_STMT_ACTIVE)) == NULL)
		return TOOL_EXIT_FAIL;
	v[0].p = k;
	v[0].len = (int32_t)strlen(k);
	/* UPDATE would create the row: enabling a key that is not there adds it. */
	rc = tool_run_retrying(t, get, NULL, v, 1, &a);
	if (rc != 0 || a.nrows == 0) {
		fprintf(stderr, "%s: %s: %s\n", TOOL_NAME, m->name,
			rc != 0 ? a.reason : "no such row (use set to add one)");
		tool_answer_free(&a);
		return TOOL_EXIT_FAIL;
	}
	tool_answer_free(&a);
	v[0].p = &b;
	v[0].len = 1;
	v[1].p = k;
	v[1].len = (int32_t)strlen(k);
	snprintf(done, sizeof(done), "%s: %s %s", m->name, on ? "enabled" : "disabled", k);
	return write_one(t, m, st, v, 2, done);
}
