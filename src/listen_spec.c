/*
 * listen_spec - parse the LISTEN list (see listen_spec.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "listen_spec.h"

#define LISTEN_UNIX		"unix:"
#define LISTEN_INET		"inet:"
#define LISTEN_PREFIX_LEN	(sizeof(LISTEN_UNIX) - 1)	/* both prefixes */

/* parse_port - decimal 0..65535 */
static int parse_port(const char *s, unsigned *port)
{
	char *end;
	long v;

	if (*s == 0)
		return -1;
	v = strtol(s, &end, 10);
	if (*end != 0 || v < 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* parse_one - one endpoint */
static int parse_one(const char *item, int allow_remote,
		     struct listen_endpoint *ep, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *rest, *colon;
	unsigned port;

	memset(ep, 0, sizeof(*ep));
	snprintf(ep->text, sizeof(ep->text), "%s", item);
	if (strncmp(item, LISTEN_UNIX, LISTEN_PREFIX_LEN) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ep->ss;
		const char *path = item + LISTEN_PREFIX_LEN;

		if (path[0] != '/') {
			snprintf(err, errlen, "'%s': a unix socket path must be absolute", item);
			return -1;
		}
		if (strlen(path) >= sizeof(sun->sun_path)) {
			snprintf(err, errlen, "'%s': path longer than %zu bytes", item,
				 sizeof(sun->sun_path) - 1);
			return -1;
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, path);
		ep->len = (socklen_t)sizeof(*sun);
		ep->is_unix = 1;
		return 0;
	}
	if (strncmp(item, LISTEN_INET, LISTEN_PREFIX_LEN) != 0) {
		snprintf(err, errlen, "'%s': expected inet:ADDRESS:PORT or unix:/PATH", item);
		return -1;
	}
	rest = item + LISTEN_PREFIX_LEN;
	if (*rest == '[') {
		const char *close = strchr(rest, ']');

		if (close == NULL || close[1] != ':' || (size_t)(close - rest - 1) >= sizeof(host)) {
			snprintf(err, errlen, "'%s': expected inet:[IPV6]:PORT", item);
			return -1;
		}
		memcpy(host, rest + 1, (size_t)(close - rest - 1));
		host[close - rest - 1] = 0;
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (colon == NULL || (size_t)(colon - rest) >= sizeof(host)) {
			snprintf(err, errlen, "'%s': expected inet:ADDRESS:PORT", item);
			return -1;
		}
		memcpy(host, rest, (size_t)(colon - rest));
		host[colon - rest] = 0;
	}
	if (parse_port(colon + 1, &port) != 0) {
		snprintf(err, errlen, "'%s': bad port", item);
		return -1;
	}
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ep->ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv6 address", item, host);
			return -1;
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		ep->len = (socklen_t)sizeof(*s6);
		if (!allow_remote && !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			goto remote;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ep->ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv4 address", item, host);
			return -1;
		}
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		ep->len = (socklen_t)sizeof(*s4);
		if (!allow_remote && (ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			goto remote;
	}
	return 0;
remote:
	snprintf(err, errlen, "'%s' is not a loopback address; socketmap has no "
		 "authentication, so set LISTEN_ALLOW_REMOTE=yes if you really mean it", item);
	return -1;
}

/* listen_spec_parse - the whole list */
int listen_spec_parse(const char *list, int allow_remote, struct listen_spec *out,
		      char *err, size_t errlen)
{
	char item[LISTEN_TEXT_MAX];
	const char *p = list;
	size_t n;

	out->n = 0;
	while (*p) {
		p += strspn(p, ", \t");
		if (*p == 0)
			break;
		n = strcspn(p, ", \t");
		if (n >= sizeof(item)) {
			snprintf(err, errlen, "'%.40s...': entry too long", p);
			return -1;
		}
		if (out->n == LISTEN_MAX) {
			snprintf(err, errlen, "more than %d entries", LISTEN_MAX);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = 0;
		if (parse_one(item, allow_remote, &out->ep[out->n], err, errlen) != 0)
			return -1;
		out->n++;
		p += n;
	}
	if (out->n == 0) {
		snprintf(err, errlen, "no endpoint given");
		return -1;
	}
	return 0;
}
