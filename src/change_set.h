/*
 * change_set - the serials of the change table, and which maps they concern
 *
 * SYNOPSIS
 *	#include "change_set.h"
 *
 *	int change_table_of_query(const char *query, char *table, size_t size);
 *
 *	int change_set_read(struct change_set *set, struct cql_rows *rows,
 *			    const char *const *tables, size_t ntables);
 *
 *	int change_set_changed(const struct change_set *before,
 *			       const struct change_set *now, const char *table);
 *
 * DESCRIPTION
 *	A writer (postfix-aws-cassandra-admin) changes a map's rows, then
 *	sets a new serial for that table in <keyspace>.pac_changes
 *	(table_name text PRIMARY KEY, serial bigint). Each poll reads the
 *	whole table; a map whose table's serial differs from the last poll
 *	has changed, and its cached answers go (changes_poll.h).
 *
 *	change_table_of_query() names the table a map reads: the one after
 *	FROM in its SELECT, without the keyspace, folded to lower case unless
 *	double-quoted (CQL identifiers are case-insensitive unless quoted).
 *	change_set_read() keeps the serials of the tables listed (the maps'
 *	tables, NULL entries ignored; other rows are skipped) from a Rows result that has columns
 *	table_name (text) and serial (an integer). change_set_changed() says
 *	whether a table's serial differs between two polls: a row that
 *	appeared or went counts as a change, a table absent from both does not.
 *	change_set_plan() turns that into the maps to drop, with each changed
 *	map dropped once more at the poll after: a read at LOCAL_ONE right
 *	after the first drop may come from a replica the change had not
 *	reached yet ("Supported Apache Cassandra read and write consistency
 *	levels and associated costs", Amazon Keyspaces Developer Guide).
 *
 *	Pure: no I/O, no clock.
 * DIAGNOSTICS
 *	change_table_of_query() returns -1 when the query has no FROM followed
 *	by a table name of at most CHANGE_TABLE_MAX bytes; change_set_read()
 *	returns -1 when the columns are missing or of another type, or a row
 *	does not decode.
 */
#ifndef PAC_CHANGE_SET_H
#define PAC_CHANGE_SET_H

#include <stddef.h>
#include <stdint.h>

struct cql_rows;

#define CHANGE_TABLE_MAX	48	/* bytes in a table name (Cassandra's limit) */
#define CHANGE_SET_MAX		32	/* tables followed: one per map at most (MAP_MAX) */

struct change_set {
	size_t n;
	char table[CHANGE_SET_MAX][CHANGE_TABLE_MAX + 1];
	int64_t serial[CHANGE_SET_MAX];
};

/* change_table_of_query - the table after FROM; 0, or -1 when there is none */
int change_table_of_query(const char *query, char *table, size_t size);

/*
 * change_set_read - set becomes the serials of the listed tables in rows
 * (whole result, read from its start); 0, or -1 (set then empty)
 */
int change_set_read(struct change_set *set, struct cql_rows *rows,
		    const char *const *tables, size_t ntables);

/* change_set_changed - 1 if table's serial differs between the two polls */
int change_set_changed(const struct change_set *before,
		       const struct change_set *now, const char *table);

/*
 * change_set_plan - the maps to drop after a poll, bit i for map i:
 * those whose table (tables[i]; NULL: not known) changed from before to
 * now, which also go into *changed, and those in again (the *changed of
 * the previous poll), dropped once more. At most 64 maps.
 */
uint64_t change_set_plan(const struct change_set *before, const struct change_set *now,
			 const char *const *tables, size_t nmaps, uint64_t again,
			 uint64_t *changed);

#endif
