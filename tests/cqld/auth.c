/*
 * auth - the registry of cqld's authenticators
 *
 * DESCRIPTION
 *	See auth.h. This file maps the MODE of `--auth MODE:ARG` to a
 *	backend and wraps the backend's configuration. A mode listed with a
 *	NULL backend is known but not built in: --auth names it and says so
 *	rather than calling it unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define AUTH_MODE_MAX	32	/* longest MODE, bytes */

static const struct {
	const char *mode;
	const struct auth_backend *backend;	/* NULL: not in this build */
} auth_registry[] = {
	{"password", &auth_password},
	{"sigv4", &auth_sigv4},
};

#define AUTH_NREGISTRY	(sizeof(auth_registry) / sizeof(auth_registry[0]))

struct auth {
	const struct auth_backend *be;
	void *cfg;
};

/* auth_open - the authenticator for --auth MODE:ARG, or NULL and err */
struct auth *auth_open(const char *spec, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	const char *arg = colon ? colon + 1 : "";
	size_t mlen = colon ? (size_t)(colon - spec) : strlen(spec);
	struct auth *a;
	size_t i;

	for (i = 0; i < AUTH_NREGISTRY; i++)
		if (strlen(auth_registry[i].mode) == mlen &&
		    strncmp(auth_registry[i].mode, spec, mlen) == 0)
			break;
	if (i == AUTH_NREGISTRY) {
		snprintf(err, errlen, "unknown authentication mode '%.*s' "
			 "(known: password:USER:PASS, "
			 "sigv4:KEYID:SECRET[:REGION])",
			 (int)(mlen > AUTH_MODE_MAX ? AUTH_MODE_MAX : mlen), spec);
		return NULL;
	}
	if (auth_registry[i].backend == NULL) {
		snprintf(err, errlen, "authentication mode '%s' is not "
			 "supported by this build", auth_registry[i].mode);
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->be = auth_registry[i].backend;
	if ((a->cfg = a->be->open(arg, err, errlen)) == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

/* auth_class - the authenticator class name AUTHENTICATE announces */
const char *auth_class(const struct auth *a)
{
	return a->be->class_name;
}

/* auth_begin - state for a new exchange; NULL when out of memory */
void *auth_begin(struct auth *a)
{
	return a->be->begin(a->cfg);
}

/* auth_evaluate - answer one AUTH_RESPONSE token */
void auth_evaluate(struct auth *a, void *sess, const uint8_t *token,
		   int32_t len, struct auth_result *res)
{
	res->step = AUTH_FAILED;
	res->null_token = 0;
	res->message[0] = 0;
	buf_reset(&res->token);
	a->be->evaluate(a->cfg, sess, token, len, res);
	if (res->step == AUTH_FAILED && res->message[0] == 0)
		snprintf(res->message, sizeof(res->message),
			 "Authentication failed");
}

/* auth_end - forget an exchange (sess may be NULL) */
void auth_end(struct auth *a, void *sess)
{
	if (sess)
		a->be->end(a->cfg, sess);
}

/* auth_control - a run-time command for the backend */
int auth_control(struct auth *a, const char *args, struct buf *reply)
{
	if (a == NULL || a->be->control == NULL) {
		buf_append_str(reply, "error this authentication mode takes no commands");
		return -1;
	}
	return a->be->control(a->cfg, args, reply);
}

/* auth_close - forget the authenticator (a may be NULL) */
void auth_close(struct auth *a)
{
	if (a == NULL)
		return;
	a->be->close(a->cfg);
	free(a);
}
