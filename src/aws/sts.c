/*
 * sts - AWS STS calls on the event loop (see sts.h)
 *
 * The HTTPS request itself is cred_http.c's, the chain's one HTTP client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "aws/cred_http.h"
#include "aws/cred_provider.h"
#include "aws/sigv4.h"
#include "aws/sts.h"
#include "aws/sts_xml.h"

#define STS_VERSION		"2011-06-15"
#define STS_SERVICE		"sts"
#define STS_DEFAULT_REGION	"us-east-1"
#define STS_CONTENT_TYPE	"application/x-www-form-urlencoded; charset=utf-8"
#define STS_HEADERS_N		13	/* name, value, ... NULL: 6 headers at most */
#define STS_REASON_MAX		480	/* bytes of a failure reason */

struct sts_call {
	struct cred_http *http;
	enum sts_action action;
	sts_done_fn done;
	void *arg;
	char url[STS_URL_MAX];
};

/* sts_action_name - the Action parameter */
const char *sts_action_name(enum sts_action action)
{
	return action == STS_ASSUME_ROLE ? "AssumeRole" : "AssumeRoleWithWebIdentity";
}

/* sts_endpoint - AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, or the regional endpoint */
void sts_endpoint(char *url, size_t urllen, char *region, size_t regionlen)
{
	const char *r = getenv("AWS_REGION"), *u = NULL;

	if (r == NULL || *r == 0)
		r = getenv("AWS_DEFAULT_REGION");
	if (r == NULL || *r == 0)
		r = STS_DEFAULT_REGION;
	snprintf(region, regionlen, "%s", r);
	if (!cred_env_flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		u = getenv("AWS_ENDPOINT_URL_STS");
		if (u == NULL || *u == 0)
			u = getenv("AWS_ENDPOINT_URL");
	}
	if (u && *u)
		snprintf(url, urllen, "%s", u);
	else
		snprintf(url, urllen, "https://sts.%s.amazonaws.com%s", region,
			 strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
}

/* form_encode - application/x-www-form-urlencoded, as the SDKs write it */
static void form_encode(struct buf *out, const char *name, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;

	buf_printf(out, "&%s=", name);
	for (; *s; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_' || *s == '.' || *s == '~')
			buf_append_byte(out, *s);
		else
			buf_printf(out, "%%%02X", *s);
	}
}

/* sts_form - Action, Version and the parameters of the action */
int sts_form(const struct sts_request *req, struct buf *out)
{
	if (req->role_arn == NULL || *req->role_arn == 0 || req->session_name == NULL ||
	    *req->session_name == 0)
		return -1;
	buf_printf(out, "Action=%s&Version=" STS_VERSION, sts_action_name(req->action));
	form_encode(out, "RoleArn", req->role_arn);
	form_encode(out, "RoleSessionName", req->session_name);
	if (req->duration_s > 0)
		buf_printf(out, "&DurationSeconds=%ld", req->duration_s);
	if (req->action == STS_ASSUME_ROLE) {
		if (req->source == NULL)
			return -1;
		if (req->external_id && *req->external_id)
			form_encode(out, "ExternalId", req->external_id);
	} else {
		if (req->web_identity_token == NULL || *req->web_identity_token == 0)
			return -1;
		form_encode(out, "WebIdentityToken", req->web_identity_token);
	}
	return out->oom ? -1 : 0;
}

/* sts_session_name - prefix and time, as each SDK names its sessions */
void sts_session_name(int64_t epoch_ms, char out[STS_SESSION_NAME_MAX + 1])
{
	snprintf(out, STS_SESSION_NAME_MAX + 1, "postfix-aws-cassandra-%lld", (long long)epoch_ms);
}

/* answer - parse what STS said and tell the caller */
static void answer(struct sts_call *call, int status, const char *body, size_t len)
{
	static struct sts_xml_answer a;
	char why[STS_REASON_MAX], perr[256];
	const char *action = sts_action_name(call->action);
	enum sts_xml_result rc = sts_xml_parse(action, body, len, &a, perr, sizeof(perr));

	if (status == 200 && rc == STS_XML_CREDS) {
		call->done(call->arg, &a.creds, a.assumed_arn, NULL);
		aws_credentials_wipe(&a.creds);
		return;
	}
	if (rc == STS_XML_ERROR)
		snprintf(why, sizeof(why), "STS %s at %.150s: HTTP %d, %.64s: %.200s", action,
			 call->url, status, a.code, a.message[0] ? a.message : "(no message)");
	else if (status != 200)
		snprintf(why, sizeof(why), "STS %s at %.150s: HTTP %d", action, call->url, status);
	else
		snprintf(why, sizeof(why), "STS %s at %.150s: %.200s", action, call->url, perr);
	aws_credentials_wipe(&a.creds);
	call->done(call->arg, NULL, NULL, why);
}

/* on_done - the answer, or the transport's failure */
static void on_done(void *arg, int status, const char *body, size_t len, const char *err)
{
	struct sts_call *call = arg;
	char why[STS_REASON_MAX];

	if (status > 0) {
		answer(call, status, body, len);
	} else {
		snprintf(why, sizeof(why), "STS %s at %.150s: %s", sts_action_name(call->action),
			 call->url, err);
		call->done(call->arg, NULL, NULL, why);
	}
	free(call);
}

/* sign - the headers of the call (name, value, ...): SigV4 for AssumeRole */
static int sign(const struct sts_request *req, const char *url, const char *region,
		const struct buf *body, char xdate[SIGV4_XAMZDATE_LEN + 1], struct buf *auth,
		const char *hdr[STS_HEADERS_N])
{
	char host[CRED_HTTP_HOST_MAX + 1], path[STS_URL_MAX], hosthdr[CRED_HTTP_HOSTHDR_MAX];
	struct sigv4_http_request hr = { "POST", hosthdr, path, STS_CONTENT_TYPE, body->data,
					 body->len, region, STS_SERVICE };
	struct sigv4_creds sc;
	size_t n = 0;
	int https, port;

	hdr[n++] = "Content-Type";
	hdr[n++] = STS_CONTENT_TYPE;
	hdr[n++] = "Accept";
	hdr[n++] = "text/xml";
	if (req->action == STS_ASSUME_ROLE) {
		if (cred_http_url_split(url, 1, &https, host, sizeof(host), &port, path,
					sizeof(path)) != 0)
			return -1;
		cred_http_host_header(host, port, https, hosthdr);
		sc.access_key_id = req->source->access_key_id;
		sc.secret_access_key = req->source->secret_access_key;
		sc.session_token = req->source->session_token;
		if (sigv4_http_sign(&sc, &hr, aws_now_ms(), xdate, auth) != 0)
			return -1;
		buf_append_byte(auth, 0);
		hdr[n++] = "X-Amz-Date";
		hdr[n++] = xdate;
		hdr[n++] = "Authorization";
		hdr[n++] = (const char *)auth->data;
		if (sc.session_token[0]) {
			hdr[n++] = "X-Amz-Security-Token";
			hdr[n++] = sc.session_token;
		}
	}
	hdr[n] = NULL;
	return 0;
}

/* sts_call_start - one call to STS */
struct sts_call *sts_call_start(struct event_base *base, struct evdns_base *dns,
				const struct sts_request *req, sts_done_fn done, void *arg,
				char *err, size_t errlen)
{
	char host[CRED_HTTP_HOST_MAX + 1], path[STS_URL_MAX], region[AWS_REGION_MAX + 1];
	char xdate[SIGV4_XAMZDATE_LEN + 1], terr[CRED_HTTP_ERR_MAX];
	const char *hdr[STS_HEADERS_N];
	struct cred_http_request rq = { CRED_HTTP_POST, NULL, 1, hdr, NULL, 0, STS_TIMEOUT_MS,
					STS_XML_MAX };
	struct sts_call *call;
	struct buf body, auth;
	int https, port;

	if ((call = calloc(1, sizeof(*call))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	call->action = req->action;
	call->done = done;
	call->arg = arg;
	sts_endpoint(call->url, sizeof(call->url), region, sizeof(region));
	rq.url = call->url;
	/* The query would have to be signed: STS endpoints have none. */
	if (cred_http_url_split(call->url, 1, &https, host, sizeof(host), &port, path,
				sizeof(path)) != 0 || strchr(path, '?')) {
		snprintf(err, errlen, "STS endpoint %.300s is not an https://host[:port][/path] URL",
			 call->url);
		free(call);
		return NULL;
	}
	buf_init(&body);
	buf_init(&auth);
	if (sts_form(req, &body) != 0) {
		snprintf(err, errlen, "STS %s: incomplete request", sts_action_name(req->action));
		goto fail;
	}
	if (sign(req, call->url, region, &body, xdate, &auth, hdr) != 0) {
		snprintf(err, errlen, "STS AssumeRole: the source credentials cannot sign a request");
		goto fail;
	}
	rq.body = body.data;
	rq.body_len = body.len;
	if ((call->http = cred_http_start(base, dns, &rq, on_done, call, terr, sizeof(terr))) == NULL)
		snprintf(err, errlen, "STS %s at %.150s: %s", sts_action_name(req->action), call->url,
			 terr);
fail:
	OPENSSL_cleanse(body.data, body.cap);	/* holds the web identity token */
	buf_free(&body);
	buf_free(&auth);
	if (call->http)
		return call;
	free(call);
	return NULL;
}

/* sts_call_cancel - drop a call; its callback is not called */
void sts_call_cancel(struct sts_call *call)
{
	if (call == NULL)
		return;
	cred_http_cancel(call->http);	/* on_done is not called: call is ours to free */
	free(call);
}
