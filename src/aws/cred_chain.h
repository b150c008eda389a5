/*
 * cred_chain - AWS credentials from the SDK's default provider chain
 *
 * SYNOPSIS
 *	#include "aws/cred_chain.h"
 *
 * DESCRIPTION
 *	Finds credentials the way the AWS SDKs do, in this order:
 *
 *	1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *	   optionally AWS_SESSION_TOKEN (cred_env.c);
 *	2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, STS
 *	   AssumeRoleWithWebIdentity (cred_web_identity.c, cred_role.c, sts.c);
 *	3. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
 *	   merged over AWS_CONFIG_FILE (~/.aws/config, "[profile NAME]"
 *	   sections), profile AWS_PROFILE, else AWS_DEFAULT_PROFILE, else
 *	   "default": static keys, the profile's credential_process run on the
 *	   loop (cred_file.c, cred_profile_load.c, cred_profile.c,
 *	   cred_process.c), or its role_arn assumed through STS (cred_role.c);
 *	4. container endpoint (ECS, EKS Pod Identity):
 *	   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on 169.254.170.2, or
 *	   AWS_CONTAINER_CREDENTIALS_FULL_URI with
 *	   AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE] (cred_container.c);
 *	5. EC2 instance metadata, IMDSv2 only (cred_imds.c).
 *
 *	The first source that gives credentials is kept. A source that is set
 *	up but fails (a profile named, or present but broken or of a kind this
 *	build refuses, a failing credential_process, a container endpoint that
 *	is set, a web identity token file, a role that cannot be assumed) ends
 *	the walk: no other identity is used in its place. One that
 *	is set up but unusable while the walk goes on (a key id without its
 *	secret in the environment) is named at info level.
 *
 *	Credentials with an Expiration are fetched again from their source
 *	before they expire (5 to 15 minutes ahead, with jitter;
 *	AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS sets a fixed margin, for
 *	tests). A failed refresh keeps the old credentials until they really
 *	expire and retries with backoff; once they have expired the whole chain
 *	is walked again. IMDS credentials are the exception, as in every SDK
 *	(static stability): handed out expired, or not refreshable within 5
 *	minutes of their Expiration, they are extended 5 to 15 minutes at a
 *	time while IMDS is asked again with backoff. When no source works the
 *	log names every source tried and why it failed (once, then once a
 *	minute), and the chain is retried with backoff until one does.
 *
 *	Everything runs on the event loop: HTTP through evhttp, never a
 *	blocking call. Secrets and session tokens are never logged; the
 *	access key id is (it identifies, it does not authorise).
 */
#ifndef PAC_AWS_CRED_CHAIN_H
#define PAC_AWS_CRED_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws_base.h"

struct event_base;
struct evdns_base;
struct cred_chain;

/* cred_chain_new - the chain, configured from the environment */
struct cred_chain *cred_chain_new(struct event_base *base, struct evdns_base *dns);
/* cred_chain_start - resolve now (env and files answer at once) */
void cred_chain_start(struct cred_chain *ch);
void cred_chain_free(struct cred_chain *ch);

/*
 * cred_chain_on_settled - call fn once, when the first walk of the chain
 * has ended (credentials found, or every source failed), so that the
 * first connections do not sign without credentials.
 */
void cred_chain_on_settled(struct cred_chain *ch, void (*fn)(void *arg), void *arg);

/*
 * cred_chain_on_found - call fn each time credentials are found again after
 * a time without valid ones (every source failed, or they expired), so
 * that connections waiting out a backoff can try at once.
 */
void cred_chain_on_found(struct cred_chain *ch, void (*fn)(void *arg), void *arg);

/*
 * cred_chain_current - the credentials to sign with now, or NULL when
 * there are none (not found yet, or expired). Valid until the loop runs.
 */
const struct aws_credentials *cred_chain_current(const struct cred_chain *ch);

/* cred_chain_describe - "environment", "IMDSv2 http://...", ...; "none" */
const char *cred_chain_describe(const struct cred_chain *ch);

/*
 * cred_chain_status - for metrics: the source's short name ("env",
 * "web_identity", "profile", "container", "imds", "none") and seconds until the
 * credentials expire (-1: they do not, or there are none). Returns 0
 * when ch is NULL (no chain: the daemon does not sign).
 */
int cred_chain_status(const struct cred_chain *ch, const char **source, double *expires_in_s);

#endif
