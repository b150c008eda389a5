/*
 * cred_http - one HTTP(S) request to an AWS endpoint (see cred_http.h)
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
#include "aws/cred_http.h"

struct cred_http {
	struct event_base *base;
	struct evhttp_connection *conn;
	SSL *ssl;			/* owned by the connection's bufferevent; NULL: http */
	cred_http_fn cb;
	void *arg;
	int timeout_ms;
	size_t answer_max;
	enum evhttp_request_error error;
	int have_error;
};

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
	struct cred_http *h = arg;

	h->error = e;
	h->have_error = 1;
}

/* transport_error - why there is no HTTP answer, TLS verification first */
static void transport_error(struct cred_http *h, char *out, size_t len)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(h->conn);
	unsigned long oe = h->ssl && bev ? bufferevent_get_openssl_error(bev) : 0;

	if (h->ssl && (oe != 0 || SSL_get_verify_result(h->ssl) != X509_V_OK)) {
		cql_tls_error(h->ssl, oe, out, len);
		return;
	}
	switch (h->have_error ? h->error : EVREQ_HTTP_EOF) {
	case EVREQ_HTTP_TIMEOUT:
		snprintf(out, len, "timed out after %d ms", h->timeout_ms);
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		snprintf(out, len, "answer over %zu bytes", h->answer_max);
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		snprintf(out, len, "invalid HTTP answer");
		break;
	case EVREQ_HTTP_BUFFER_ERROR:
		snprintf(out, len, "connection refused or I/O error");
		break;
	case EVREQ_HTTP_REQUEST_CANCEL:
		snprintf(out, len, "cancelled");
		break;
	default:
		snprintf(out, len, "connection closed before an answer");
	}
}

/* on_done - the answer, or the failure */
static void on_done(struct evhttp_request *req, void *arg)
{
	struct cred_http *h = arg;
	struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) : NULL;
	int status = req ? evhttp_request_get_response_code(req) : 0;
	struct timeval zero = { 0, 0 };
	char err[CRED_HTTP_ERR_MAX];
	char *body = NULL;
	size_t len = in ? evbuffer_get_length(in) : 0;

	if (status <= 0) {
		transport_error(h, err, sizeof(err));
		status = 0;
	} else if (len > h->answer_max) {
		snprintf(err, sizeof(err), "HTTP %d with an answer over %zu bytes", status,
			 h->answer_max);
		status = 0;
	} else if ((body = malloc(len + 1)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		status = 0;
	} else {
		if (len > 0)
			evbuffer_remove(in, body, len);
		body[len] = 0;
	}
	if (status > 0) {
		h->cb(h->arg, status, body, len, NULL);
		OPENSSL_cleanse(body, len);	/* credentials, tokens */
	} else {
		h->cb(h->arg, 0, "", 0, err);
	}
	free(body);
	if (event_base_once(h->base, -1, EV_TIMEOUT, free_later, h->conn, &zero) != 0)
		evhttp_connection_free(h->conn);	/* last resort */
	free(h);
}

/* cred_http_url_split - http[s]://host[:port]/path[?query] */
int cred_http_url_split(const char *url, int allow_https, int *https, char *host,
			size_t hostlen, int *port, char *path, size_t pathlen)
{
	struct evhttp_uri *u = evhttp_uri_parse(url);
	const char *scheme, *hst, *pth, *q;
	int rc = -1;

	if (u == NULL)
		return -1;
	scheme = evhttp_uri_get_scheme(u);
	hst = evhttp_uri_get_host(u);
	pth = evhttp_uri_get_path(u);
	q = evhttp_uri_get_query(u);
	*https = scheme && strcasecmp(scheme, "https") == 0;
	if (scheme && (strcasecmp(scheme, "http") == 0 || (*https && allow_https)) &&
	    hst && *hst && strlen(hst) < hostlen && evhttp_uri_get_userinfo(u) == NULL) {
		/* evhttp keeps the brackets of an IPv6 literal. */
		if (hst[0] == '[' && hst[strlen(hst) - 1] == ']')
			snprintf(host, hostlen, "%.*s", (int)strlen(hst) - 2, hst + 1);
		else
			snprintf(host, hostlen, "%s", hst);
		*port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : *https ? 443 : 80;
		if ((size_t)snprintf(path, pathlen, "%s%s%s", pth && *pth ? pth : "/",
				     q ? "?" : "", q ? q : "") < pathlen)
			rc = 0;
	}
	evhttp_uri_free(u);
	return rc;
}

