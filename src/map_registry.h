/*
 * map_registry - socketmap names and the queries behind them
 *
 * SYNOPSIS
 *	#include "map_registry.h"
 *
 * DESCRIPTION
 *	A map is what Postfix names in socketmap:inet:host:port:NAME. Each
 *	has a CQL SELECT with one bind marker for the key, whose first
 *	column is the value (a column named "active", if selected, gates the
 *	row), and a result_format applied to each value.
 *
 *	The defaults serve the seed schema with no configuration at all:
 *
 *	  domains         SELECT domain, active FROM ks.domains WHERE domain = ?        %s
 *	  relay_domains   SELECT domain, active FROM ks.relay_domains WHERE domain = ?  %s
 *	  users           SELECT email, active FROM ks.users WHERE email = ?            %d/%u/
 *	  virtual_aliases SELECT destination FROM ks.virtual_aliases WHERE alias = ?    %s
 *	  transport_maps  SELECT transport FROM ks.transport_maps WHERE address = ?     %s
 *	  access_maps     SELECT action FROM ks.access_maps WHERE sender = ?            %s
 *
 *	with the search orders of search_order.h: domains and relay_domains
 *	"domain", users and virtual_aliases "virtual", transport_maps
 *	"transport", access_maps "access"; relay_domains tries parent domains
 *	("example.com" for sub.example.com) as Postfix does for relay_domains
 *	by default. virtual_aliases propagates an
 *	unmatched address extension into its result (extension.h), as
 *	Postfix does by default for virtual_alias_maps.
 *
 *	Each build of the registry (startup, every reload) is stamped with
 *	a new generation, carried by every map, so a copy of a map taken by
 *	a lookup in flight can tell whether it is still the live one.
 */
#ifndef PAC_MAP_REGISTRY_H
#define PAC_MAP_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "search_order.h"
#include "socketmap.h"

#define MAP_MAX			32	/* maps in one registry */
#define MAP_QUERY_MAX		1024	/* bytes in a map's CQL */
#define MAP_FORMAT_MAX		256	/* bytes in a result_format */
#define MAP_KEYSPACE_MAX	48	/* Cassandra's limit on keyspace names */

struct cql_stmt;

#define MAP_DEFAULT_TTL_MS		300000		/* positive answers: 5 min */
#define MAP_DEFAULT_NEGATIVE_TTL_MS	30000		/* "no row": 30 s */
#define MAP_DEFAULT_STALE_MS		3600000		/* served when Cassandra fails: 1 h */

struct map_def {
	char name[SOCKETMAP_NAME_MAX + 1];
	char query[MAP_QUERY_MAX];
	char result_format[MAP_FORMAT_MAX];
	struct search_settings search;
	int fold_case;
	int propagate_ext;		/* put an unmatched extension into the result */
	int64_t ttl_ms;			/* 0: never cached */
	int64_t negative_ttl_ms;
	int64_t stale_ms;		/* stale-if-error window after expiry */
	uint32_t id;			/* index in the registry: cache key part */
	uint64_t gen;			/* the registry build it belongs to */
	struct cql_stmt *stmt;		/* set when registered with the session */
};

/* Defaults that apply to every map unless its own section says otherwise. */
struct map_defaults {
	char delimiters[SEARCH_DELIM_MAX + 1];	/* RECIPIENT_DELIMITER: "+" */
	int64_t ttl_ms, negative_ttl_ms, stale_ms;
};

/*
 * A reload overwrites the live registry in place, slot by slot. The
 * generation tells the definitions apart: a map_def whose gen is not the
 * one in its slot (maps[id]) belongs to a registry that was replaced.
 */
struct map_registry {
	struct map_def maps[MAP_MAX];
	size_t n;
	uint64_t generation;		/* 0 until stamped */
};

/* map_keyspace_valid - 1 if name is a keyspace name we can put in CQL */
int map_keyspace_valid(const char *name);

/* map_registry_defaults - the six seed maps in keyspace ks; -1 on error */
int map_registry_defaults(struct map_registry *reg, const char *ks,
			  const struct map_defaults *d, char *err, size_t errlen);

/*
 * map_registry_stamp - give a freshly built registry, and each of its
 * maps, the generation after the one of prev (the live registry; NULL at
 * startup), so no definition of one build is taken for another's.
 */
void map_registry_stamp(struct map_registry *reg,
			const struct map_registry *prev);

/* map_registry_current - 1 if def is still the map live in its slot */
int map_registry_current(const struct map_registry *reg,
			 const struct map_def *def);

/* map_registry_find - the map of that name, or NULL */
struct map_def *map_registry_find(struct map_registry *reg, const char *name,
				  size_t len);

#endif
