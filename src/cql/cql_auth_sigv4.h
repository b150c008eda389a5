/*
 * cql_auth_sigv4 - the SigV4 authenticator of Amazon Keyspaces
 *
 * SYNOPSIS
 *	#include "cql/cql_auth_sigv4.h"
 *
 * DESCRIPTION
 *	An authenticator (cql_auth.h) that answers AUTHENTICATE with
 *	"SigV4\0\0" and the server's "nonce=..." challenge with a signature
 *	(aws/sigv4.h) made with the credentials current at that moment and
 *	the current time, so every new connection signs with the newest
 *	credentials. Where credentials come from is the caller's business: a
 *	callback hands them over (the daemon passes the AWS provider chain).
 *	The client library still knows nothing of Postfix or of IMDS.
 *
 * DIAGNOSTICS
 *	A challenge without a nonce, or no credentials at hand, fails the
 *	handshake with a message saying so; the connection is retried by the
 *	session with backoff.
 */
#ifndef PAC_CQL_AUTH_SIGV4_H
#define PAC_CQL_AUTH_SIGV4_H

#include "aws/sigv4.h"
#include "cql_auth.h"

/*
 * cql_sigv4_creds_fn - fill out with credentials valid now (pointers stay
 * valid until the loop runs again); -1 when there are none.
 */
typedef int (*cql_sigv4_creds_fn)(void *arg, struct sigv4_creds *out);

/* cql_auth_sigv4_new - a SigV4 client for region */
struct cql_auth *cql_auth_sigv4_new(const char *region, cql_sigv4_creds_fn get, void *arg);

#endif
