/*
 * map_registry - socketmap names and the queries behind them (see .h)
 */
#include <stdio.h>
#include <string.h>

#include "map_registry.h"
#include "result_format.h"

static const struct {
	const char *name;
	const char *columns;
	const char *table;
	const char *key;
	const char *format;
	enum search_kind search;
	enum search_parent parents;
} map_seed[] = {
	/*
	 * virtual_mailbox_domains is a plain string list to Postfix (the
	 * domain only); relay_domains a domain list whose subdomains match,
	 * relay_domains being in parent_domain_matches_subdomains by default.
	 */
	{"domains", "domain, active", "domains", "domain", "%s", SEARCH_DOMAIN,
	 SEARCH_PARENT_DEFAULT},
	{"relay_domains", "domain, active", "relay_domains", "domain", "%s", SEARCH_DOMAIN,
	 SEARCH_PARENT_PLAIN},
	{"users", "email, active", "users", "email", "%d/%u/", SEARCH_VIRTUAL,
	 SEARCH_PARENT_DEFAULT},
	{"virtual_aliases", "destination", "virtual_aliases", "alias", "%s", SEARCH_VIRTUAL,
	 SEARCH_PARENT_DEFAULT},
	{"transport_maps", "transport", "transport_maps", "address", "%s", SEARCH_TRANSPORT,
	 SEARCH_PARENT_DEFAULT},
	{"access_maps", "action", "access_maps", "sender", "%s", SEARCH_ACCESS,
	 SEARCH_PARENT_DEFAULT},
};

/* map_keyspace_valid - letters, digits and '_', 1 to 48 of them */
int map_keyspace_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > MAP_KEYSPACE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

/* map_registry_defaults - the seed schema's maps */
int map_registry_defaults(struct map_registry *reg, const char *ks,
			  const struct map_defaults *d, char *err, size_t errlen)
{
	size_t i;
	int quoted = 0;
	const char *p;

	if (!map_keyspace_valid(ks)) {
		snprintf(err, errlen, "keyspace name '%s' is not 1 to %d letters, digits or '_'",
			 ks, MAP_KEYSPACE_MAX);
		return -1;
	}
	/* Unquoted CQL names are folded to lower case; keep the user's case. */
	for (p = ks; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			quoted = 1;
	memset(reg, 0, sizeof(*reg));
	for (i = 0; i < sizeof(map_seed) / sizeof(map_seed[0]); i++) {
		struct map_def *m = &reg->maps[reg->n];

		m->id = (uint32_t)reg->n++;
		m->search.kind = map_seed[i].search;
		snprintf(m->search.delimiters, sizeof(m->search.delimiters), "%s",
			 d->delimiters);
		m->search.parent_domains = map_seed[i].parents;
		m->fold_case = 1;
		m->propagate_ext = !strcmp(map_seed[i].name, "virtual_aliases");
		m->ttl_ms = d->ttl_ms;
		m->negative_ttl_ms = d->negative_ttl_ms;
		m->stale_ms = d->stale_ms;

		snprintf(m->name, sizeof(m->name), "%s", map_seed[i].name);
		snprintf(m->query, sizeof(m->query),
			 quoted ? "SELECT %s FROM \"%s\".%s WHERE %s = ?"
				: "SELECT %s FROM %s.%s WHERE %s = ?",
			 map_seed[i].columns, ks, map_seed[i].table,
			 map_seed[i].key);
		snprintf(m->result_format, sizeof(m->result_format), "%s",
			 map_seed[i].format);
	}
	return 0;
}

/* map_registry_stamp - the next generation, on the registry and its maps */
void map_registry_stamp(struct map_registry *reg,
			const struct map_registry *prev)
{
	size_t i;

	reg->generation = (prev ? prev->generation : 0) + 1;
	for (i = 0; i < reg->n; i++)
		reg->maps[i].gen = reg->generation;
}

/* map_registry_current - same generation as the map now in its slot */
int map_registry_current(const struct map_registry *reg,
			 const struct map_def *def)
{
	return def->id < reg->n && reg->maps[def->id].gen == def->gen &&
	       def->gen != 0;
}

/* map_registry_find - look a map up by name (exact, case-sensitive) */
struct map_def *map_registry_find(struct map_registry *reg, const char *name,
				  size_t len)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (strlen(reg->maps[i].name) == len &&
		    memcmp(reg->maps[i].name, name, len) == 0)
			return &reg->maps[i];
	return NULL;
}
