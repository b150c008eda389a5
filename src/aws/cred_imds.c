/*
 * cred_imds - credentials of the EC2 instance's IAM role, IMDSv2 only
 *
 * DESCRIPTION
 *	1. PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
 *	   gives a session token (kept until shortly before its TTL ends);
 *	2. GET /latest/meta-data/iam/security-credentials/ with
 *	   X-aws-ec2-metadata-token gives the role name (first line);
 *	3. GET /latest/meta-data/iam/security-credentials/ROLE gives the
 *	   credential document (cred_json.c).
 *
 *	There is no IMDSv1 fallback: an instance that requires tokens is the
 *	safe configuration and a request without one would be refused
 *	anyway. A 401 means the session token expired: a new one is asked
 *	for. Each request has a short timeout (AWS_METADATA_SERVICE_TIMEOUT,
 *	seconds, default 1) and the whole sequence is attempted
 *	AWS_METADATA_SERVICE_NUM_ATTEMPTS times, default 1 as the AWS SDKs and
 *	Tools Reference Guide and botocore have it: the chain's own retry with
 *	backoff (cred_chain.c), and static stability at refresh, cover a
 *	moment's outage.
 *	AWS_EC2_METADATA_SERVICE_ENDPOINT overrides http://169.254.169.254
 *	(AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6: http://[fd00:ec2::254])
 *	and AWS_EC2_METADATA_DISABLED=true switches the source off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "clock.h"
#include "aws/cred_fetch.h"
#include "aws/cred_json.h"
#include "aws/cred_provider.h"

#define IMDS_DEFAULT_ENDPOINT	"http://169.254.169.254"
#define IMDS_DEFAULT_ENDPOINT_V6 "http://[fd00:ec2::254]"	/* ..._ENDPOINT_MODE=IPv6 */
#define IMDS_TOKEN_TTL_S	21600	/* the SDKs' session token lifetime */
#define IMDS_TOKEN_RENEW_S	60	/* renew the token this long before its end */
#define IMDS_TOKEN_MAX		1024	/* bytes in a session token */
#define IMDS_ROLE_MAX		256	/* bytes in a role name */
#define IMDS_TIMEOUT_S		1	/* per request */
#define IMDS_ATTEMPTS		1	/* AWS_METADATA_SERVICE_NUM_ATTEMPTS */
#define IMDS_RETRY_DELAY_MS	200	/* between attempts */
#define IMDS_CREDS_PATH		"/latest/meta-data/iam/security-credentials/"

enum imds_step { IMDS_TOKEN, IMDS_ROLE, IMDS_CREDS };

struct imds {
	struct cred_fetch f;			/* the request, the attempts, the chain's callback */
	char endpoint[CRED_HTTP_URL_MAX];	/* without a trailing '/' */
	int disabled;
	char token[IMDS_TOKEN_MAX + 1];
	int64_t token_until;			/* monotonic ms */
	char role[IMDS_ROLE_MAX + 1];
	enum imds_step step;
	char last_err[CRED_REASON_MAX];
};

static void imds_send(void *ctx);

/* imds_fail - this attempt failed: retry, or give up */
static void imds_fail(struct imds *m, const char *what, int status, const char *err)
{
	char reason[CRED_REASON_MAX];

	if (status)
		snprintf(m->last_err, sizeof(m->last_err), "%s: HTTP %d", what, status);
	else
		snprintf(m->last_err, sizeof(m->last_err), "%s: %s", what, err ? err : "failed");
	if (cred_fetch_again(&m->f, IMDS_RETRY_DELAY_MS)) {
		m->step = m->token[0] && clock_now_ms() < m->token_until ? IMDS_ROLE : IMDS_TOKEN;
		return;
	}
	snprintf(reason, sizeof(reason), "IMDSv2 at %.300s: %.150s (%d attempt%s)", m->endpoint,
		 m->last_err, m->f.attempts, m->f.attempts > 1 ? "s" : "");
	cred_fetch_finish(&m->f, NULL, reason);
}

