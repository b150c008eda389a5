/*
 * cql_auth - authenticators for the CQL AUTHENTICATE exchange
 *
 * SYNOPSIS
 *	#include "cql/cql_auth.h"
 *
 * DESCRIPTION
 *	When the server answers STARTUP with AUTHENTICATE (naming its
 *	authenticator class), the connection asks the configured
 *	authenticator for the first token, then for an answer to each
 *	AUTH_CHALLENGE, until AUTH_SUCCESS or an error. An authenticator is
 *	a small struct of function pointers: PasswordAuthenticator here
 *	(also Amazon Keyspaces service-specific credentials), SigV4 beside
 *	it. Tokens are secrets: they are never logged.
 */
#ifndef PAC_CQL_AUTH_H
#define PAC_CQL_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CQL_AUTH_FIELD_MAX	1024	/* bytes in a user name or password */

struct cql_auth {
	const char *name;
	/* initial - the first AUTH_RESPONSE token; -1 with err on failure */
	int (*initial)(const struct cql_auth *a, const char *authenticator,
		       struct buf *out, char *err, size_t errlen);
	/* challenge - the answer to an AUTH_CHALLENGE token */
	int (*challenge)(const struct cql_auth *a, const uint8_t *token,
			 size_t len, struct buf *out, char *err, size_t errlen);
	void (*destroy)(struct cql_auth *a);
	/* identity - who we authenticate as, for logs (never a secret); may be NULL */
	void (*identity)(const struct cql_auth *a, char *out, size_t outlen);
	void *ctx;
};

/* cql_auth_password_new - SASL PLAIN: "\0user\0password" */
struct cql_auth *cql_auth_password_new(const char *user, const char *password);
void cql_auth_free(struct cql_auth *a);

#endif
