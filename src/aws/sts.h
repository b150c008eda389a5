/*
 * sts - AWS STS calls on the event loop: AssumeRole, AssumeRoleWithWebIdentity
 *
 * SYNOPSIS
 *	#include "aws/sts.h"
 *
 * DESCRIPTION
 *	One STS call is one HTTPS POST of a form (Action=...&Version=
 *	2011-06-15&...) through libevent's evhttp over bufferevent_openssl:
 *	the certificate is verified against the system CAs, or the bundle
 *	named by AWS_CA_BUNDLE (as botocore and the CLI read it), and must
 *	name the endpoint's host; the whole call times out after
 *	STS_TIMEOUT_MS; an answer over STS_XML_MAX bytes is refused. The
 *	answer is parsed by sts_xml.c.
 *
 *	AssumeRoleWithWebIdentity is not signed (the token is the proof);
 *	AssumeRole is signed with SigV4 for service "sts" with the source
 *	credentials (sigv4_http_sign()).
 *
 *	The endpoint, as the SDKs choose it: AWS_ENDPOINT_URL_STS, else
 *	AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is
 *	true; else the regional endpoint https://sts.REGION.amazonaws.com
 *	(.amazonaws.com.cn in the China regions), the SDKs' default. REGION
 *	is AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1; it is also
 *	the region AssumeRole is signed for.
 *
 *	The callback is called exactly once unless the call is cancelled
 *	first: with the credentials (and the assumed role's ARN when STS
 *	names it), or with a reason that names STS's error code and message,
 *	the HTTP status or the transport error. Secrets, session tokens and
 *	web identity tokens never appear in a reason.
 */
#ifndef PAC_AWS_STS_H
#define PAC_AWS_STS_H

#include <stddef.h>

#include "buf.h"
#include "aws/aws_base.h"

struct event_base;
struct evdns_base;
struct sts_call;

#define STS_TIMEOUT_MS		10000	/* one call, connect to answer */
#define STS_URL_MAX		1024	/* bytes in an endpoint URL */
#define STS_SESSION_NAME_MAX	64	/* RoleSessionName, as STS limits it */
#define STS_DURATION_MIN_S	900	/* DurationSeconds bounds, as STS has them */
#define STS_DURATION_MAX_S	43200
#define STS_WEB_TOKEN_MAX	20000	/* bytes in a web identity token (STS: 20000) */

enum sts_action {
	STS_ASSUME_ROLE,
	STS_ASSUME_ROLE_WITH_WEB_IDENTITY,
};

struct sts_request {
	enum sts_action action;
	const char *role_arn;
	const char *session_name;
	const char *external_id;		/* NULL or "": none */
	long duration_s;			/* 0: STS's default (one hour) */
	const char *web_identity_token;		/* AssumeRoleWithWebIdentity */
	const struct aws_credentials *source;	/* AssumeRole: who asks (signs) */
};

typedef void (*sts_done_fn)(void *arg, const struct aws_credentials *creds,
			    const char *assumed_arn, const char *reason);

/* sts_call_start - send req; NULL with err when it cannot even be sent */
struct sts_call *sts_call_start(struct event_base *base, struct evdns_base *dns,
				const struct sts_request *req, sts_done_fn done, void *arg,
				char *err, size_t errlen);

/* sts_call_cancel - drop a call in flight; its callback is not called */
void sts_call_cancel(struct sts_call *call);

/* sts_action_name - "AssumeRole", "AssumeRoleWithWebIdentity" */
const char *sts_action_name(enum sts_action action);

/* sts_endpoint - the endpoint URL and the region, from the environment */
void sts_endpoint(char *url, size_t urllen, char *region, size_t regionlen);

/* sts_form - the form body of req (pure); -1 if a field is missing */
int sts_form(const struct sts_request *req, struct buf *out);

/*
 * sts_session_name - the SDKs' rule for a RoleSessionName nobody gave:
 * a fixed prefix and the time, "postfix-aws-cassandra-<epoch ms>"
 */
void sts_session_name(int64_t epoch_ms, char out[STS_SESSION_NAME_MAX + 1]);

#endif