/* imds_answer - one step's HTTP answer */
static void imds_answer(void *arg, int status, const char *body, size_t len, const char *err)
{
	struct imds *m = arg;
	struct aws_credentials c;
	char jerr[CRED_REASON_MAX / 2];
	size_t n;

	m->f.http = NULL;
	switch (m->step) {
	case IMDS_TOKEN:
		if (status != 200 || len == 0 || len > IMDS_TOKEN_MAX) {
			imds_fail(m, "PUT /latest/api/token", status == 200 ? 502 : status, err);
			return;
		}
		memcpy(m->token, body, len);
		m->token[len] = 0;
		m->token_until = clock_now_ms() + (IMDS_TOKEN_TTL_S - IMDS_TOKEN_RENEW_S) * 1000LL;
		m->step = IMDS_ROLE;
		imds_send(m);
		return;
	case IMDS_ROLE:
		if (status == 401) {
			m->token[0] = 0;	/* expired session token */
			imds_fail(m, "GET " IMDS_CREDS_PATH, status, err);
			return;
		}
		if (status == 404) {
			char reason[CRED_REASON_MAX];

			snprintf(reason, sizeof(reason), "IMDSv2 at %.300s: no IAM role attached to this "
				 "instance (GET " IMDS_CREDS_PATH ": HTTP 404)", m->endpoint);
			cred_fetch_finish(&m->f, NULL, reason);
			return;
		}
		for (n = 0; n < len && body[n] != '\n' && body[n] != '\r'; n++)
			;
		if (status != 200 || n == 0 || n > IMDS_ROLE_MAX || memchr(body, '/', n)) {
			imds_fail(m, "GET " IMDS_CREDS_PATH, status == 200 ? 502 : status, err);
			return;
		}
		memcpy(m->role, body, n);
		m->role[n] = 0;
		m->step = IMDS_CREDS;
		imds_send(m);
		return;
	case IMDS_CREDS:
		if (status == 401)
			m->token[0] = 0;
		if (status != 200) {
			imds_fail(m, "GET " IMDS_CREDS_PATH "ROLE", status, err);
			return;
		}
		if (cred_json_parse(body, len, &c, jerr, sizeof(jerr)) != 0) {
			imds_fail(m, "role credentials", 0, jerr);
			return;
		}
		cred_fetch_finish(&m->f, &c, NULL);
		aws_credentials_wipe(&c);
		return;
	}
}

/* imds_send - the request of the current step */
static void imds_send(void *ctx)
{
	struct imds *m = ctx;
	char url[CRED_HTTP_URL_MAX + IMDS_ROLE_MAX + 64], err[CRED_HTTP_ERR_MAX], ttl[16];
	const char *hdr[3] = { NULL, NULL, NULL };
	struct cred_http_request rq = { CRED_HTTP_GET, url, 0, hdr, NULL, 0, m->f.timeout_ms, 0 };

	if (m->step != IMDS_TOKEN && (m->token[0] == 0 || clock_now_ms() >= m->token_until))
		m->step = IMDS_TOKEN;
	switch (m->step) {
	case IMDS_TOKEN:
		snprintf(url, sizeof(url), "%s/latest/api/token", m->endpoint);
		snprintf(ttl, sizeof(ttl), "%d", IMDS_TOKEN_TTL_S);
		hdr[0] = "X-aws-ec2-metadata-token-ttl-seconds";
		hdr[1] = ttl;
		rq.method = CRED_HTTP_PUT;
		break;
	case IMDS_ROLE:
		snprintf(url, sizeof(url), "%s" IMDS_CREDS_PATH, m->endpoint);
		hdr[0] = "X-aws-ec2-metadata-token";
		hdr[1] = m->token;
		break;
	case IMDS_CREDS:
		snprintf(url, sizeof(url), "%s" IMDS_CREDS_PATH "%s", m->endpoint, m->role);
		hdr[0] = "X-aws-ec2-metadata-token";
		hdr[1] = m->token;
		break;
	}
	m->f.http = cred_http_start(m->f.base, m->f.dns, &rq, imds_answer, m, err, sizeof(err));
	if (m->f.http == NULL) {
		cred_fetch_spend(&m->f);
		imds_fail(m, url, 0, err);
	}
}

/* imds_fetch - start the sequence (token reused while valid) */
static void imds_fetch(struct cred_provider *p, cred_done_fn done, void *arg)
{
	struct imds *m = p->ctx;

	if (m->disabled) {
		done(arg, NULL, "AWS_EC2_METADATA_DISABLED is true");
		return;
	}
	cred_fetch_begin(&m->f, done, arg);
	m->step = IMDS_ROLE;
	imds_send(m);
}

/* imds_cancel - stop a sequence in flight */
static void imds_cancel(struct cred_provider *p)
{
	cred_fetch_cancel(&((struct imds *)p->ctx)->f);
}

/* imds_destroy - release everything */
static void imds_destroy(struct cred_provider *p)
{
	struct imds *m = p->ctx;

	cred_fetch_release(&m->f);
	memset(m->token, 0, sizeof(m->token));
	free(m);
	free(p);
}

/* cred_imds_new - the IMDSv2 provider, from the environment */
struct cred_provider *cred_imds_new(struct event_base *base, struct evdns_base *dns)
{
	struct cred_provider *p = cred_provider_new("imds", imds_fetch, imds_cancel, imds_destroy);
	struct imds *m = calloc(1, sizeof(*m));
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"), *mode;
	size_t n;

	if (p == NULL || m == NULL ||
	    cred_fetch_init(&m->f, base, dns, IMDS_TIMEOUT_S, IMDS_ATTEMPTS, imds_send, m) != 0) {
		free(p);
		free(m);
		return NULL;
	}
	mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	snprintf(m->endpoint, sizeof(m->endpoint), "%s", ep && *ep ? ep :
		 mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_DEFAULT_ENDPOINT_V6 : IMDS_DEFAULT_ENDPOINT);
	n = strlen(m->endpoint);
	while (n > 0 && m->endpoint[n - 1] == '/')
		m->endpoint[--n] = 0;
	m->disabled = cred_env_flag("AWS_EC2_METADATA_DISABLED");
	p->static_stability = 1;
	snprintf(p->where, sizeof(p->where), "instance metadata (IMDSv2) at %.400s", m->endpoint);
	p->ctx = m;
	return p;
}
