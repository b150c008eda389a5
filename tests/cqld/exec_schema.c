/*
 * exec_schema - CREATE and DROP of keyspaces and tables in cqld
 *
 * SYNOPSIS
 *	#include "exec_int.h"
 *
 *	int ex_create_keyspace(struct ex_ctx *x, const char *keyspace,
 *		struct buf *out)
 *
 *	int ex_create_table(struct ex_ctx *x, const char *keyspace,
 *		struct buf *out)
 *
 *	int ex_drop(struct ex_ctx *x, const char *keyspace, struct buf *out)
 *
 * DESCRIPTION
 *	Schema changes, with Cassandra 3.11's names rule and its errors
 *	(AlreadyExists, ConfigurationException), answered with a RESULT
 *	SchemaChange. After each change system_schema and the schema
 *	version are rebuilt (ex_schema_refresh, exec_system.c), so that
 *	drivers reading them see the new schema. System keyspaces are
 *	created only by cqld itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

#define EX_KS_NAME_MAX		48	/* Cassandra's limit for names */

/* result_schema_change - RESULT SchemaChange (v3/v4 layout) */
static void result_schema_change(struct buf *out, const char *change,
				 const char *ks, const char *table)
{
	cql_wr_int(out, CQL_RESULT_SCHEMA_CHANGE);
	cql_wr_cstring(out, change);
	cql_wr_cstring(out, table ? "TABLE" : "KEYSPACE");
	cql_wr_cstring(out, ks);
	if (table)
		cql_wr_cstring(out, table);
}

/* name_ok - Cassandra's rule for keyspace and table names */
static int name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > EX_KS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

/* ex_create_keyspace - CREATE KEYSPACE */
int ex_create_keyspace(struct ex_ctx *x, const char *keyspace,
		       struct buf *out)
{
	const struct cl_stmt *st = x->st;

	(void)keyspace;		/* CREATE KEYSPACE names its keyspace */

	if (!name_ok(st->ks)) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Keyspace name must not "
			     "be empty, more than %d characters long, or "
			     "contain non-alphanumeric-underscore characters "
			     "(got \"%s\")", EX_KS_NAME_MAX, st->ks);
		return -1;
	}
	if (st_keyspace_find(x->s, st->ks)) {
		if (st->if_not_exists) {
			ex_result_void(out);
			return 0;
		}
		ex_set_error(x->err, CQL_ERR_ALREADY_EXISTS, "Cannot add "
			     "existing keyspace \"%s\"", st->ks);
		snprintf(x->err->keyspace, sizeof(x->err->keyspace), "%.63s",
			 st->ks);
		return -1;
	}
	if (ex_is_system_keyspace(st->ks) && !ex_internal)
		return ex_writable(x, st->ks);
	if (st_keyspace_create(x->s, st->ks, &st->replication,
			       st->durable_writes != 0) == NULL) {
		ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
		return -1;
	}
	if (ex_is_system_keyspace(st->ks))
		st_keyspace_find(x->s, st->ks)->system = 1;
	ex_schema_refresh(x->s);
	result_schema_change(out, "CREATED", st->ks, NULL);
	return 0;
}

/* ex_create_table - CREATE TABLE */
int ex_create_table(struct ex_ctx *x, const char *keyspace,
			     struct buf *out)
{
	const struct cl_stmt *st = x->st;
	char ks[CL_NAME_MAX], table[CL_NAME_MAX], msg[CQL_ERROR_MSG_MAX];
	struct st_keyspace *k;

	if (ex_target_or_error(x, keyspace, ks, table) < 0)
		return -1;
	if (!name_ok(table)) {
		ex_set_error(x->err, CQL_ERR_INVALID, "Table name must not be "
			     "empty, more than %d characters long, or contain "
			     "non-alphanumeric-underscore characters (got "
			     "\"%s\")", EX_KS_NAME_MAX, table);
		return -1;
	}
	if ((k = st_keyspace_find(x->s, ks)) == NULL) {
		ex_set_error(x->err, CQL_ERR_CONFIG, "Cannot add table '%s' to "
			     "non existing keyspace '%s'.", table, ks);
		return -1;
	}
	if (ex_writable(x, ks) < 0)
		return -1;
	if (st_table_find(k, table)) {
		if (st->if_not_exists) {
			ex_result_void(out);
			return 0;
		}
		ex_set_error(x->err, CQL_ERR_ALREADY_EXISTS, "Cannot add "
			     "already existing table \"%s\" to keyspace \"%s\"",
			     table, ks);
		snprintf(x->err->keyspace, sizeof(x->err->keyspace), "%.63s", ks);
		snprintf(x->err->table, sizeof(x->err->table), "%.63s", table);
		return -1;
	}
	{
		/* st_table_create wants the table name in the statement */
		struct cl_stmt *copy = malloc(sizeof(*copy));
		struct st_table *t;

		if (copy == NULL) {
			ex_set_error(x->err, CQL_ERR_SERVER, "out of memory");
			return -1;
		}
		memcpy(copy, st, sizeof(*copy));
		snprintf(copy->table, sizeof(copy->table), "%s", table);
		t = st_table_create(x->s, k, copy, msg, sizeof(msg));
		free(copy);		/* shallow copy: owns nothing */
		if (t == NULL) {
			ex_set_error(x->err, CQL_ERR_INVALID, "%s", msg);
			return -1;
		}
	}
	ex_schema_refresh(x->s);
	result_schema_change(out, "CREATED", ks, table);
	return 0;
}

/* ex_drop - DROP KEYSPACE / DROP TABLE */
int ex_drop(struct ex_ctx *x, const char *keyspace,
		     struct buf *out)
{
	const struct cl_stmt *st = x->st;
	char ks[CL_NAME_MAX], table[CL_NAME_MAX];
	struct st_keyspace *k;

	if (ex_target_or_error(x, keyspace, ks, table) < 0)
		return -1;
	if (ex_writable(x, ks) < 0)
		return -1;
	k = st_keyspace_find(x->s, ks);
	if (st->kind == CL_DROP_KEYSPACE) {
		if (k == NULL) {
			if (st->if_exists) {
				ex_result_void(out);
				return 0;
			}
			ex_set_error(x->err, CQL_ERR_CONFIG, "Cannot drop non "
				     "existing keyspace '%s'.", ks);
			return -1;
		}
		st_keyspace_drop(x->s, ks);
		ex_schema_refresh(x->s);
		result_schema_change(out, "DROPPED", ks, NULL);
		return 0;
	}
	if (k == NULL || st_table_find(k, table) == NULL) {
		if (st->if_exists) {
			ex_result_void(out);
			return 0;
		}
		if (k == NULL)
			ex_set_error(x->err, CQL_ERR_INVALID, "Keyspace '%s' does "
				     "not exist", ks);
		else
			ex_set_error(x->err, CQL_ERR_CONFIG, "Cannot drop non "
				     "existing table '%s' in keyspace '%s'.",
				     table, ks);
		return -1;
	}
	st_table_drop(x->s, k, table);
	ex_schema_refresh(x->s);
	result_schema_change(out, "DROPPED", ks, table);
	return 0;
}