/* cred_http_host_header - "host", "[v6]", with ":port" unless the default */
void cred_http_host_header(const char *host, int port, int https,
			   char out[CRED_HTTP_HOSTHDR_MAX])
{
	int v6 = strchr(host, ':') != NULL, dflt = port == (https ? 443 : 80);

	snprintf(out, CRED_HTTP_HOSTHDR_MAX, "%s%.*s%s%s%.0d", v6 ? "[" : "",
		 CRED_HTTP_HOST_MAX, host, v6 ? "]" : "", dflt ? "" : ":", dflt ? 0 : port);
}

/* tls_context - a client context verifying against AWS_CA_BUNDLE or the system CAs */
static SSL_CTX *tls_context(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	const char *bundle = getenv("AWS_CA_BUNDLE");
	char why[CRED_HTTP_ERR_MAX];
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
static int connect_to(struct cred_http *h, struct evdns_base *dns, int https, const char *host,
		      int port, char *err, size_t errlen)
{
	struct bufferevent *bev = NULL;
	SSL_CTX *ctx;

	if (https) {
		if ((ctx = tls_context(err, errlen)) == NULL)
			return -1;
		h->ssl = cql_tls_new_ssl(ctx, host, 1);
		SSL_CTX_free(ctx);		/* the SSL holds its own reference */
		if (h->ssl == NULL) {
			snprintf(err, errlen, "cannot set up TLS for %.200s", host);
			return -1;
		}
		bev = bufferevent_openssl_socket_new(h->base, -1, h->ssl,
						     BUFFEREVENT_SSL_CONNECTING,
						     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(h->ssl);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		/* AWS endpoints close without close_notify at times; the body length decides. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	}
	h->conn = evhttp_connection_base_bufferevent_new(h->base, dns, bev, host,
							 (unsigned short)port);
	if (h->conn == NULL) {
		if (bev)
			bufferevent_free(bev);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* add_headers - Host, Connection: close, then the caller's */
static void add_headers(struct evhttp_request *r, const char *host, int port, int https,
			const char *const *headers)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r);
	char hosthdr[CRED_HTTP_HOSTHDR_MAX];
	size_t i;

	cred_http_host_header(host, port, https, hosthdr);
	evhttp_add_header(out, "Host", hosthdr);
	evhttp_add_header(out, "Connection", "close");
	for (i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		evhttp_add_header(out, headers[i], headers[i + 1]);
}

/* cred_http_start - send one request */
struct cred_http *cred_http_start(struct event_base *base, struct evdns_base *dns,
				  const struct cred_http_request *rq, cred_http_fn cb, void *arg,
				  char *err, size_t errlen)
{
	static const enum evhttp_cmd_type cmd[] = {
		[CRED_HTTP_GET] = EVHTTP_REQ_GET, [CRED_HTTP_PUT] = EVHTTP_REQ_PUT,
		[CRED_HTTP_POST] = EVHTTP_REQ_POST,
	};
	char host[CRED_HTTP_HOST_MAX + 1], path[CRED_HTTP_URL_MAX];
	struct timeval tv = { rq->timeout_ms / 1000, (rq->timeout_ms % 1000) * 1000 };
	struct evhttp_request *r;
	struct cred_http *h;
	int https, port;

	if (cred_http_url_split(rq->url, rq->allow_https, &https, host, sizeof(host), &port, path,
				sizeof(path)) != 0) {
		snprintf(err, errlen, "not an %s://host[:port]/path URL",
			 rq->allow_https ? "http[s]" : "http");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	h->cb = cb;
	h->arg = arg;
	h->timeout_ms = rq->timeout_ms;
	h->answer_max = rq->answer_max ? rq->answer_max : CRED_HTTP_BODY_MAX;
	if (connect_to(h, dns, https, host, port, err, errlen) != 0) {
		free(h);
		return NULL;
	}
	evhttp_connection_set_timeout_tv(h->conn, &tv);
	evhttp_connection_set_retries(h->conn, 0);
	evhttp_connection_set_max_body_size(h->conn, (ev_ssize_t)h->answer_max);
	evhttp_connection_set_max_headers_size(h->conn, CRED_HTTP_HEADERS_MAX);
	if ((r = evhttp_request_new(on_done, h)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	evhttp_request_set_error_cb(r, on_error);
	add_headers(r, host, port, https, rq->headers);
	if (rq->body)
		evbuffer_add(evhttp_request_get_output_buffer(r), rq->body, rq->body_len);
	if (evhttp_make_request(h->conn, r, cmd[rq->method], path) != 0) {
		snprintf(err, errlen, "cannot send the request");	/* evhttp freed r */
		goto fail;
	}
	return h;
fail:
	evhttp_connection_free(h->conn);
	free(h);
	return NULL;
}

/* cred_http_cancel - drop a request in flight without a callback */
void cred_http_cancel(struct cred_http *h)
{
	if (h) {
		/* Freeing the connection frees its requests without calling them back. */
		evhttp_connection_free(h->conn);
		free(h);
	}
}
