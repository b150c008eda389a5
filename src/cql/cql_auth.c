/*
 * cql_auth - authenticators for the CQL AUTHENTICATE exchange (see .h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cql_auth.h"

struct password_ctx {
	char *user;
	char *password;
};

/* password_initial - the SASL PLAIN token */
static int password_initial(const struct cql_auth *a, const char *authenticator,
			    struct buf *out, char *err, size_t errlen)
{
	const struct password_ctx *p = a->ctx;

	(void)authenticator;
	(void)err;
	(void)errlen;
	buf_append_byte(out, 0);
	buf_append_str(out, p->user);
	buf_append_byte(out, 0);
	buf_append_str(out, p->password);
	return out->oom ? -1 : 0;
}

/* password_challenge - PasswordAuthenticator never challenges */
static int password_challenge(const struct cql_auth *a, const uint8_t *token,
			      size_t len, struct buf *out, char *err, size_t errlen)
{
	(void)a;
	(void)token;
	(void)len;
	(void)out;
	snprintf(err, errlen, "unexpected AUTH_CHALLENGE for password authentication");
	return -1;
}

/* password_identity - the user name, for logs */
static void password_identity(const struct cql_auth *a, char *out, size_t outlen)
{
	const struct password_ctx *p = a->ctx;

	snprintf(out, outlen, "user %s", p->user);
}

/* password_destroy - wipe and free the secret */
static void password_destroy(struct cql_auth *a)
{
	struct password_ctx *p = a->ctx;

	if (p) {
		if (p->password) {
			OPENSSL_cleanse(p->password, strlen(p->password));
			free(p->password);
		}
		free(p->user);
		free(p);
	}
	free(a);
}

/* password_auth - the functions; each authenticator made from it gets its own ctx */
static const struct cql_auth password_auth = {
	"password", password_initial, password_challenge, password_destroy, password_identity, NULL
};

/* cql_auth_password_new - a PasswordAuthenticator client */
struct cql_auth *cql_auth_password_new(const char *user, const char *password)
{
	struct cql_auth *a = calloc(1, sizeof(*a));
	struct password_ctx *p = calloc(1, sizeof(*p));

	if (a == NULL || p == NULL || (p->user = strdup(user)) == NULL ||
	    (p->password = strdup(password)) == NULL) {
		if (p) {
			free(p->user);
			free(p);
		}
		free(a);
		return NULL;
	}
	*a = password_auth;
	a->ctx = p;
	return a;
}

/* cql_auth_free - release an authenticator */
void cql_auth_free(struct cql_auth *a)
{
	if (a && a->destroy)
		a->destroy(a);
}
