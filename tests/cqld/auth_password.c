/*
 * auth_password - Cassandra's PasswordAuthenticator, one user
 *
 * DESCRIPTION
 *	--auth password:USER:PASS (PASS may contain ':'). The client's one
 *	AUTH_RESPONSE token is SASL PLAIN (RFC 4616): [authzid] NUL authcid
 *	NUL passwd. Cassandra reads it from the end, so does this: the
 *	password follows the last NUL, the user the one before it.
 *
 *	Success is AUTH_SUCCESS with a null token, as Cassandra's
 *	PlainTextSaslAuthenticator gives; failure is Bad credentials with
 *	Cassandra's words, "Provided username USER and/or password are
 *	incorrect" (a token without two NULs gets Cassandra's "Password
 *	must not be null" or "Authentication ID must not be null").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define PW_FIELD_MAX	256	/* user or password, bytes */
#define PW_SHOW_MAX	64	/* user echoed in an error, bytes */

struct pw_cfg {
	char user[PW_FIELD_MAX + 1];
	char pass[PW_FIELD_MAX + 1];
};

/* pw_open - parse USER:PASS */
static void *pw_open(const char *arg, char *err, size_t errlen)
{
	const char *colon = strchr(arg, ':');
	struct pw_cfg *cfg;
	size_t ulen;

	if (colon == NULL || colon == arg || colon[1] == 0 ||
	    (ulen = (size_t)(colon - arg)) > PW_FIELD_MAX ||
	    strlen(colon + 1) > PW_FIELD_MAX) {
		snprintf(err, errlen, "bad --auth password:USER:PASS (non-empty "
			 "USER and PASS of at most %d bytes)", PW_FIELD_MAX);
		return NULL;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(cfg->user, arg, ulen);
	snprintf(cfg->pass, sizeof(cfg->pass), "%s", colon + 1);
	return cfg;
}

/* pw_begin - PLAIN keeps no state between tokens */
static void *pw_begin(void *cfg)
{
	return cfg;
}

/* same - a counted field equals a C string (no early exit on bytes) */
static int same(const uint8_t *p, size_t n, const char *s)
{
	size_t i, len = strlen(s);
	unsigned diff = n != len;

	for (i = 0; i < n && i < len; i++)
		diff |= p[i] ^ (uint8_t)s[i];
	return diff == 0;
}

/* pw_evaluate - check one SASL PLAIN token */
static void pw_evaluate(void *cfgp, void *sess, const uint8_t *tok,
			int32_t len, struct auth_result *res)
{
	const struct pw_cfg *cfg = cfgp;
	const uint8_t *user = NULL, *pass = NULL;
	size_t ulen = 0, plen = 0, n = len > 0 ? (size_t)len : 0, i, end = n;

	(void)sess;
	/* from the end: passwd, then authcid; authzid is ignored */
	for (i = n; i-- > 0;) {
		if (tok[i] != 0)
			continue;
		if (pass == NULL) {
			pass = tok + i + 1;
			plen = end - i - 1;
			end = i;
		} else {
			user = tok + i + 1;
			ulen = end - i - 1;
			break;
		}
	}
	if (pass == NULL) {
		snprintf(res->message, sizeof(res->message),
			 "Password must not be null");
		return;
	}
	if (user == NULL) {
		/* "user\0pass": no authzid */
		user = tok;
		ulen = end;
	}
	if (ulen == 0) {
		snprintf(res->message, sizeof(res->message),
			 "Authentication ID must not be null");
		return;
	}
	if (same(user, ulen, cfg->user) & same(pass, plen, cfg->pass)) {
		res->step = AUTH_SUCCESS;
		res->null_token = 1;
		return;
	}
	snprintf(res->message, sizeof(res->message), "Provided username %.*s "
		 "and/or password are incorrect",
		 (int)(ulen > PW_SHOW_MAX ? PW_SHOW_MAX : ulen),
		 (const char *)user);
}

/* pw_end - nothing to forget */
static void pw_end(void *cfg, void *sess)
{
	(void)cfg;
	(void)sess;
}

/* pw_close - forget the credentials */
static void pw_close(void *cfg)
{
	free(cfg);
}

const struct auth_backend auth_password = {
	.mode = "password",
	.class_name = "org.apache.cassandra.auth.PasswordAuthenticator",
	.open = pw_open,
	.begin = pw_begin,
	.evaluate = pw_evaluate,
	.end = pw_end,
	.close = pw_close,
};
