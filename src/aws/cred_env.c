/*
 * cred_env - credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN (the first source of the SDK chain)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/cred_provider.h"

/* env_fetch - read the three variables now */
static void env_fetch(struct cred_provider *p, cred_done_fn done, void *arg)
{
	static struct aws_credentials c;
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");

	p->present = (id && *id) || (secret && *secret);
	if (!p->present) {
		done(arg, NULL, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
		return;
	}
	if (id == NULL || *id == 0 || secret == NULL || *secret == 0) {
		done(arg, NULL, id && *id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
		     : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
		return;
	}
	if (strlen(id) > AWS_KEY_ID_MAX || strlen(secret) > AWS_SECRET_MAX ||
	    (token && strlen(token) > AWS_TOKEN_MAX)) {
		done(arg, NULL, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN is too long");
		return;
	}
	memset(&c, 0, sizeof(c));
	strcpy(c.access_key_id, id);
	strcpy(c.secret_access_key, secret);
	if (token)
		strcpy(c.session_token, token);
	done(arg, &c, NULL);
	aws_credentials_wipe(&c);
}

/* env_destroy - nothing held */
static void env_destroy(struct cred_provider *p)
{
	free(p);
}

/* env_cancel - nothing in flight */
static void env_cancel(struct cred_provider *p)
{
	(void)p;
}

/* cred_env_new - the environment provider */
struct cred_provider *cred_env_new(void)
{
	struct cred_provider *p = cred_provider_new("env", env_fetch, env_cancel, env_destroy);

	if (p != NULL)
		snprintf(p->where, sizeof(p->where), "environment (AWS_ACCESS_KEY_ID)");
	return p;
}
