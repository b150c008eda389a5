/*
 * cql_hosts - the CASSANDRA_HOSTS list parser
 *
 * DESCRIPTION
 *	See cql_hosts.h. Every length is checked before a byte is copied:
 *	the list comes from the environment, and a name longer than
 *	CQL_HOST_MAX is an error, never truncated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_hosts.h"

/*
 * host_bounds - where the name of entry [p, end) starts and ends (*name,
 * *hend) and its ":port" (*colon, NULL if none); -1 with err set
 */
static int host_bounds(const char *p, const char *end, const char **name,
		       const char **hend, const char **colon, char *err, size_t errlen)
{
	if (*p == '[') {		/* [v6]:port */
		*hend = memchr(p, ']', (size_t)(end - p));
		if (*hend == NULL) {
			snprintf(err, errlen, "unterminated '[' in host '%.*s'",
				 (int)(end - p), p);
			return -1;
		}
		*colon = *hend + 1 < end && (*hend)[1] == ':' ? *hend + 1 : NULL;
		if (*hend + 1 < end && *colon == NULL) {
			snprintf(err, errlen, "junk after ']' in host '%.*s'",
				 (int)(end - p), p);
			return -1;
		}
		*name = p + 1;
		return 0;
	}
	*colon = memchr(p, ':', (size_t)(end - p));
	if (*colon && memchr(*colon + 1, ':', (size_t)(end - *colon - 1))) {
		snprintf(err, errlen, "IPv6 address '%.*s' must be written [addr]:port",
			 (int)(end - p), p);
		return -1;
	}
	*hend = *colon ? *colon : end;
	*name = p;
	return 0;
}

/* cql_hosts_parse - split a host list */
int cql_hosts_parse(const char *list, uint16_t default_port,
		    struct cql_host_spec hosts[CQL_MAX_HOSTS], size_t *nhosts,
		    char *err, size_t errlen)
{
	const char *p = list, *end, *colon, *hend;
	struct cql_host_spec *h;

	*nhosts = 0;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		end = p + strcspn(p, ", ");
		if (*nhosts == CQL_MAX_HOSTS) {
			snprintf(err, errlen, "more than %d hosts", CQL_MAX_HOSTS);
			return -1;
		}
		h = &hosts[*nhosts];
		h->port = default_port;
		if (host_bounds(p, end, &p, &hend, &colon, err, errlen) != 0)
			return -1;
		if (hend == p || (size_t)(hend - p) >= sizeof(h->host)) {
			snprintf(err, errlen, "bad host name in '%s'", list);
			return -1;
		}
		memcpy(h->host, p, (size_t)(hend - p));
		h->host[hend - p] = 0;
		if (colon) {
			char *e;
			long port = strtol(colon + 1, &e, 10);

			if (e != end || port < 1 || port > CQL_PORT_MAX) {
				snprintf(err, errlen, "bad port in '%.*s'",
					 (int)(end - colon - 1), colon + 1);
				return -1;
			}
			h->port = (uint16_t)port;
		}
		(*nhosts)++;
		p = end;
	}
	if (*nhosts == 0) {
		snprintf(err, errlen, "no host given");
		return -1;
	}
	return 0;
}
