/*
 * config_file - the optional map configuration file (pure parser)
 *
 * SYNOPSIS
 *	#include "config_file.h"
 *
 * DESCRIPTION
 *	One section per map; a section named like a default map changes it,
 *	any other name adds a map. Blank lines and lines starting with ';'
 *	are ignored; a '#' at the start of a line or after a blank, outside
 *	quotes, starts a comment to the end of the line (so a value cannot
 *	hold " #"); "name = value" sets a parameter:
 *
 *	  [users]
 *	  query          = SELECT email, active FROM mailion.users WHERE email = ?
 *	  result_format  = %d/%u/
 *	  search         = virtual      (exact, virtual, access, transport, domain)
 *	  parent_domains = no           (yes, dot, no; default: Postfix's for the kind)
 *	  fold_case      = yes
 *	  propagate_extension = no     (yes: user+foo@d matched by user@d puts
 *	                                "+foo" into each result address)
 *	  cache_ttl      = 300          (seconds; 0: never cached)
 *	  negative_ttl   = 30
 *	  stale_ttl      = 3600
 *
 *	query is a CQL SELECT with exactly one bind marker, for the key; its
 *	first column is the value, and a column named "active", if selected,
 *	gates the row. Every error names the line.
 */
#ifndef PAC_CONFIG_FILE_H
#define PAC_CONFIG_FILE_H

#include <stddef.h>

#include "map_registry.h"

#define CONFIG_FILE_DEFAULT	"/etc/postfix-aws-cassandra/postfix-aws-cassandra.conf"
#define CONFIG_FILE_MAX		(1024 * 1024)	/* bytes */

/*
 * config_file_parse - apply text to reg, whose maps are the defaults.
 * New maps take their defaults from d. Returns 0, or -1 with "line N:
 * ..." in err; reg is then unspecified (parse into a copy).
 */
int config_file_parse(const char *text, size_t len, struct map_registry *reg,
		      const struct map_defaults *d, char *err, size_t errlen);

/* config_query_check - 0 if q is a SELECT with one bind marker */
int config_query_check(const char *q, const char **why);

#endif
