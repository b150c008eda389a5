/*
 * tool_maps - the six maps of the seed schema, as the admin program writes them
 *
 * SYNOPSIS
 *	#include "tool/tool.h"
 *
 * DESCRIPTION
 *	The tables, key columns and value columns of the seed schema
 *	(packaging/schema/keyspaces.cql, cassandra.cql), and the daemon's result format of each
 *	(map_registry.c): users answers "%d/%u/", the mailbox path an old
 *	virtual_mailbox_maps file holds as its value.
 */
#include <string.h>

#include "tool/tool.h"

static const struct tool_map tool_maps[] = {
	{"domains", "domain", "active", TOOL_MAP_ACTIVE, "%s"},
	{"relay_domains", "domain", "active", TOOL_MAP_ACTIVE, "%s"},
	{"users", "email", "active", TOOL_MAP_ACTIVE, "%d/%u/"},
	{"virtual_aliases", "alias", "destination", TOOL_MAP_VALUE, "%s"},
	{"transport_maps", "address", "transport", TOOL_MAP_VALUE, "%s"},
	{"access_maps", "sender", "action", TOOL_MAP_VALUE, "%s"},
};

#define TOOL_NMAPS	(sizeof(tool_maps) / sizeof(tool_maps[0]))

/* tool_map_find - the map called name */
const struct tool_map *tool_map_find(const char *name)
{
	size_t i;

	for (i = 0; i < TOOL_NMAPS; i++)
		if (strcmp(tool_maps[i].name, name) == 0)
			return &tool_maps[i];
	return NULL;
}

/* tool_map_at - map i */
const struct tool_map *tool_map_at(size_t i)
{
	return i < TOOL_NMAPS ? &tool_maps[i] : NULL;
}

/* tool_map_names - the names, for usage and error messages */
const char *tool_map_names(void)
{
	return "domains, relay_domains, users, virtual_aliases, transport_maps, access_maps";
}
