/*
 * sts - AWS STS calls on the event loop (see sts.h)
 *
 * The TLS side reuses the CQL connections' helpers (cql_tls.c: SNI and
 * the host or address to verify, the reason a handshake failed): one way
 * to set up a verified client connection in this program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cql/cql_tls.h"
#include "aws/cred_provider.h"
#include "aws/sigv4.h"
#include "aws/sts.h"
#include "aws/sts_xml.h"

#define STS_VERSION		"2011-06-15"
#define STS_SERVICE		"sts"
#define STS_DEFAULT_REGION	"us-east-1"
#define STS_CONTENT_TYPE	"application/x-www-form-urlencoded; charset=utf-8"
#define STS_HEADERS_MAX		16384	/* bytes of answer headers */
#define STS_HOST_MAX		256	/* bytes in a host name */
#define STS_REASON_MAX		480	/* bytes of a failure reason */

struct sts_call {
	struct event_base *base;
	struct evhttp_connection *conn;
	SSL *ssl;			/* owned by the connection's bufferevent; NULL: http */
	enum sts_action action;
	sts_done_fn done;
	void *arg;
	char url[STS_URL_MAX];
	enum evhttp_request_error error;
	int have_error;
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

/* free_later - release the connection once evhttp is done with it */
static void free_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evhttp_connection_free(arg);
}

/* on_error - remember why the request failed */
static void on_error(enum evhttp_request_error e, void *arg)
{
	struct sts_call *call = arg;

	call->error = e;
	call->have_error = 1;
}

/* transport_error - why there is no HTTP answer, TLS verification first */
static void transport_error(struct sts_call *call, char *out, size_t len)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(call->conn);
	unsigned long oe = call->ssl && bev ? bufferevent_get_openssl_error(bev) : 0;

	if (call->ssl && (oe != 0 || SSL_get_verify_result(call->ssl) != X509_V_OK)) {
		cql_tls_error(call->ssl, oe, out, len);
		return;
	}
	switch (call->have_error ? call->error : EVREQ_HTTP_EOF) {
	case EVREQ_HTTP_TIMEOUT:
		snprintf(out, len, "timed out after %d ms", STS_TIMEOUT_MS);
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		snprintf(out, len, "answer over %d bytes", STS_XML_MAX);
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		snprintf(out, len, "invalid HTTP answer");
		break;
	case EVREQ_HTTP_BUFFER_ERROR:
		snprintf(out, len, "connection refused or I/O error");
		break;
	default:
		snprintf(out, len, "connection closed before an answer");
	}
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

/* on_done - the answer, or the failure */
static void on_done(struct evhttp_request *req, void *arg)
{
	struct sts_call *call = arg;
	struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) : NULL;
	int status = req ? evhttp_request_get_response_code(req) : 0;
	struct timeval zero = { 0, 0 };
	char why[STS_REASON_MAX], terr[256];
	char *body = NULL;
	size_t len = 0;

	if (status > 0 && in && (len = evbuffer_get_length(in)) <= STS_XML_MAX &&
	    (body = malloc(len + 1)) != NULL) {
		evbuffer_remove(in, body, len);
		body[len] = 0;
		answer(call, status, body, len);
		OPENSSL_cleanse(body, len);
		free(body);
	} else {
		if (status > 0)
			snprintf(terr, sizeof(terr), "HTTP %d with an answer over %d bytes", status,
				 STS_XML_MAX);
		else
			transport_error(call, terr, sizeof(terr));
		snprintf(why, sizeof(why), "STS %s at %.150s: %s", sts_action_name(call->action),
			 call->url, terr);
		call->done(call->arg, NULL, NULL, why);
	}
	if (event_base_once(call->base, -1, EV_TIMEOUT, free_later, call->conn, &zero) != 0)
		evhttp_connection_free(call->conn);	/* last resort */
	free(call);
}

