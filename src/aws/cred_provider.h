/*
 * cred_provider - one source of AWS credentials (internal to src/aws)
 *
 * DESCRIPTION
 *	A provider is a small struct of function pointers, as OpenSMTPD's
 *	table backends are: the chain (cred_chain.c) asks each in order.
 *	fetch() calls done exactly once, maybe before it returns (env,
 *	static keys in the files) or later from the event loop (HTTP
 *	endpoints, a profile's credential_process), with the
 *	credentials or with a reason they could not be had. cancel() stops a
 *	fetch in flight without calling done. A fetch that fails and sets
 *	final ends the walk there: the operator named this source, so the
 *	chain must not quietly fall back to another (an instance role).
 *	A source with static_stability set (IMDS, as in every SDK) has its
 *	credentials kept past their Expiration when it cannot give fresh ones
 *	(cred_chain.c).
 */
#ifndef PAC_AWS_CRED_PROVIDER_H
#define PAC_AWS_CRED_PROVIDER_H

#include <stddef.h>

#include "aws/aws_base.h"

struct event_base;
struct evdns_base;

#define CRED_WHERE_MAX		512	/* bytes describing a source, for logs */
#define CRED_REASON_MAX		512	/* bytes of a failure reason */

typedef void (*cred_done_fn)(void *arg, const struct aws_credentials *creds,
			     const char *reason);

struct cred_provider {
	const char *name;		/* short: env, web_identity, profile, container, imds */
	char where[CRED_WHERE_MAX];	/* e.g. "IMDSv2 at http://169.254.169.254" */
	void (*fetch)(struct cred_provider *p, cred_done_fn done, void *arg);
	void (*cancel)(struct cred_provider *p);
	void (*destroy)(struct cred_provider *p);
	void *ctx;
	int final;			/* when a fetch fails: ask no source after this one */
	int present;			/* a failed fetch: the source is configured but unusable */
	int static_stability;		/* expired credentials are extended, not dropped (IMDS) */
};

/*
 * cred_provider_new - a provider with its name and methods (where, ctx and
 * the flags are the caller's to set); NULL without memory. The caller's
 * destroy frees it.
 */
struct cred_provider *cred_provider_new(const char *name,
					void (*fetch)(struct cred_provider *p, cred_done_fn done, void *arg),
					void (*cancel)(struct cred_provider *p),
					void (*destroy)(struct cred_provider *p));

struct cred_provider *cred_env_new(void);
struct cred_provider *cred_web_identity_new(struct event_base *base, struct evdns_base *dns);
struct cred_provider *cred_file_new(struct event_base *base, struct evdns_base *dns);
struct cred_provider *cred_container_new(struct event_base *base, struct evdns_base *dns);
struct cred_provider *cred_imds_new(struct event_base *base, struct evdns_base *dns);

#endif
