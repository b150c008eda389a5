/*
 * changes_poll - fleet-wide cache invalidation: read the change table now and then
 *
 * SYNOPSIS
 *	#include "changes_poll.h"
 *
 *	struct changes_poll *changes_poll_new(struct event_base *base,
 *		struct cql_failover *cql, struct map_registry *reg,
 *		struct cache *cache, const char *keyspace, int64_t interval_ms,
 *		int64_t cache_ttl_ms);
 *
 * DESCRIPTION
 *	Whoever changes a map's rows (postfix-aws-cassandra-admin) then sets
 *	a new serial for that table in <keyspace>.pac_changes. Every
 *	interval_ms (CHANGES_POLL_SECONDS) this module reads the whole table,
 *	one read per poll (SELECT table_name, serial, paged as every read),
 *	and drops the cached answers of each map whose table's serial changed
 *	since the last poll (cache_drop_map: O(1); reads in flight from before
 *	are neither cached nor shared, see lookup_engine.h). The first
 *	successful poll only records the serials. A dropped map is dropped
 *	once more at the next poll, for a read at LOCAL_ONE that raced the
 *	write's replication. So a mailbox deleted on one
 *	server is refused by every server within about one interval, instead
 *	of up to CACHE_TTL.
 *
 *	The poll never changes an answer by itself: a failed poll is logged
 *	(rate limited) and counted, and the cache is kept. Its statement is
 *	one the maps do without (cql_failover_add_aux, in every host group): a node that refuses it
 *	still serves lookups. A table that does not exist (or cannot be read)
 *	is said once ("pac_changes not found: fleet invalidation off, cached
 *	answers live up to CACHE_TTL"), and looked for again every
 *	CHANGES_OFF_RETRY_MS in case it is created.
 *
 *	The maps' tables are read from their queries at every poll
 *	(change_set.h), so a reload (SIGHUP) needs nothing from here.
 */
#ifndef PAC_CHANGES_POLL_H
#define PAC_CHANGES_POLL_H

#include <stdint.h>

#define CHANGES_TABLE		"pac_changes"
#define CHANGES_OFF_RETRY_MS	300000	/* look for a missing change table: 5 min */
#define CHANGES_WAIT_MS		1000	/* first poll, and while not connected */

struct event_base;
struct cql_failover;
struct map_registry;
struct cache;
struct changes_poll;

struct changes_poll_stats {
	uint64_t polls;			/* reads of the change table that ended */
	uint64_t failures;		/* of which failed, or could not start */
	uint64_t maps_invalidated;	/* maps whose cached answers were dropped */
	int table_found;		/* the last poll read the table */
};

/*
 * changes_poll_new - register the statement and arm the first poll, for
 * the maps of reg (the live registry) and cache (not NULL: without a
 * cache there is nothing to drop); NULL when out of memory
 */
struct changes_poll *changes_poll_new(struct event_base *base, struct cql_failover *cql,
				      struct map_registry *reg, struct cache *cache,
				      const char *keyspace, int64_t interval_ms,
				      int64_t cache_ttl_ms);

/* changes_poll_stats - counters for metrics */
const struct changes_poll_stats *changes_poll_stats(const struct changes_poll *p);

/* changes_poll_free - stop; a read in flight then answers into nothing. NULL is fine */
void changes_poll_free(struct changes_poll *p);

#endif
