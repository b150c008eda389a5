/*
 * cred_web_identity - a role from AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE
 *
 * DESCRIPTION
 *	How EKS (IRSA) and other OIDC platforms give a pod its role: the
 *	token file is rotated by the platform and read again at each fetch,
 *	then sent to STS AssumeRoleWithWebIdentity (cred_role.c, sts.c) with
 *	AWS_ROLE_SESSION_NAME, else a generated session name.
 *
 *	Its place in the chain is after the environment's static keys and
 *	before the shared files, as in botocore (its provider list) and the
 *	Go SDK (resolveCredentialChain); the JS SDK asks the shared files
 *	first. One exception, where botocore (AssumeRoleProvider comes
 *	before AssumeRoleWithWebIdentityProvider) and the JS SDK (fromIni
 *	before fromTokenFile) agree against Go: a profile that assumes a role
 *	from source_profile or credential_source is asked first, so this
 *	provider steps aside for it. As in botocore and Go, a token file without AWS_ROLE_ARN is
 *	an error, AWS_ROLE_ARN alone is ignored. Once configured, a failure
 *	ends the walk (final): signing as the node's instance role instead
 *	would be another identity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/cred_profile_load.h"
#include "aws/cred_provider.h"
#include "aws/cred_role.h"
#include "aws/sts.h"

/* profile_role_first - does the profile assume a role from another source? */
static int profile_role_first(char *profile, size_t size)
{
	static struct cred_profile prof;
	char where[CRED_PATH_MAX], err[CRED_REASON_MAX];
	int named, rc;
	const char *name = cred_profile_name(&named);

	if (strlen(name) > CRED_PROFILE_MAX)
		return 0;
	snprintf(profile, size, "%s", name);
	rc = cred_profile_load(name, &prof, where, sizeof(where), err, sizeof(err)) ==
	     CRED_PROFILE_ASSUME_ROLE;
	cred_profile_wipe(&prof);
	return rc;
}

/* wi_fetch - read the variables now, then ask STS */
static void wi_fetch(struct cred_provider *p, cred_done_fn done, void *arg)
{
	const char *file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *arn = getenv("AWS_ROLE_ARN");
	const char *session = getenv("AWS_ROLE_SESSION_NAME");
	char url[STS_URL_MAX], region[AWS_REGION_MAX + 1], profile[CRED_PROFILE_MAX + 1];
	char why[CRED_REASON_MAX];

	cred_role_cancel(p->ctx);
	p->final = 0;
	p->present = 0;
	if (file == NULL || *file == 0) {
		done(arg, NULL, "AWS_WEB_IDENTITY_TOKEN_FILE is not set");
		return;
	}
	if (profile_role_first(profile, sizeof(profile))) {
		snprintf(why, sizeof(why), "profile %s assumes a role from source_profile or "
			 "credential_source, which comes first (as in botocore and the JS SDK)", profile);
		done(arg, NULL, why);
		return;
	}
	p->final = 1;
	p->present = 1;
	if (arn == NULL || *arn == 0) {
		done(arg, NULL, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
		return;
	}
	if (strlen(arn) > CRED_SETTING_MAX || strlen(file) > CRED_PATH_MAX ||
	    (session && strlen(session) > STS_SESSION_NAME_MAX)) {
		done(arg, NULL, "AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_SESSION_NAME "
		     "is too long");
		return;
	}
	sts_endpoint(url, sizeof(url), region, sizeof(region));
	snprintf(p->where, sizeof(p->where), "web identity: role %.180s (AWS_ROLE_ARN), token file "
		 "%.150s, STS at %.120s", arn, file, url);
	cred_role_web_identity(p->ctx, arn, file, session, p->where, sizeof(p->where), done, arg);
}

/* wi_cancel - stop the STS call in flight */
static void wi_cancel(struct cred_provider *p)
{
	cred_role_cancel(p->ctx);
}

/* wi_destroy - release */
static void wi_destroy(struct cred_provider *p)
{
	cred_role_free(p->ctx);
	free(p);
}

/* cred_web_identity_new - the web identity provider */
struct cred_provider *cred_web_identity_new(struct event_base *base, struct evdns_base *dns)
{
	struct cred_provider *p = cred_provider_new("web_identity", wi_fetch, wi_cancel, wi_destroy);

	if (p == NULL || (p->ctx = cred_role_new(base, dns)) == NULL) {
		free(p);
		return NULL;
	}
	snprintf(p->where, sizeof(p->where), "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)");
	return p;
}
