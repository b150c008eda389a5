/*
 * cred_role - credentials of an assumed IAM role (STS), for the providers
 *
 * SYNOPSIS
 *	#include "aws/cred_role.h"
 *
 * DESCRIPTION
 *	cred_role_fetch() resolves a profile with role_arn as the SDKs do
 *	and calls STS (sts.c) on the loop:
 *
 *	role_arn + web_identity_token_file: AssumeRoleWithWebIdentity with
 *	    the token read from the file at each call;
 *	role_arn + credential_source: AssumeRole signed with the
 *	    credentials of Environment (AWS_ACCESS_KEY_ID...),
 *	    Ec2InstanceMetadata (IMDS) or EcsContainer (the container
 *	    endpoint);
 *	role_arn + source_profile: AssumeRole signed with the source
 *	    profile's credentials: its static keys (they win over its own
 *	    role_arn, and a profile naming itself uses its static keys), its
 *	    credential_process, or the role it assumes in turn (chained, up to
 *	    ROLE_CHAIN_MAX roles). A loop of source_profile is refused.
 *
 *	external_id, role_session_name (else "postfix-aws-cassandra-<ms>")
 *	and duration_seconds (900 to 43200; else STS's default, one hour)
 *	apply to the role of the profile that names them. A profile that
 *	names both source_profile and credential_source, neither (nor a
 *	web identity token file), an unknown credential_source or a bad
 *	duration_seconds is refused with the reason.
 *
 *	cred_role_web_identity() is the web identity call alone, for
 *	AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE.
 *
 *	Once the last role is assumed, the description of the source (where)
 *	ends with ", as <the assumed role's ARN>" when STS names it.
 *
 *	done is called exactly once per fetch unless cred_role_cancel()
 *	comes first; reasons never hold a secret or a token.
 */
#ifndef PAC_AWS_CRED_ROLE_H
#define PAC_AWS_CRED_ROLE_H

#include <stddef.h>

#include "aws/cred_profile_load.h"
#include "aws/cred_profile.h"
#include "aws/cred_provider.h"

struct event_base;
struct evdns_base;
struct cred_role;

#define ROLE_CHAIN_MAX		8	/* roles assumed one from another */

struct cred_role *cred_role_new(struct event_base *base, struct evdns_base *dns);
void cred_role_free(struct cred_role *r);

/* cred_role_cancel - stop what is in flight; done is not called */
void cred_role_cancel(struct cred_role *r);

/*
 * cred_role_fetch - assume the role of profile (prof, read from path:
 * kind ASSUME_ROLE or WEB_IDENTITY); where receives the description of
 * the source for logs.
 */
void cred_role_fetch(struct cred_role *r, const char *profile, const struct cred_profile *prof,
		     const char *path, char *where, size_t wherelen, cred_done_fn done, void *arg);

/*
 * cred_role_web_identity - AssumeRoleWithWebIdentity with the token in
 * token_file; where (the provider's description) gets the assumed ARN.
 */
void cred_role_web_identity(struct cred_role *r, const char *role_arn, const char *token_file,
			    const char *session_name, char *where, size_t wherelen,
			    cred_done_fn done, void *arg);

#endif