/* tls_context - a client context verifying against AWS_CA_BUNDLE or the system CAs */
static SSL_CTX *tls_context(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	const char *bundle = getenv("AWS_CA_BUNDLE");
	char why[256];
	int ok;

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ok = bundle && *bundle ? SSL_CTX_load_verify_locations(ctx, bundle, NULL)
			       : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
		ERR_clear_error();
		snprintf(err, errlen, "%s%.200s: %s", bundle && *bundle ? "AWS_CA_BUNDLE=" : "",
			 bundle && *bundle ? bundle : "the system CA bundle", why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* connect_to - an evhttp connection to host:port, over verified TLS for https */
static int connect_to(struct sts_call *call, struct evdns_base *dns, int https, const char *host,
		      int port, char *err, size_t errlen)
{
	struct bufferevent *bev = NULL;
	SSL_CTX *ctx;

	if (https) {
		if ((ctx = tls_context(err, errlen)) == NULL)
			return -1;
		call->ssl = cql_tls_new_ssl(ctx, host, 1);
		SSL_CTX_free(ctx);		/* the SSL holds its own reference */
		if (call->ssl == NULL) {
			snprintf(err, errlen, "cannot set up TLS for %.200s", host);
			return -1;
		}
		bev = bufferevent_openssl_socket_new(call->base, -1, call->ssl,
						     BUFFEREVENT_SSL_CONNECTING,
						     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(call->ssl);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		/* STS closes without close_notify at times; the body length decides. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	}
	call->conn = evhttp_connection_base_bufferevent_new(call->base, dns, bev, host,
							    (unsigned short)port);
	if (call->conn == NULL) {
		if (bev)
			bufferevent_free(bev);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* split_url - scheme, host, port and path of the endpoint */
static int split_url(const char *url, int *https, char *host, size_t hostlen, int *port,
		     char *path, size_t pathlen)
{
	struct evhttp_uri *u = evhttp_uri_parse(url);
	const char *scheme, *h, *p;
	int rc = -1;

	if (u == NULL)
		return -1;
	scheme = evhttp_uri_get_scheme(u);
	h = evhttp_uri_get_host(u);
	p = evhttp_uri_get_path(u);
	if (scheme && (strcasecmp(scheme, "https") == 0 || strcasecmp(scheme, "http") == 0) &&
	    h && *h && strlen(h) < hostlen && evhttp_uri_get_query(u) == NULL &&
	    evhttp_uri_get_userinfo(u) == NULL) {
		*https = strcasecmp(scheme, "https") == 0;
		if (h[0] == '[' && h[strlen(h) - 1] == ']')
			snprintf(host, hostlen, "%.*s", (int)strlen(h) - 2, h + 1);
		else
			snprintf(host, hostlen, "%s", h);
		*port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : *https ? 443 : 80;
		if ((size_t)snprintf(path, pathlen, "%s", p && *p ? p : "/") < pathlen)
			rc = 0;
	}
	evhttp_uri_free(u);
	return rc;
}

/* add_headers - Host, Content-Type and, for AssumeRole, the SigV4 headers */
static int add_headers(struct evkeyvalq *out, const struct sts_request *req, const char *hosthdr,
		       const char *path, const char *region, const struct buf *body)
{
	struct sigv4_creds sc;
	struct sigv4_http_request hr = { "POST", hosthdr, path, STS_CONTENT_TYPE, body->data,
					 body->len, region, STS_SERVICE };
	char xdate[SIGV4_XAMZDATE_LEN + 1];
	struct buf auth;
	int rc = 0;

	evhttp_add_header(out, "Host", hosthdr);
	evhttp_add_header(out, "Content-Type", STS_CONTENT_TYPE);
	evhttp_add_header(out, "Accept", "text/xml");
	evhttp_add_header(out, "Connection", "close");
	if (req->action != STS_ASSUME_ROLE)
		return 0;
	sc.access_key_id = req->source->access_key_id;
	sc.secret_access_key = req->source->secret_access_key;
	sc.session_token = req->source->session_token;
	buf_init(&auth);
	if (sigv4_http_sign(&sc, &hr, aws_now_ms(), xdate, &auth) != 0) {
		rc = -1;
	} else {
		buf_append_byte(&auth, 0);
		evhttp_add_header(out, "X-Amz-Date", xdate);
		evhttp_add_header(out, "Authorization", (const char *)auth.data);
		if (sc.session_token[0])
			evhttp_add_header(out, "X-Amz-Security-Token", sc.session_token);
	}
	buf_free(&auth);
	return rc;
}

/* sts_call_start - one call to STS */
struct sts_call *sts_call_start(struct event_base *base, struct evdns_base *dns,
				const struct sts_request *req, sts_done_fn done, void *arg,
				char *err, size_t errlen)
{
	char host[STS_HOST_MAX], path[STS_URL_MAX], hosthdr[STS_HOST_MAX + 16];
	char region[AWS_REGION_MAX + 1];
	struct timeval tv = { STS_TIMEOUT_MS / 1000, (STS_TIMEOUT_MS % 1000) * 1000 };
	struct evhttp_request *r;
	struct sts_call *call;
	struct buf body;
	int https, port;

	if ((call = calloc(1, sizeof(*call))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	call->base = base;
	call->action = req->action;
	call->done = done;
	call->arg = arg;
	sts_endpoint(call->url, sizeof(call->url), region, sizeof(region));
	if (split_url(call->url, &https, host, sizeof(host), &port, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "STS endpoint %.300s is not an https://host[:port][/path] URL",
			 call->url);
		free(call);
		return NULL;
	}
	buf_init(&body);
	if (sts_form(req, &body) != 0) {
		snprintf(err, errlen, "STS %s: incomplete request", sts_action_name(req->action));
		goto fail;
	}
	if (connect_to(call, dns, https, host, port, err, errlen) != 0)
		goto fail;
	evhttp_connection_set_timeout_tv(call->conn, &tv);
	evhttp_connection_set_retries(call->conn, 0);
	evhttp_connection_set_max_body_size(call->conn, STS_XML_MAX);
	evhttp_connection_set_max_headers_size(call->conn, STS_HEADERS_MAX);
	if ((r = evhttp_request_new(on_done, call)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail_conn;
	}
	evhttp_request_set_error_cb(r, on_error);
	snprintf(hosthdr, sizeof(hosthdr), "%s%s%s%s%.0d", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", port != (https ? 443 : 80) ? ":" : "",
		 port != (https ? 443 : 80) ? port : 0);
	if (add_headers(evhttp_request_get_output_headers(r), req, hosthdr, path, region,
			&body) != 0) {
		snprintf(err, errlen, "STS AssumeRole: the source credentials cannot sign a request");
		evhttp_request_free(r);
		goto fail_conn;
	}
	evbuffer_add(evhttp_request_get_output_buffer(r), body.data, body.len);
	if (evhttp_make_request(call->conn, r, EVHTTP_REQ_POST, path) != 0) {
		snprintf(err, errlen, "cannot send the STS request");	/* evhttp freed r */
		goto fail_conn;
	}
	OPENSSL_cleanse(body.data, body.cap);	/* holds the web identity token */
	buf_free(&body);
	return call;
fail_conn:
	evhttp_connection_free(call->conn);
fail:
	if (body.data)
		OPENSSL_cleanse(body.data, body.cap);
	buf_free(&body);
	free(call);
	return NULL;
}

/* sts_call_cancel - drop a call; its callback is not called */
void sts_call_cancel(struct sts_call *call)
{
	if (call == NULL)
		return;
	evhttp_connection_free(call->conn);
	free(call);
}
