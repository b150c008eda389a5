/*
 * cql_auth_sigv4 - the SigV4 authenticator of Amazon Keyspaces
 * (see cql_auth_sigv4.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cql_auth_sigv4.h"

#define SIGV4_AUTH_ID_MAX	128	/* bytes of access key id kept for logs */
#define SIGV4_REGION_MAX	64	/* bytes in a region name, with its NUL */

struct sigv4_ctx {
	char region[SIGV4_REGION_MAX];
	cql_sigv4_creds_fn get;
	void *arg;
	char last_key_id[SIGV4_AUTH_ID_MAX + 1];	/* for logs only */
};

/* wall_ms - epoch milliseconds: the signature carries the wall time */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sigv4_initial - ask for the SigV4 exchange */
static int sigv4_initial(const struct cql_auth *a, const char *authenticator,
			 struct buf *out, char *err, size_t errlen)
{
	(void)a;
	(void)authenticator;
	(void)err;
	(void)errlen;
	buf_append(out, SIGV4_INITIAL_RESPONSE, SIGV4_INITIAL_RESPONSE_LEN);
	return out->oom ? -1 : 0;
}

/* sigv4_challenge - sign the server's nonce with the current credentials */
static int sigv4_challenge(const struct cql_auth *a, const uint8_t *token,
			   size_t len, struct buf *out, char *err, size_t errlen)
{
	struct sigv4_ctx *s = a->ctx;
	struct sigv4_creds c;
	char nonce[SIGV4_NONCE_MAX + 1];

	if (sigv4_nonce_extract(token, len, nonce) != 0) {
		snprintf(err, errlen, "SigV4: the server's challenge (%zu bytes) has no usable nonce", len);
		return -1;
	}
	if (s->get(s->arg, &c) != 0) {
		snprintf(err, errlen, "SigV4: no AWS credentials available yet (see the aws: log lines)");
		return -1;
	}
	snprintf(s->last_key_id, sizeof(s->last_key_id), "%s", c.access_key_id);
	if (sigv4_sign(&c, s->region, nonce, wall_ms(), out, NULL) != 0) {
		snprintf(err, errlen, "SigV4: cannot sign with access key id %s (bad characters or too long)",
			 s->last_key_id);
		return -1;
	}
	return 0;
}

/* sigv4_identity - the access key id last signed with (not a secret) */
static void sigv4_identity(const struct cql_auth *a, char *out, size_t outlen)
{
	const struct sigv4_ctx *s = a->ctx;

	snprintf(out, outlen, "access key id %s", s->last_key_id[0] ? s->last_key_id : "(none yet)");
}

/* sigv4_destroy - release */
static void sigv4_destroy(struct cql_auth *a)
{
	free(a->ctx);
	free(a);
}

/* sigv4_auth - the functions; each authenticator made from it gets its own ctx */
static const struct cql_auth sigv4_auth = {
	"sigv4", sigv4_initial, sigv4_challenge, sigv4_destroy, sigv4_identity, NULL
};

/* cql_auth_sigv4_new - a SigV4 client */
struct cql_auth *cql_auth_sigv4_new(const char *region, cql_sigv4_creds_fn get, void *arg)
{
	struct cql_auth *a = calloc(1, sizeof(*a));
	struct sigv4_ctx *s = calloc(1, sizeof(*s));

	if (a == NULL || s == NULL || strlen(region) >= sizeof(s->region)) {
		free(a);
		free(s);
		return NULL;
	}
	snprintf(s->region, sizeof(s->region), "%s", region);
	s->get = get;
	s->arg = arg;
	*a = sigv4_auth;
	a->ctx = s;
	return a;
}
