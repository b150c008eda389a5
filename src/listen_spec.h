/*
 * listen_spec - parse the LISTEN list (pure)
 *
 * SYNOPSIS
 *	#include "listen_spec.h"
 *
 * DESCRIPTION
 *	LISTEN is a comma or space separated list of
 *
 *	  inet:127.0.0.1:9999     an IPv4 address and port
 *	  inet:[::1]:9999         an IPv6 address and port
 *	  unix:/path/to/socket    a UNIX-domain socket
 *
 *	Ports may be 0 (any free port; tests). Addresses must be numeric.
 *	A non-loopback address is refused unless allow_remote is set,
 *	because socketmap has no authentication.
 */
#ifndef PAC_LISTEN_SPEC_H
#define PAC_LISTEN_SPEC_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#define LISTEN_MAX		8	/* endpoints */
#define LISTEN_TEXT_MAX		256	/* bytes of one item, as given */

struct listen_endpoint {
	int is_unix;
	struct sockaddr_storage ss;
	socklen_t len;
	char text[LISTEN_TEXT_MAX];		/* as given, for logs */
};

struct listen_spec {
	struct listen_endpoint ep[LISTEN_MAX];
	size_t n;
};

/* listen_spec_parse - 0, or -1 with err naming the bad entry */
int listen_spec_parse(const char *list, int allow_remote, struct listen_spec *out,
		      char *err, size_t errlen);

#endif
